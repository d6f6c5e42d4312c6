// Shared by the workflow tests: a real worker (real activities on an embedded store in a temp dir) on a
// task queue of the test file's own, and readers for what the store holds.

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Client, Connection } from "@temporalio/client";
import { DefaultLogger, NativeConnection, Runtime, type Worker, type WorkerOptions } from "@temporalio/worker";
import type { EventStore, RecordedEvent } from "../../services/event-store/port.ts";
import { createSqliteEventStore } from "../../services/event-store/sqlite/sqlite-event-store.ts";
import type { FeatureEvent } from "../../services/feature/events.ts";
import { evolveFeature, type FeatureState } from "../../services/feature/feature.ts";
import type { ReleaseEvent } from "../../services/release/events.ts";
import { evolve, type ReleaseState } from "../../services/release/release.ts";
import { releaseState, releaseWorkflowId } from "../../workflows/release-messages.workflow.ts";
import { createReleaseWorker } from "../../workflows/worker.ts";

let runtimeInstalled = false;

/** The SDK logs only warnings and errors in tests (once per test process, before any worker). */
export function quietTemporalLogs(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger("WARN") });
  } catch {
    // Already installed in this process: keep it.
  }
}

export interface WorkerHarness {
  store: EventStore;
  client: Client;
  worker: Worker;
  taskQueue: string;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * A worker with its own task queue and store, on the server at `address` or on a test environment's
 * connections; `close()` shuts everything down.
 */
export async function startWorkerHarness(
  options: { bundle: { code: string }; workerOptions?: Partial<WorkerOptions> } & (
    | { address: string }
    | { nativeConnection: NativeConnection; client: Client }
  ),
): Promise<WorkerHarness> {
  quietTemporalLogs();
  const dataDir = mkdtempSync(join(tmpdir(), "release-workflows-"));
  const store = createSqliteEventStore({ path: join(dataDir, "events.sqlite") });
  const taskQueue = `releases-test-${randomUUID()}`;
  const owned = "address" in options;
  const nativeConnection = owned
    ? await NativeConnection.connect({ address: options.address })
    : options.nativeConnection;
  const connection = owned ? await Connection.connect({ address: options.address }) : undefined;
  const client = owned ? new Client({ connection }) : options.client;
  const worker = await createReleaseWorker({
    connection: nativeConnection,
    store,
    bundle: options.bundle,
    taskQueue,
    workerOptions: options.workerOptions,
  });
  const running = worker.run();
  return {
    store,
    client,
    worker,
    taskQueue,
    dataDir,
    async close() {
      if (worker.getState() === "RUNNING") worker.shutdown();
      await running;
      if (owned) {
        await connection?.close();
        await nativeConnection.close();
      }
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const releaseEvents = (store: EventStore, releaseId: string): Promise<RecordedEvent[]> =>
  store.readStream(`release-${releaseId}`);

export const featureEvents = (store: EventStore, featureId: string): Promise<RecordedEvent[]> =>
  store.readStream(`feature-${featureId}`);

export const typesOf = (events: RecordedEvent[]): string[] => events.map((event) => event.type);

/** The release as its stored events build it (the same evolve the workflow and read models use). */
export const foldRelease = (events: RecordedEvent[]): ReleaseState =>
  events.reduce<ReleaseState>((state, event) => evolve(state, event as unknown as ReleaseEvent), null);

export const foldFeature = (events: RecordedEvent[]): FeatureState =>
  events.reduce<FeatureState>((state, event) => evolveFeature(state, event as unknown as FeatureEvent), null);

/** Polls the store until `until` holds for the release's events (or fails after `timeoutMs`). */
export async function waitForReleaseEvents(
  store: EventStore,
  releaseId: string,
  until: (events: RecordedEvent[]) => boolean,
  timeoutMs = 15_000,
): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await releaseEvents(store, releaseId);
    if (until(events)) return events;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for release ${releaseId}; stored: ${typesOf(events).join(", ")}`);
    }
    await sleep(25);
  }
}

/** Ids stored more than once (must be empty). */
export function duplicateIds(events: RecordedEvent[]): string[] {
  const seen = new Set<string>();
  return events.filter((event) => seen.size === seen.add(event.id).size).map((event) => event.id);
}

/** The data of a stored event that must be there. */
export function dataOf<T>(event: RecordedEvent | undefined): T {
  if (event === undefined) throw new Error("expected an event, found none");
  return event.data as T;
}

/** The release as its running workflow holds it (null while it loads). */
export async function queryReleaseState(client: Client, releaseId: string): Promise<ReleaseState> {
  return client.workflow.getHandle(releaseWorkflowId(releaseId)).query(releaseState);
}

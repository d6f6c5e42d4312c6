// A release keeps going, exactly once, through crashes: the worker process is killed with SIGKILL
// mid-bake and restarted; the Temporal server is killed with SIGKILL mid-bake and restarted on the same
// database file and port. Each time the release completes on time and every event is stored once.

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Client, Connection } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordedEvent } from "../../services/event-store/port.ts";
import { createSqliteEventStore, type SqliteEventStore } from "../../services/event-store/sqlite/sqlite-event-store.ts";
import { startReleaseWorkflow } from "../../workflows/client.ts";
import { seedRelease } from "../../workflows/testing/seed-release.ts";
import { buildWorkflowBundle } from "../../workflows/worker.ts";
import { type DevServer, startFileBackedDevServer } from "../setup/temporal.ts";
import { type ChildWorker, startChildWorker } from "./child-worker.ts";
import { dataOf, duplicateIds, featureEvents, releaseEvents, typesOf, waitForReleaseEvents } from "./helpers.ts";

const BAKE_MS = 5_000;
/**
 * How late a step may be after its timer ends with a crash in between: after a worker crash the task
 * waits out the dead worker's sticky queue (3 s, set in createReleaseWorker) before the new one gets it.
 */
const ON_TIME_MS = 5_000;

let dir: string;
let server: DevServer;
let worker: ChildWorker | undefined;
let store: SqliteEventStore;
let connection: Connection;
let client: Client;
let bundlePath: string;
const taskQueue = `releases-durability-${randomUUID()}`;

const startWorker = async (): Promise<ChildWorker> =>
  startChildWorker({ temporalAddress: server.address, dataDir: join(dir, "data"), taskQueue, bundlePath });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "release-durability-"));
  bundlePath = join(dir, "workflow-bundle.js");
  writeFileSync(bundlePath, (await buildWorkflowBundle()).code);
  server = await startFileBackedDevServer({ dbFilename: join(dir, "temporal.db") });
  worker = await startWorker();
  // The same embedded store file the worker process writes to.
  store = createSqliteEventStore({ path: join(dir, "data", "events.sqlite") });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
});

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await store?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const EXPECTED = [
  "ReleaseStarted",
  "ReleasePhaseWaitStarted",
  "ReleasePhaseRolledOut",
  "ReleasePhaseWaitStarted",
  "ReleasePhaseRolledOut",
  "ReleaseCompleted",
];

/** Every bake ended on time: the step after each WaitStarted came at its endsAt, not before, not much after. */
function expectOnTime(stored: RecordedEvent[]): void {
  for (const [index, event] of stored.entries()) {
    if (event.type !== "ReleasePhaseWaitStarted") continue;
    const endsAt = Date.parse(dataOf<{ endsAt: string }>(event).endsAt);
    const next = Date.parse(dataOf<{ at: string }>(stored[index + 1]).at);
    expect(next).toBeGreaterThanOrEqual(endsAt);
    expect(next - endsAt).toBeLessThan(ON_TIME_MS);
  }
}

async function expectExactlyOnce(releaseId: string, featureId: string): Promise<void> {
  const stored = await releaseEvents(store, releaseId);
  expect(typesOf(stored)).toEqual(EXPECTED);
  expect(duplicateIds(stored)).toEqual([]);
  expectOnTime(stored);
  const feature = await featureEvents(store, featureId);
  expect(duplicateIds(feature)).toEqual([]);
  expect(feature.map((e) => `${e.type}:${(e.data as { cause?: string }).cause ?? ""}`)).toEqual([
    "FeatureCreated:",
    "FeatureReleaseStarted:",
    "FeatureUpdated:ROLLOUT",
    "FeatureUpdated:ROLLOUT",
    "FeatureReleaseEnded:",
  ]);
}

async function startDurableRelease(): Promise<{ releaseId: string; featureId: string }> {
  const { releaseId, featureId } = await seedRelease(store, {
    phases: [
      { environment: "development", waitMs: BAKE_MS },
      { environment: "production", waitMs: 1_000 },
    ],
  });
  await startReleaseWorkflow(client, releaseId, { taskQueue });
  await waitForReleaseEvents(store, releaseId, (events) => events.length >= 2);
  return { releaseId, featureId };
}

describe("durability", () => {
  it("survives kill -9 of the worker mid-bake: completes on time, every event once", async () => {
    const { releaseId, featureId } = await startDurableRelease();
    await sleep(1_000);
    await worker?.kill();
    await sleep(500);
    worker = await startWorker();
    const final = await client.workflow.getHandle(`release-${releaseId}`).result();
    expect(final.status).toBe("COMPLETED");
    await expectExactlyOnce(releaseId, featureId);
  }, 60_000);

  it("survives kill -9 of the Temporal server mid-bake, restarted on the same database file and port", async () => {
    const { releaseId, featureId } = await startDurableRelease();
    await sleep(500);
    const { dbFilename, port } = server;
    await server.kill();
    await sleep(500);
    server = await startFileBackedDevServer({ dbFilename, port });
    const final = await client.workflow.getHandle(`release-${releaseId}`).result();
    expect(final.status).toBe("COMPLETED");
    await expectExactlyOnce(releaseId, featureId);
  }, 60_000);

  it("heals a release whose workflow was never started (the API died after storing ReleaseStarted) at worker start", async () => {
    const { releaseId, featureId } = await seedRelease(store, {
      phases: [
        { environment: "development", waitMs: 1_000 },
        { environment: "production", waitMs: 1_000 },
      ],
    });
    // Graceful stop (SIGTERM) exits cleanly; the new worker reconciles at start.
    expect(await worker?.stop()).toBe(0);
    worker = await startWorker();
    const final = await client.workflow.getHandle(`release-${releaseId}`).result();
    expect(final.status).toBe("COMPLETED");
    await expectExactlyOnce(releaseId, featureId);
  }, 60_000);
});

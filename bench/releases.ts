// Release workflows benchmark: `npm run bench:releases` (RELEASES=200 by default).
// Starts its own Temporal dev server (or uses TEMPORAL_ADDRESS) and one in-process worker on an embedded
// store in a temp dir (or EventStoreDB with EVENTSTORE_CONNECTION_STRING), then runs RELEASES releases at
// once through a three-phase pipeline: a one-second bake, an approval, a one-second bake. Each approval is
// sent as an Update the moment the store holds its ReleaseApprovalRequested (a catch-up subscription), and
// its round trip is measured. At the end every release's and feature's stream is checked against the exact
// expected events: lost and duplicated events must both be 0.
// The last line is one JSON object with the numbers.

import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Client, Connection } from "@temporalio/client";
import { DefaultLogger, NativeConnection, Runtime } from "@temporalio/worker";
import { streamId, streams } from "../services/core/streams.ts";
import { createEventStore } from "../services/event-store/create-event-store.ts";
import type { EventStore, RecordedEvent } from "../services/event-store/port.ts";
import { createLogger } from "../services/platform/logger.ts";
import { startTemporalDevServer } from "../services/platform/temporal-dev-server.ts";
import { runReleaseAction, startReleaseWorkflow } from "../workflows/client.ts";
import { seedRelease } from "../workflows/testing/seed-release.ts";
import { buildWorkflowBundle, createReleaseWorker } from "../workflows/worker.ts";

const RELEASES = Number(process.env.RELEASES ?? 200);
const BAKE_MS = 1_000;

const EXPECTED_RELEASE = [
  "ReleaseStarted",
  "ReleasePhaseWaitStarted",
  "ReleasePhaseRolledOut",
  "ReleaseApprovalRequested",
  "ReleasePhaseApproved",
  "ReleasePhaseRolledOut",
  "ReleasePhaseWaitStarted",
  "ReleasePhaseRolledOut",
  "ReleaseCompleted",
];
const EXPECTED_FEATURE = [
  "FeatureCreated",
  "FeatureReleaseStarted",
  "FeatureUpdated",
  "FeatureUpdated",
  "FeatureUpdated",
  "FeatureReleaseEnded",
];

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** Lost: expected events missing; duplicated: events beyond the expected ones (by type), or ids stored twice. */
function compare(expected: string[], events: RecordedEvent[]): { lost: number; duplicated: number } {
  const counts = new Map<string, number>();
  for (const type of expected) counts.set(type, (counts.get(type) ?? 0) + 1);
  let duplicated = 0;
  for (const event of events) {
    const left = counts.get(event.type) ?? 0;
    if (left === 0) duplicated++;
    else counts.set(event.type, left - 1);
  }
  duplicated += events.length - new Set(events.map((event) => event.id)).size;
  const lost = [...counts.values()].reduce((sum, n) => sum + n, 0);
  return { lost, duplicated };
}

async function main(): Promise<void> {
  if (!Number.isInteger(RELEASES) || RELEASES < 1)
    throw new Error(`RELEASES must be a positive integer, got ${RELEASES}`);
  Runtime.install({ logger: new DefaultLogger("WARN") });
  const dir = await mkdtemp(join(tmpdir(), "bench-releases-"));
  const configured = process.env.TEMPORAL_ADDRESS;
  const server =
    configured === undefined || configured === ""
      ? await startTemporalDevServer({ dbFilename: join(dir, "temporal.db") })
      : undefined;
  const address = server?.address ?? configured ?? "";
  const store: EventStore = await createEventStore({ dataDir: join(dir, "data") });
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const taskQueue = `bench-releases-${randomUUID()}`;
  const worker = await createReleaseWorker({
    connection: nativeConnection,
    store,
    bundle: await buildWorkflowBundle(),
    taskQueue,
    logger: createLogger("worker", { level: "warn" }),
  });
  const running = worker.run();

  try {
    console.log(`bench:releases — ${RELEASES} releases, 3 phases (bake ${BAKE_MS} ms, approval, bake ${BAKE_MS} ms)`);
    console.log(`temporal ${address}${server ? " (own dev server)" : ""}, store ${dir}`);
    const seeded = [];
    for (let i = 0; i < RELEASES; i++) {
      seeded.push(
        await seedRelease(store, {
          phases: [
            { environment: "development", waitMs: BAKE_MS },
            { environment: "staging", approvals: 1 },
            { environment: "production", waitMs: BAKE_MS },
          ],
        }),
      );
    }
    const ids = new Set(seeded.map((release) => release.releaseId));

    // Approve each release as soon as its approval is awaited, measuring the Update's round trip.
    const updateMs: number[] = [];
    const approvals: Promise<void>[] = [];
    const updateErrors: string[] = [];
    const head = await store.headPosition();
    const subscription = store.subscribeToAll({
      ...(head !== null && { after: head }),
      filter: { streamPrefixes: [streams.release("")], eventTypes: ["ReleaseApprovalRequested"] },
      onEvent: (event) => {
        const releaseId = streamId(event.stream, "release");
        if (releaseId === null) return;
        if (!ids.has(releaseId)) return;
        const started = performance.now();
        approvals.push(
          runReleaseAction(
            client,
            releaseId,
            "approve",
            { actor: { name: "bench-approver", role: "APPROVER" }, phaseIndex: 1 },
            { updateId: `bench-approve-${releaseId}` },
          ).then(
            () => {
              updateMs.push(performance.now() - started);
            },
            (error: unknown) => {
              updateErrors.push(`${releaseId}: ${error instanceof Error ? error.message : String(error)}`);
            },
          ),
        );
      },
    });

    const startedAt = performance.now();
    const handles = await Promise.all(
      seeded.map((release) => startReleaseWorkflow(client, release.releaseId, { taskQueue })),
    );
    const results = await Promise.all(handles.map((handle) => handle.result()));
    const elapsedS = (performance.now() - startedAt) / 1000;
    await Promise.all(approvals);
    await subscription.close();

    let lostEvents = 0;
    let duplicateEvents = 0;
    for (const release of seeded) {
      const releaseCheck = compare(EXPECTED_RELEASE, await store.readStream(`release-${release.releaseId}`));
      const featureCheck = compare(EXPECTED_FEATURE, await store.readStream(`feature-${release.featureId}`));
      lostEvents += releaseCheck.lost + featureCheck.lost;
      duplicateEvents += releaseCheck.duplicated + featureCheck.duplicated;
    }
    const completed = results.filter((release) => release.status === "COMPLETED").length;
    const sorted = [...updateMs].sort((a, b) => a - b);
    const summary = {
      releases: completed,
      releasesPerSec: round(completed / elapsedS, 2),
      updateP50Ms: round(percentile(sorted, 50)),
      updateP99Ms: round(percentile(sorted, 99)),
      lostEvents,
      duplicateEvents,
    };
    console.log(
      `completed ${completed}/${RELEASES} releases in ${round(elapsedS, 2)} s (minimum possible ~${(2 * BAKE_MS) / 1000} s of bakes)`,
    );
    console.log(`throughput ${summary.releasesPerSec} releases/s`);
    console.log(
      `approval Update round trip: p50 ${summary.updateP50Ms} ms, p99 ${summary.updateP99Ms} ms (${sorted.length} updates)`,
    );
    console.log(`events: ${lostEvents} lost, ${duplicateEvents} duplicated`);
    if (updateErrors.length > 0)
      console.log(`update errors (${updateErrors.length}):\n${updateErrors.slice(0, 5).join("\n")}`);
    console.log(JSON.stringify(summary));
    if (completed !== RELEASES || lostEvents !== 0 || duplicateEvents !== 0 || updateErrors.length > 0)
      process.exitCode = 1;
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await nativeConnection.close();
    await store.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

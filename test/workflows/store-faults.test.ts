// Store errors injected under the release activities, on the run's real Temporal dev server and a real
// worker: appends refused before writing, appends whose reply is lost after writing, reads that fail.
// Every release still completes, with every event stored exactly once and the feature left as its
// release says (PRODUCT.md "Faults": nothing lost, nothing duplicated, nothing stuck).

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, Connection } from "@temporalio/client";
import { NativeConnection, type Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventStore } from "../../services/event-store/port.ts";
import { createSqliteEventStore, type SqliteEventStore } from "../../services/event-store/sqlite/sqlite-event-store.ts";
import type { Release } from "../../services/release/release.ts";
import { runReleaseAction, startReleaseWorkflow } from "../../workflows/client.ts";
import { seedRelease } from "../../workflows/testing/seed-release.ts";
import { buildWorkflowBundle, createReleaseWorker } from "../../workflows/worker.ts";
import { REPO_ROOT } from "../setup/binaries.ts";
import { temporalTestAddress } from "../setup/temporal.ts";
import { duplicateIds, featureEvents, foldFeature, quietTemporalLogs, releaseEvents, typesOf } from "./helpers.ts";

let dir: string;
let store: SqliteEventStore;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `releases-store-faults-${randomUUID()}`;
const injected = { refused: 0, lostReplies: 0, failedReads: 0 };

/** The store the worker's activities see: a third of appends fail (half before, half after writing), a fifth of reads fail. */
function faulty(inner: EventStore): EventStore {
  let calls = 0;
  return new Proxy(inner, {
    get(target, property) {
      if (property === "append") {
        return async (...args: Parameters<EventStore["append"]>) => {
          const n = calls++;
          if (n % 6 === 1) {
            injected.refused++;
            throw new Error("injected: the store is unreachable");
          }
          const result = await target.append(...args);
          if (n % 6 === 4) {
            injected.lostReplies++;
            throw new Error("injected: connection reset after the write");
          }
          return result;
        };
      }
      if (property === "readStream") {
        return async (...args: Parameters<EventStore["readStream"]>) => {
          if (calls++ % 5 === 2) {
            injected.failedReads++;
            throw new Error("injected: read timed out");
          }
          return target.readStream(...args);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

beforeAll(async () => {
  quietTemporalLogs();
  dir = mkdtempSync(join(tmpdir(), "store-faults-"));
  store = createSqliteEventStore({ path: join(dir, "events.sqlite") });
  nativeConnection = await NativeConnection.connect({ address: temporalTestAddress() });
  connection = await Connection.connect({ address: temporalTestAddress() });
  client = new Client({ connection });
  worker = await createReleaseWorker({
    connection: nativeConnection,
    store: faulty(store),
    bundle: await buildWorkflowBundle(),
    taskQueue,
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await nativeConnection?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const EXPECTED = [
  "ReleaseStarted",
  "ReleasePhaseRolledOut",
  "ReleaseApprovalRequested",
  "ReleasePhaseApproved",
  "ReleasePhaseRolledOut",
  "ReleasePhaseWaitStarted",
  "ReleasePhaseRolledOut",
  "ReleaseCompleted",
];

describe("store errors injected in the activities", { timeout: 120_000 }, () => {
  it("every release completes with every event stored once, and the feature ends as a direct update would leave it", async () => {
    const seeded = await Promise.all(
      Array.from({ length: 5 }, () =>
        seedRelease(store, {
          phases: [
            { environment: "development" },
            { environment: "staging", approvals: 1 },
            { environment: "production", waitMs: 300 },
          ],
        }),
      ),
    );
    const results = await Promise.all(
      seeded.map(async ({ releaseId }) => {
        const handle = await startReleaseWorkflow(client, releaseId, { taskQueue });
        // An approval client that retries with one update id: applied once whatever fails underneath.
        const updateId = `approve-${releaseId}`;
        for (let attempt = 0; ; attempt++) {
          const events = await releaseEvents(store, releaseId);
          if (typesOf(events).includes("ReleaseApprovalRequested")) {
            try {
              await runReleaseAction(
                client,
                releaseId,
                "approve",
                { actor: { name: "ava", role: "APPROVER" } },
                { updateId },
              );
              break;
            } catch (error) {
              if (attempt > 50) throw error;
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return (await handle.result()) as Release;
      }),
    );
    expect(results.map((release) => release.status)).toEqual(Array(5).fill("COMPLETED"));
    for (const { releaseId, featureId, change } of seeded) {
      const events = await releaseEvents(store, releaseId);
      expect(typesOf(events), releaseId).toEqual(EXPECTED);
      expect(duplicateIds(events)).toEqual([]);
      const feature = foldFeature(await featureEvents(store, featureId));
      expect(feature?.activeReleaseId).toBeNull();
      expect(feature?.environments).toEqual(change);
    }
    // The faults did happen.
    expect(injected.refused).toBeGreaterThan(0);
    expect(injected.lostReplies).toBeGreaterThan(0);
    expect(injected.failedReads).toBeGreaterThan(0);
  });

  it("a worker killed after a workflow task's write, before the task completed: the re-run completes the release", async () => {
    // Its workflow task is re-run by another worker later, with the same uuid sequence and a later time:
    // the events it then decides must not collide with the ones the dead task stored (they did, and the
    // release was stuck for good: found by bench:chaos).
    const queue = `releases-crash-after-write-${randomUUID()}`;
    const bundlePath = join(dir, "bundle.js");
    writeFileSync(bundlePath, (await buildWorkflowBundle()).code);
    const dying = spawn(
      process.execPath,
      [
        join(REPO_ROOT, "test/workflows/fixtures/dying-worker.ts"),
        temporalTestAddress(),
        queue,
        join(dir, "events.sqlite"),
        bundlePath,
      ],
      { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    let said = "";
    const says = (word: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (said.includes(word) ? resolve() : undefined);
        dying.stdout?.on("data", (chunk: Buffer) => {
          said += chunk.toString();
          check();
        });
        dying.once("exit", () => reject(new Error(`the dying worker exited early: ${said}`)));
        check();
      });
    await says("ready");
    const { releaseId, featureId, change } = await seedRelease(store, {
      phases: [{ environment: "development", waitMs: 300 }, { environment: "production" }],
    });
    const handle = await startReleaseWorkflow(client, releaseId, { taskQueue: queue });
    await says("wrote");
    expect(typesOf(await releaseEvents(store, releaseId))).toEqual(["ReleaseStarted", "ReleasePhaseWaitStarted"]);
    const exited = new Promise((resolve) => dying.once("exit", resolve));
    dying.kill("SIGKILL");
    await exited;
    const second = await createReleaseWorker({
      connection: nativeConnection,
      store,
      bundle: { code: readFileSync(bundlePath, "utf8") },
      taskQueue: queue,
    });
    const secondRun = second.run();
    try {
      const final = (await handle.result()) as Release;
      expect(final.status).toBe("COMPLETED");
      const events = await releaseEvents(store, releaseId);
      expect(typesOf(events)).toEqual([
        "ReleaseStarted",
        "ReleasePhaseWaitStarted",
        "ReleasePhaseRolledOut",
        "ReleasePhaseRolledOut",
        "ReleaseCompleted",
      ]);
      expect(duplicateIds(events)).toEqual([]);
      const feature = foldFeature(await featureEvents(store, featureId));
      expect(feature?.environments).toEqual(change);
      expect(feature?.activeReleaseId).toBeNull();
    } finally {
      second.shutdown();
      await secondRun;
    }
  });
});

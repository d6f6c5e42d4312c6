// The worker reconciles in-progress releases with their workflows at start and then periodically, so a
// release whose workflow start failed (the API died, or Temporal was down, right after ReleaseStarted was
// stored) heals without a worker restart.

import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import type { Client } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { streams } from "../../services/core/streams.ts";
import { loadStream } from "../../services/event-store/command-handler.ts";
import { featureDecider } from "../../services/feature/feature.ts";
import { type ReconcileLoop, startReconcileLoop } from "../../workflows/reconcile.ts";
import { seedRelease } from "../../workflows/testing/seed-release.ts";
import { reconcileIntervalMs } from "../../workflows/worker.ts";
import { workflowBundle } from "../api/harness.ts";
import { temporalCliForTests } from "../setup/binaries.ts";
import { temporalTestAddress } from "../setup/temporal.ts";
import { startWorkerHarness, type WorkerHarness } from "../workflows/helpers.ts";

let harness: WorkerHarness;
const loops: ReconcileLoop[] = [];

beforeAll(async () => {
  harness = await startWorkerHarness({ address: temporalTestAddress(), bundle: await workflowBundle() });
}, 120_000);

afterAll(async () => {
  for (const loop of loops) await loop.close();
  await harness?.close();
});

const QUICK = [{ environment: "development" }, { environment: "production" }];

/** The release's workflow result, once some workflow for it exists and completes. */
async function completes(releaseId: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const final = (await harness.client.workflow.getHandle(`release-${releaseId}`).result()) as { status: string };
      return final.status;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A client whose first `failures` workflow starts fail, as when Temporal is unreachable. */
function flaky(client: Client, failures: number): Client {
  let left = failures;
  const workflow = new Proxy(client.workflow, {
    get(target, property) {
      if (property === "start") {
        return (...args: Parameters<Client["workflow"]["start"]>) => {
          if (left > 0) {
            left--;
            return Promise.reject(new Error("Temporal unreachable"));
          }
          return target.start(...args);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return new Proxy(client, {
    get: (target, property) => (property === "workflow" ? workflow : Reflect.get(target, property)),
  });
}

describe("the worker's reconcile loop", () => {
  it("starts at once the workflows of releases stored before it, and of releases stored later within an interval", async () => {
    const before = await seedRelease(harness.store, { phases: QUICK });
    const loop = startReconcileLoop(harness.client, harness.store, { taskQueue: harness.taskQueue, intervalMs: 300 });
    loops.push(loop);
    await loop.ready;
    expect(await completes(before.releaseId)).toBe("COMPLETED");
    // Stored while the worker runs, its workflow never started: no restart needed.
    const later = await seedRelease(harness.store, { phases: QUICK });
    expect(await completes(later.releaseId)).toBe("COMPLETED");
    // Started releases are forgotten: a quiet installation makes no Temporal calls.
    expect(loop.pending()).toEqual([]);
    await loop.close();
  });

  it("keeps a release whose workflow start failed and starts it at a later sweep", async () => {
    const loop = startReconcileLoop(flaky(harness.client, 1), harness.store, {
      taskQueue: harness.taskQueue,
      intervalMs: 60_000,
    });
    loops.push(loop);
    await loop.ready;
    const seeded = await seedRelease(harness.store, { phases: QUICK });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await loop.sweep()).toEqual({ started: [], failed: [seeded.releaseId] });
    expect(loop.pending()).toEqual([seeded.releaseId]);
    expect(await loop.sweep()).toEqual({ started: [seeded.releaseId], failed: [] });
    expect(await completes(seeded.releaseId)).toBe("COMPLETED");
    await loop.close();
  });

  it("starts again, from its stream, a release whose workflow was terminated from the Temporal CLI or failed", async () => {
    const loop = startReconcileLoop(harness.client, harness.store, { taskQueue: harness.taskQueue, intervalMs: 300 });
    loops.push(loop);
    await loop.ready;
    // A long bake: the workflow is running (waiting) when it is terminated.
    const seeded = await seedRelease(harness.store, { phases: [{ environment: "development", waitMs: 3_600_000 }] });
    const workflowId = `release-${seeded.releaseId}`;
    const handle = harness.client.workflow.getHandle(workflowId);
    const firstRun = await waitFor(async () => {
      const description = await handle.describe().catch(() => null);
      return description?.status.name === "RUNNING" ? description.runId : null;
    });
    await promisify(execFile)(temporalCliForTests(), [
      "workflow",
      "terminate",
      "--address",
      temporalTestAddress(),
      "--workflow-id",
      workflowId,
      "--reason",
      "chaos",
    ]);
    // Healed within a few sweeps (300 ms here; one interval, a minute at most, in production).
    const secondRun = await waitFor(async () => {
      const description = await harness.client.workflow.getHandle(workflowId).describe();
      return description.status.name === "RUNNING" && description.runId !== firstRun ? description.runId : null;
    });
    // And again: a release is never forgotten while its stream says IN_PROGRESS.
    await harness.client.workflow.getHandle(workflowId, secondRun).terminate("chaos again");
    const thirdRun = await waitFor(async () => {
      const description = await harness.client.workflow.getHandle(workflowId).describe();
      return description.status.name === "RUNNING" && description.runId !== secondRun ? description.runId : null;
    });
    expect(thirdRun).not.toBe(firstRun);
    await loop.close();
  });

  it("gives back a feature's lock whose release was never stored (a crash between the two appends)", async () => {
    const loop = startReconcileLoop(harness.client, harness.store, {
      taskQueue: harness.taskQueue,
      intervalMs: 300,
      orphanLockGraceMs: 500,
    });
    loops.push(loop);
    await loop.ready;
    const { featureId, releaseId } = await seedRelease(harness.store, { phases: QUICK });
    expect(await completes(releaseId)).toBe("COMPLETED");
    const feature = streams.feature(featureId);
    await waitFor(async () => {
      const { state } = await loadStream(harness.store, featureDecider, feature);
      return state?.activeReleaseId === null ? state : null;
    });
    // Then the API took the lock for the feature's next release (FeatureReleaseStarted) and died before
    // storing ReleaseStarted.
    const loaded = await loadStream(harness.store, featureDecider, feature);
    const ghost = `${featureId}.2`;
    const at = new Date().toISOString();
    await harness.store.append(
      feature,
      [
        {
          id: randomUUID(),
          type: "FeatureReleaseStarted",
          data: { featureId, releaseId: ghost, pipelineId: "pipeline-1", pipelineVersion: 1, at },
          metadata: {
            actor: "starter",
            occurredAt: at,
            correlationId: "crash",
            causationId: null,
            schemaVersion: 1,
            projectId: "project-1",
          },
        },
      ],
      loaded.revision,
    );
    expect((await loadStream(harness.store, featureDecider, feature)).state?.activeReleaseId).toBe(ghost);
    const freed = await waitFor(async () => {
      const { state } = await loadStream(harness.store, featureDecider, feature);
      return state?.activeReleaseId === null ? state : null;
    });
    expect(freed.activeReleaseId).toBeNull();
    const types = (await harness.store.readStream(feature)).map((event) => event.type);
    expect(types.slice(-2)).toEqual(["FeatureReleaseStarted", "FeatureReleaseEnded"]);
    await loop.close();
  });

  it("RECONCILE_INTERVAL_MS: default 30 s (heals within a minute); anything but whole milliseconds >= 100 is refused", () => {
    expect(reconcileIntervalMs(undefined)).toBe(30_000);
    expect(reconcileIntervalMs("5000")).toBe(5_000);
    expect(() => reconcileIntervalMs("soon")).toThrow(/RECONCILE_INTERVAL_MS/);
    expect(() => reconcileIntervalMs("10")).toThrow(/RECONCILE_INTERVAL_MS/);
  });
});

// Days of bake time in seconds of test: the time-skipping test server jumps over timers while the
// test waits. Real activities on an embedded store, so the assertions read what was stored.

import { setTimeout as sleep } from "node:timers/promises";
import type { TestWorkflowEnvironment } from "@temporalio/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Release, toReleaseView } from "../../services/release/release.ts";
import { evaluate } from "../../services/serving/evaluate.ts";
import { runReleaseAction, startReleaseWorkflow } from "../../workflows/client.ts";
import { BEFORE, seedRelease } from "../../workflows/testing/seed-release.ts";
import { buildWorkflowBundle } from "../../workflows/worker.ts";
import { createTimeSkippingEnv } from "../setup/temporal.ts";
import {
  dataOf,
  duplicateIds,
  foldRelease,
  queryReleaseState,
  quietTemporalLogs,
  releaseEvents,
  startWorkerHarness,
  typesOf,
  type WorkerHarness,
} from "./helpers.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let env: TestWorkflowEnvironment;
let harness: WorkerHarness;

beforeAll(async () => {
  quietTemporalLogs();
  env = await createTimeSkippingEnv();
  harness = await startWorkerHarness({
    nativeConnection: env.nativeConnection,
    client: env.client,
    bundle: await buildWorkflowBundle(),
  });
});
afterAll(async () => {
  await harness?.close();
  await env?.teardown();
});

/** Skips `step` of server time (0: waits 20 ms of real time) until the workflow's release satisfies `until`. */
async function advanceUntil(releaseId: string, until: (release: Release) => boolean, step = HOUR): Promise<Release> {
  for (let i = 0; i < 500; i++) {
    const release = await queryReleaseState(harness.client, releaseId);
    if (release && until(release)) return release;
    if (step > 0) await env.sleep(step);
    else await sleep(20);
  }
  throw new Error(`release ${releaseId} never reached the expected state`);
}

const at = (data: { at: string }): number => Date.parse(data.at);

describe("release on the time-skipping server", () => {
  it("a four-phase pipeline with one-day bakes and an approval completes in seconds of wall-clock time", async () => {
    const wallStart = Date.now();
    const { releaseId } = await seedRelease(harness.store, {
      phases: [
        { environment: "development", waitMs: DAY },
        { environment: "staging", waitMs: DAY, approvals: 1 },
        { environment: "us-west", waitMs: DAY },
        { environment: "europe", waitMs: DAY },
      ],
      now: new Date(await env.currentTimeMs()).toISOString(),
    });
    const handle = await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
    await advanceUntil(releaseId, (r) => r.phases[1]?.status === "AWAITING_APPROVAL");
    const approved = await runReleaseAction(
      harness.client,
      releaseId,
      "approve",
      { actor: { name: "approver", role: "APPROVER" }, phaseIndex: 1 },
      { updateId: `approve-${releaseId}` },
    );
    expect(approved.currentPhaseIndex).toBe(2);
    const final = await handle.result();
    const wallMs = Date.now() - wallStart;

    expect(final.status).toBe("COMPLETED");
    const stored = await releaseEvents(harness.store, releaseId);
    expect(typesOf(stored)).toEqual([
      "ReleaseStarted",
      "ReleasePhaseWaitStarted",
      "ReleasePhaseRolledOut",
      "ReleasePhaseWaitStarted",
      "ReleaseApprovalRequested",
      "ReleasePhaseApproved",
      "ReleasePhaseRolledOut",
      "ReleasePhaseWaitStarted",
      "ReleasePhaseRolledOut",
      "ReleasePhaseWaitStarted",
      "ReleasePhaseRolledOut",
      "ReleaseCompleted",
    ]);
    expect(duplicateIds(stored)).toEqual([]);
    expect(final).toEqual(foldRelease(stored));
    // Each bake ended no earlier than its timer said, and on time (the server jumps straight to it).
    for (const [wait, next] of [
      [1, 2],
      [3, 4],
      [7, 8],
      [9, 10],
    ] as const) {
      const { endsAt, waitMs } = dataOf<{ endsAt: string; waitMs: number; at: string }>(stored[wait]);
      expect(waitMs).toBe(DAY);
      const ended = at(dataOf<{ at: string }>(stored[next]));
      expect(ended).toBeGreaterThanOrEqual(Date.parse(endsAt));
      expect(ended - Date.parse(endsAt)).toBeLessThan(5_000);
    }
    const releaseDays = (at(dataOf(stored.at(-1))) - at(dataOf(stored[0]))) / DAY;
    expect(releaseDays).toBeGreaterThanOrEqual(4);
    expect(wallMs).toBeLessThan(60_000);
  });

  it("pausing for three days keeps the remaining bake time exactly", async () => {
    const { releaseId } = await seedRelease(harness.store, {
      phases: [
        { environment: "development", waitMs: DAY },
        { environment: "production", waitMs: DAY },
      ],
      now: new Date(await env.currentTimeMs()).toISOString(),
    });
    const handle = await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
    await advanceUntil(releaseId, (r) => r.phases[0]?.status === "WAITING", 0);
    await env.sleep(6 * HOUR);
    const editor = { name: "editor", role: "EDITOR" } as const;
    const paused = await runReleaseAction(harness.client, releaseId, "pause", { actor: editor }, { updateId: "p1" });
    expect(paused.phases[0]?.status).toBe("PAUSED");
    await env.sleep(3 * DAY);
    // Still paused: the timer is stopped, not merely late.
    expect((await queryReleaseState(harness.client, releaseId))?.phases[0]?.status).toBe("PAUSED");
    const unpaused = await runReleaseAction(
      harness.client,
      releaseId,
      "unpause",
      { actor: editor },
      { updateId: "u1" },
    );
    const final = await handle.result();
    expect(final.status).toBe("COMPLETED");

    const stored = await releaseEvents(harness.store, releaseId);
    expect(typesOf(stored)).toEqual([
      "ReleaseStarted",
      "ReleasePhaseWaitStarted",
      "ReleasePaused",
      "ReleaseUnpaused",
      "ReleasePhaseRolledOut",
      "ReleasePhaseWaitStarted",
      "ReleasePhaseRolledOut",
      "ReleaseCompleted",
    ]);
    const waitStarted = dataOf<{ endsAt: string; at: string }>(stored[1]);
    const pause = dataOf<{ remainingMs: number; at: string }>(stored[2]);
    const unpause = dataOf<{ endsAt: string; at: string }>(stored[3]);
    const rolledOut = dataOf<{ at: string }>(stored[4]);
    // Remaining at pause = what the bake still owed; after unpause the bake ends that much later.
    expect(pause.remainingMs).toBe(Date.parse(waitStarted.endsAt) - at(pause));
    expect(pause.remainingMs).toBeGreaterThan(18 * HOUR - 5_000);
    expect(pause.remainingMs).toBeLessThanOrEqual(18 * HOUR);
    expect(at(unpause) - at(pause)).toBeGreaterThanOrEqual(3 * DAY);
    expect(Date.parse(unpause.endsAt)).toBe(at(unpause) + pause.remainingMs);
    expect(unpaused.phases[0]?.waitEndsAt).toBe(unpause.endsAt);
    // The re-armed timer fired at the new end, not at the original one.
    expect(at(rolledOut)).toBeGreaterThanOrEqual(Date.parse(unpause.endsAt));
    expect(at(rolledOut) - Date.parse(unpause.endsAt)).toBeLessThan(5_000);
  });

  it("a ramp over days: +30% a day, the clock paused with the phase, each step's share of 10,000 units measured", async () => {
    const { releaseId } = await seedRelease(harness.store, {
      phases: [
        { environment: "development" },
        { environment: "production", ramp: { initialPercentage: 10, increaseBy: 30, every: "P1D", everyMs: DAY } },
      ],
      now: new Date(await env.currentTimeMs()).toISOString(),
    });
    const handle = await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
    const ramping = await advanceUntil(releaseId, (r) => r.phases[1]?.rolloutPercentage === 10, 0);
    expect(ramping.phases[1]).toMatchObject({ status: "WAITING" });
    // Half a day into the first step, pause for three days: the ramp stays at 10%.
    await env.sleep(12 * HOUR);
    const editor = { name: "editor", role: "EDITOR" } as const;
    await runReleaseAction(harness.client, releaseId, "pause", { actor: editor }, { updateId: "ramp-pause" });
    await env.sleep(3 * DAY);
    expect((await queryReleaseState(harness.client, releaseId))?.phases[1]).toMatchObject({
      status: "PAUSED",
      rolloutPercentage: 10,
    });
    await runReleaseAction(harness.client, releaseId, "unpause", { actor: editor }, { updateId: "ramp-unpause" });
    const final = await handle.result();
    expect(final.status).toBe("COMPLETED");

    const stored = await releaseEvents(harness.store, releaseId);
    expect(typesOf(stored)).toEqual([
      "ReleaseStarted",
      "ReleasePhaseRolledOut",
      "ReleaseRampAdvanced",
      "ReleasePaused",
      "ReleaseUnpaused",
      "ReleaseRampAdvanced",
      "ReleaseRampAdvanced",
      "ReleaseRampAdvanced",
      "ReleasePhaseRolledOut",
      "ReleaseCompleted",
    ]);
    expect(duplicateIds(stored)).toEqual([]);
    expect(final).toEqual(foldRelease(stored));
    const steps = stored.filter((e) => e.type === "ReleaseRampAdvanced");
    expect(steps.map((e) => dataOf<{ percentage: number }>(e).percentage)).toEqual([10, 40, 70, 100]);
    // The first step owed about half a day at the pause; it came that long after the unpause.
    const { remainingMs } = dataOf<{ remainingMs: number }>(stored[3]);
    expect(remainingMs).toBeGreaterThan(12 * HOUR - 5_000);
    expect(remainingMs).toBeLessThanOrEqual(12 * HOUR);
    const unpause = dataOf<{ at: string }>(stored[4]);
    expect(at(dataOf(stored[5])) - at(unpause)).toBeGreaterThanOrEqual(remainingMs);
    expect(at(dataOf(stored[5])) - at(unpause)).toBeLessThan(remainingMs + 5_000);
    for (const [a, b] of [
      [5, 6],
      [6, 7],
    ] as const) {
      expect(at(dataOf(stored[b])) - at(dataOf(stored[a]))).toBeGreaterThanOrEqual(DAY);
      expect(at(dataOf(stored[b])) - at(dataOf(stored[a]))).toBeLessThan(DAY + 5_000);
    }

    // What serving gives 10,000 units after each step (folded from the stored prefix): the ramp's share.
    const feature = {
      key: "ramped",
      environments: [{ environment: "production", definition: BEFORE }],
    };
    const units = Array.from({ length: 10_000 }, (_, i) => ({ id: `user-${i}` }));
    let everIn = new Set<string>();
    const measured: string[] = [];
    for (const [index, event] of stored.entries()) {
      if (event.type !== "ReleaseRampAdvanced") continue;
      const release = foldRelease(stored.slice(0, index + 1)) as Release;
      const view = toReleaseView(release);
      const inNow = new Set(
        units
          .filter((unit) => evaluate({ feature, release: view, segments: [], environment: "production", unit }).enabled)
          .map((unit) => unit.id),
      );
      const { percentage } = dataOf<{ percentage: number }>(event);
      const share = inNow.size / 100;
      measured.push(`${percentage}% → ${share.toFixed(2)}%`);
      expect(Math.abs(share - percentage)).toBeLessThanOrEqual(2);
      for (const id of everIn) expect(inNow.has(id)).toBe(true);
      everIn = inNow;
    }
    console.info(`ramp ${releaseId}: measured share of 10,000 units per step: ${measured.join(", ")}`);
  });
});

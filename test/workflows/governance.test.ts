// Freezes, promotion windows and break glass on the time-skipping server: real release workflows and
// activities on an embedded store, days of server time in seconds.

import { setTimeout as sleep } from "node:timers/promises";
import type { TestWorkflowEnvironment } from "@temporalio/testing";
import type { Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { streams } from "../../services/core/streams.ts";
import { handleCommand } from "../../services/event-store/command-handler.ts";
import { WEEKDAYS } from "../../services/pipeline/windows.ts";
import { type ProjectCommand, projectDecider } from "../../services/project/project.ts";
import type { Release } from "../../services/release/release.ts";
import { webhookKeyFrom } from "../../services/webhook/secrets.ts";
import { runReleaseAction, startReleaseWorkflow } from "../../workflows/client.ts";
import { startGovernanceFollower } from "../../workflows/governance-follower.ts";
import { freezeChangedSignal, releaseWorkflowId } from "../../workflows/release-messages.workflow.ts";
import { seedRelease } from "../../workflows/testing/seed-release.ts";
import { buildWorkflowBundle, createWebhookWorker } from "../../workflows/worker.ts";
import { createTimeSkippingEnv } from "../setup/temporal.ts";
import {
  dataOf,
  queryReleaseState,
  quietTemporalLogs,
  releaseEvents,
  startWorkerHarness,
  typesOf,
  type WorkerHarness,
} from "./helpers.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const admin = { name: "root", role: "ADMIN" } as const;
const approver = { name: "ann", role: "APPROVER" } as const;

let env: TestWorkflowEnvironment;
let harness: WorkerHarness;
let sideWorker: Worker;
let sideRunning: Promise<void>;
const sideQueue = `governance-test-${Date.now()}`;

beforeAll(async () => {
  quietTemporalLogs();
  env = await createTimeSkippingEnv();
  const bundle = await buildWorkflowBundle();
  harness = await startWorkerHarness({ nativeConnection: env.nativeConnection, client: env.client, bundle });
  sideWorker = await createWebhookWorker({
    connection: env.nativeConnection,
    store: harness.store,
    bundle,
    taskQueue: sideQueue,
    webhookKey: () => webhookKeyFrom("governance test key of 32+ characters"),
  });
  sideRunning = sideWorker.run();
}, 180_000);

afterAll(async () => {
  if (sideWorker?.getState() === "RUNNING") sideWorker.shutdown();
  await sideRunning;
  await harness?.close();
  await env?.teardown();
});

const serverNow = async (): Promise<string> => new Date(await env.currentTimeMs()).toISOString();

async function project(projectId: string, command: ProjectCommand["type"], data: Record<string, unknown> = {}) {
  const now = await serverNow();
  await handleCommand(harness.store, projectDecider, {
    stream: streams.project(projectId),
    command: { type: command, data: { projectId, ...data }, actor: admin, now } as ProjectCommand,
    metadata: { actor: admin.name, occurredAt: now, correlationId: "test", causationId: null, projectId },
  });
}

async function createProject(projectId: string): Promise<void> {
  await project(projectId, "CreateProject", { name: projectId, environments: ["development", "production"] });
}

/** Skips `step` of server time (0: waits 20 ms of real time) until the release satisfies `until`. */
async function advanceUntil(releaseId: string, until: (release: Release) => boolean, step = HOUR): Promise<Release> {
  for (let i = 0; i < 500; i++) {
    const release = await queryReleaseState(harness.client, releaseId);
    if (release && until(release)) return release;
    if (step > 0) await env.sleep(step);
    else await sleep(20);
  }
  throw new Error(`release ${releaseId} never reached the expected state`);
}

const phaseStatus = (release: Release, index: number): string | undefined => release.phases[index]?.status;

describe("a freeze", () => {
  it("during a bake: the timer runs out, the phase shows FROZEN for days, and rolls out when unfrozen", async () => {
    await createProject("frozen-bake");
    const { releaseId } = await seedRelease(harness.store, {
      projectId: "frozen-bake",
      phases: [
        { name: "dev", environment: "development", waitMs: DAY },
        { name: "prod", environment: "production" },
      ],
      now: await serverNow(),
    });
    const handle = await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
    await advanceUntil(releaseId, (r) => phaseStatus(r, 0) === "WAITING", 0);
    await project("frozen-bake", "FreezeProject", { reason: "incident 7" });
    await harness.client.workflow.getHandle(releaseWorkflowId(releaseId)).signal(freezeChangedSignal);

    const held = await advanceUntil(releaseId, (r) => phaseStatus(r, 0) === "FROZEN");
    await env.sleep(3 * DAY);
    expect(phaseStatus((await queryReleaseState(harness.client, releaseId)) as Release, 0)).toBe("FROZEN");
    expect(typesOf(await releaseEvents(harness.store, releaseId))).not.toContain("ReleasePhaseRolledOut");

    const unfrozenAt = Date.parse(await serverNow());
    await project("frozen-bake", "UnfreezeProject", { reason: "resolved" });
    await harness.client.workflow.getHandle(releaseWorkflowId(releaseId)).signal(freezeChangedSignal);
    const final = await handle.result();
    expect(final.status).toBe("COMPLETED");
    const stored = await releaseEvents(harness.store, releaseId);
    expect(typesOf(stored)).toEqual([
      "ReleaseStarted",
      "ReleasePhaseWaitStarted",
      "ReleasePhaseHeld",
      "ReleasePhaseRolledOut",
      "ReleasePhaseRolledOut",
      "ReleaseCompleted",
    ]);
    const rolled = stored.filter((e) => e.type === "ReleasePhaseRolledOut");
    // Held from the bake's end, rolled out only after the unfreeze.
    expect(Date.parse(dataOf<{ at: string }>(rolled[0]).at)).toBeGreaterThanOrEqual(unfrozenAt);
    expect(held.phases[0]?.waitEndsAt).not.toBeNull();
  }, 120_000);

  it("with an `until` ends by itself: the freeze-end workflow stores it and the release rolls out then", async () => {
    await createProject("frozen-until");
    const follower = startGovernanceFollower(env.client, harness.store, { taskQueue: sideQueue });
    await follower.ready;
    try {
      const until = new Date(Date.parse(await serverNow()) + 2 * DAY).toISOString();
      await project("frozen-until", "FreezeProject", { reason: "holiday", until });
      const { releaseId } = await seedRelease(harness.store, {
        projectId: "frozen-until",
        phases: [{ name: "prod", environment: "production" }],
        now: await serverNow(),
      });
      const handle = await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
      const held = await advanceUntil(releaseId, (r) => phaseStatus(r, 0) === "FROZEN", 0);
      expect(held.phases[0]?.heldUntil).toBe(until);
      const final = await handle.result();
      expect(final.status).toBe("COMPLETED");
      const rolled = (await releaseEvents(harness.store, releaseId)).find((e) => e.type === "ReleasePhaseRolledOut");
      expect(Date.parse(dataOf<{ at: string }>(rolled).at)).toBeGreaterThanOrEqual(Date.parse(until));
      // The end is an event of the project (by "system", expired), stored by the freeze-end workflow.
      let ended: unknown;
      for (let i = 0; i < 200 && ended === undefined; i++) {
        ended = (await harness.store.readStream(streams.project("frozen-until"))).find(
          (e) => e.type === "ProjectUnfrozen",
        );
        if (ended === undefined) await env.sleep(HOUR);
      }
      expect(ended).toMatchObject({ data: { expired: true, by: "system", at: until } });
    } finally {
      await follower.close();
    }
  }, 120_000);
});

describe("the worker's governance follower", () => {
  it("tells a frozen release of the unfreeze at once (no server time passes, no recheck timer fires)", async () => {
    await createProject("followed");
    const follower = startGovernanceFollower(env.client, harness.store, { taskQueue: sideQueue });
    await follower.ready;
    try {
      await project("followed", "FreezeProject", { reason: "incident 8" });
      const { releaseId } = await seedRelease(harness.store, {
        projectId: "followed",
        phases: [{ name: "prod", environment: "production" }],
        now: await serverNow(),
      });
      await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
      await advanceUntil(releaseId, (r) => phaseStatus(r, 0) === "FROZEN", 0);
      const before = await env.currentTimeMs();
      await project("followed", "UnfreezeProject", { reason: "resolved" });
      // Real time only (queries do not skip server time): the follower's signal wakes the workflow.
      const done = await advanceUntil(releaseId, (r) => r.status === "COMPLETED", 0);
      expect(done.status).toBe("COMPLETED");
      expect((await env.currentTimeMs()) - before).toBeLessThan(60_000);
    } finally {
      await follower.close();
    }
  }, 60_000);
});

describe("promotion windows", () => {
  it("a window closing mid-release holds the next phase AWAITING_WINDOW until it opens days later", async () => {
    const start = new Date(await env.currentTimeMs());
    const hour = start.getUTCHours();
    const day = WEEKDAYS[(start.getUTCDay() + 6) % 7] ?? "MON";
    const pad = (n: number) => String(n % 24).padStart(2, "0");
    // Open from this hour for two hours, this weekday only (UTC): the first phase rolls out now, the
    // second's three-hour bake ends after the window closed, and the next opening is a week later.
    const window = { days: [day], start: `${pad(hour)}:00`, end: `${pad(hour + 2)}:00`, timeZone: "UTC" };
    const { releaseId } = await seedRelease(harness.store, {
      projectId: "windowed",
      phases: [
        { name: "dev", environment: "development" },
        { name: "prod", environment: "production", waitMs: 3 * HOUR },
      ],
      windows: [window],
      now: start.toISOString(),
    });
    const handle = await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
    const held = await advanceUntil(releaseId, (r) => phaseStatus(r, 1) === "AWAITING_WINDOW");
    expect(phaseStatus(held, 0)).toBe("ROLLED_OUT");
    const opens = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + 7, hour);
    expect(held.phases[1]?.heldUntil).toBe(new Date(opens).toISOString());
    const final = await handle.result();
    expect(final.status).toBe("COMPLETED");
    const rolled = (await releaseEvents(harness.store, releaseId)).filter((e) => e.type === "ReleasePhaseRolledOut");
    // When the window opened (the timer fires within milliseconds of it), not before.
    const rolledAt = Date.parse(dataOf<{ at: string }>(rolled[1]).at);
    expect(rolledAt).toBeGreaterThanOrEqual(opens);
    expect(rolledAt).toBeLessThan(opens + 60_000);
  }, 120_000);
});

describe("break glass", () => {
  it("rolls out the current phase of a frozen project's release; the next phase's approval still applies", async () => {
    await createProject("glass");
    await project("glass", "FreezeProject", { reason: "incident 9" });
    const { releaseId } = await seedRelease(harness.store, {
      projectId: "glass",
      phases: [
        { name: "dev", environment: "development" },
        { name: "prod", environment: "production", approvals: 1 },
      ],
      now: await serverNow(),
    });
    const handle = await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
    await advanceUntil(releaseId, (r) => phaseStatus(r, 0) === "FROZEN", 0);
    const refused = await runReleaseAction(
      harness.client,
      releaseId,
      "breakGlass",
      { actor: approver, reason: "x" },
      { updateId: `glass-refused-${releaseId}` },
    ).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "FORBIDDEN" });
    const broken = await runReleaseAction(
      harness.client,
      releaseId,
      "breakGlass",
      { actor: admin, reason: "hotfix for incident 9" },
      { updateId: `glass-${releaseId}` },
    );
    expect(phaseStatus(broken, 0)).toBe("ROLLED_OUT");
    expect(phaseStatus(broken, 1)).toBe("AWAITING_APPROVAL");
    expect(broken.actions.at(-1)).toMatchObject({ kind: "BREAK_GLASS", by: "root", reason: "hotfix for incident 9" });
    // Approved while still frozen: held again (the glass was broken for phase 0 only).
    const approved = await runReleaseAction(
      harness.client,
      releaseId,
      "approve",
      { actor: approver, phaseIndex: 1 },
      { updateId: `approve-${releaseId}` },
    );
    expect(phaseStatus(approved, 1)).toBe("FROZEN");
    const again = await runReleaseAction(
      harness.client,
      releaseId,
      "breakGlass",
      { actor: admin, reason: "still urgent" },
      { updateId: `glass-again-${releaseId}` },
    );
    expect(again.status).toBe("COMPLETED");
    expect((await handle.result()).status).toBe("COMPLETED");
  }, 120_000);
});

// Every release action against a live worker on the run's shared dev server (Updates need one): the
// answer (the release, or the failure's error code), the release after, and the exact event sequence
// in the store. Then signals, update-id deduplication, races and continue-as-new.

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { NativeConnection } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../services/core/errors.ts";
import type { Actor } from "../../services/core/model.ts";
import type { Release } from "../../services/release/release.ts";
import {
  type ReleaseActionInput,
  type ReleaseActionName,
  runReleaseAction,
  signalReleaseAction,
  startReleaseWorkflow,
} from "../../workflows/client.ts";
import { type SeedReleaseOptions, seedRelease, seedToken } from "../../workflows/testing/seed-release.ts";
import { buildWorkflowBundle, createReleaseWorker } from "../../workflows/worker.ts";
import { temporalTestAddress } from "../setup/temporal.ts";
import {
  dataOf,
  duplicateIds,
  featureEvents,
  foldFeature,
  foldRelease,
  queryReleaseState,
  releaseEvents,
  startWorkerHarness,
  typesOf,
  type WorkerHarness,
  waitForReleaseEvents,
} from "./helpers.ts";

const HOUR = 3_600_000;
const approver: Actor = { name: "approver", role: "APPROVER" };
const editor: Actor = { name: "editor", role: "EDITOR" };

let harness: WorkerHarness;
let bundle: { code: string };

beforeAll(async () => {
  bundle = await buildWorkflowBundle();
  harness = await startWorkerHarness({ address: temporalTestAddress(), bundle });
  // Signals name tokens: these exist (in release's project, "project-1"); others below are made up or refused.
  await seedToken(harness.store, { name: "approver", role: "APPROVER" });
  await seedToken(harness.store, { name: "editor", role: "EDITOR" });
  await seedToken(harness.store, { name: "Amy", role: "APPROVER", projectId: null });
  await seedToken(harness.store, { name: "revoked", role: "ADMIN", revoked: true });
  await seedToken(harness.store, { name: "mallory", role: "ADMIN", projectId: "project-2" });
});
afterAll(async () => {
  await harness?.close();
});

async function startRelease(options: SeedReleaseOptions) {
  const seeded = await seedRelease(harness.store, options);
  await startReleaseWorkflow(harness.client, seeded.releaseId, { taskQueue: harness.taskQueue });
  return seeded;
}

/** Runs an action through the Update; returns the release or the DomainError it answered. */
async function act(
  releaseId: string,
  action: ReleaseActionName,
  input: ReleaseActionInput,
  updateId: string = randomUUID(),
): Promise<Release | DomainError> {
  try {
    return await runReleaseAction(harness.client, releaseId, action, input, { updateId });
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
}

const codeOf = (answer: Release | DomainError): string => (answer instanceof DomainError ? answer.code : "OK");

const WAITING_PIPELINE: SeedReleaseOptions["phases"] = [
  { environment: "development", waitMs: HOUR },
  { environment: "production", approvals: 1 },
];
const APPROVAL_PIPELINE: SeedReleaseOptions["phases"] = [
  { environment: "development", approvals: 1 },
  { environment: "production", approvals: 1 },
];

type PhaseState = "WAITING" | "PAUSED" | "AWAITING_APPROVAL" | "COMPLETED" | "ABORTED";

/** Brings a new release to `state`; returns its id and the events stored by then. */
async function releaseIn(state: PhaseState): Promise<{ releaseId: string; setup: string[] }> {
  const phases = state === "AWAITING_APPROVAL" ? APPROVAL_PIPELINE : WAITING_PIPELINE;
  const { releaseId } = await startRelease({ phases });
  const first = state === "AWAITING_APPROVAL" ? "ReleaseApprovalRequested" : "ReleasePhaseWaitStarted";
  await waitForReleaseEvents(harness.store, releaseId, (events) => typesOf(events).includes(first));
  if (state === "PAUSED") expect(codeOf(await act(releaseId, "pause", { actor: editor }))).toBe("OK");
  if (state === "COMPLETED") expect(codeOf(await act(releaseId, "fullRollout", { actor: approver }))).toBe("OK");
  if (state === "ABORTED") expect(codeOf(await act(releaseId, "abort", { actor: editor }))).toBe("OK");
  if (state === "COMPLETED") await harness.client.workflow.getHandle(`release-${releaseId}`).result();
  return { releaseId, setup: typesOf(await releaseEvents(harness.store, releaseId)) };
}

const ACTORS: Record<ReleaseActionName, Actor> = {
  approve: approver,
  pause: editor,
  unpause: editor,
  skip: editor,
  abort: editor,
  fullRollout: approver,
  rollbackToPhase: editor,
  breakGlass: { name: "root", role: "ADMIN" },
};

const FULL_ROLLOUT_FROM_PHASE_0 = [
  "ReleaseFullRolloutRequested",
  "ReleasePhaseRolledOut",
  "ReleasePhaseRolledOut",
  "ReleaseCompleted",
];
const SKIP_PHASE_0 = ["ReleasePhaseWaitSkipped", "ReleasePhaseRolledOut", "ReleaseApprovalRequested"];

interface Expectation {
  /** Events the action appends, or the error code when it is refused (nothing appended). */
  appends: string[] | "INVALID_STATE";
  status?: Release["status"];
  /** The current phase's status after, when IN_PROGRESS. */
  phase?: string;
}

const TABLE: Record<ReleaseActionName, Record<PhaseState, Expectation>> = {
  approve: {
    WAITING: { appends: "INVALID_STATE" },
    PAUSED: { appends: "INVALID_STATE" },
    AWAITING_APPROVAL: {
      appends: ["ReleasePhaseApproved", "ReleasePhaseRolledOut", "ReleaseApprovalRequested"],
      status: "IN_PROGRESS",
      phase: "1:AWAITING_APPROVAL",
    },
    COMPLETED: { appends: "INVALID_STATE" },
    ABORTED: { appends: "INVALID_STATE" },
  },
  pause: {
    WAITING: { appends: ["ReleasePaused"], status: "IN_PROGRESS", phase: "0:PAUSED" },
    PAUSED: { appends: "INVALID_STATE" },
    AWAITING_APPROVAL: { appends: "INVALID_STATE" },
    COMPLETED: { appends: "INVALID_STATE" },
    ABORTED: { appends: "INVALID_STATE" },
  },
  unpause: {
    WAITING: { appends: "INVALID_STATE" },
    PAUSED: { appends: ["ReleaseUnpaused"], status: "IN_PROGRESS", phase: "0:WAITING" },
    AWAITING_APPROVAL: { appends: "INVALID_STATE" },
    COMPLETED: { appends: "INVALID_STATE" },
    ABORTED: { appends: "INVALID_STATE" },
  },
  skip: {
    WAITING: { appends: SKIP_PHASE_0, status: "IN_PROGRESS", phase: "1:AWAITING_APPROVAL" },
    PAUSED: { appends: SKIP_PHASE_0, status: "IN_PROGRESS", phase: "1:AWAITING_APPROVAL" },
    AWAITING_APPROVAL: { appends: "INVALID_STATE" },
    COMPLETED: { appends: "INVALID_STATE" },
    ABORTED: { appends: "INVALID_STATE" },
  },
  abort: {
    WAITING: { appends: ["ReleaseAborted"], status: "ABORTED" },
    PAUSED: { appends: ["ReleaseAborted"], status: "ABORTED" },
    AWAITING_APPROVAL: { appends: ["ReleaseAborted"], status: "ABORTED" },
    COMPLETED: { appends: "INVALID_STATE" },
    ABORTED: { appends: "INVALID_STATE" },
  },
  fullRollout: {
    WAITING: { appends: FULL_ROLLOUT_FROM_PHASE_0, status: "COMPLETED" },
    PAUSED: { appends: FULL_ROLLOUT_FROM_PHASE_0, status: "COMPLETED" },
    AWAITING_APPROVAL: { appends: FULL_ROLLOUT_FROM_PHASE_0, status: "COMPLETED" },
    COMPLETED: { appends: "INVALID_STATE" },
    ABORTED: { appends: "INVALID_STATE" },
  },
  // Nothing holds these releases (no freeze, no windows): there is no glass to break.
  breakGlass: {
    WAITING: { appends: "INVALID_STATE" },
    PAUSED: { appends: "INVALID_STATE" },
    AWAITING_APPROVAL: { appends: "INVALID_STATE" },
    COMPLETED: { appends: "INVALID_STATE" },
    ABORTED: { appends: "INVALID_STATE" },
  },
  // To phase 0, which has not rolled out in any of these states (the success is tested below).
  rollbackToPhase: {
    WAITING: { appends: "INVALID_STATE" },
    PAUSED: { appends: "INVALID_STATE" },
    AWAITING_APPROVAL: { appends: "INVALID_STATE" },
    COMPLETED: { appends: "INVALID_STATE" },
    ABORTED: { appends: "INVALID_STATE" },
  },
};

const currentPhase = (release: Release): string | undefined => {
  if (release.currentPhaseIndex === null) return undefined;
  return `${release.currentPhaseIndex}:${release.phases[release.currentPhaseIndex]?.status}`;
};

describe("every action in every phase state", () => {
  const cases = Object.entries(TABLE).flatMap(([action, byState]) =>
    Object.entries(byState).map(([state, expected]) => ({
      action: action as ReleaseActionName,
      state: state as PhaseState,
      expected,
    })),
  );

  it.each(cases)("$action while $state", async ({ action, state, expected }) => {
    const { releaseId, setup } = await releaseIn(state);
    const before = foldRelease(await releaseEvents(harness.store, releaseId));
    const target = action === "rollbackToPhase" ? { phaseIndex: 0 } : {};
    const answer = await act(releaseId, action, { actor: ACTORS[action], reason: "table", ...target });
    const stored = await releaseEvents(harness.store, releaseId);
    const after = foldRelease(stored);
    if (!after || !before) throw new Error("release not stored");

    if (expected.appends === "INVALID_STATE") {
      expect(answer).toBeInstanceOf(DomainError);
      expect(codeOf(answer)).toBe("INVALID_STATE");
      // The message says the current state.
      expect((answer as DomainError).message).toMatch(
        state === "COMPLETED" || state === "ABORTED" ? state : /AWAITING_APPROVAL|WAITING|PAUSED/,
      );
      expect(typesOf(stored)).toEqual(setup);
      expect(after.status).toBe(before.status);
      return;
    }
    expect(codeOf(answer)).toBe("OK");
    expect(typesOf(stored)).toEqual([...setup, ...expected.appends]);
    expect(after.status).toBe(expected.status);
    expect(currentPhase(after)).toBe(expected.phase);
    // The answer is the release once the action's events are stored.
    expect(answer).toEqual(after);
  });
});

describe("rollback to a phase", () => {
  it("undoes the later phases on the feature, keeps the earlier ones, and starts the next phase's wait again", async () => {
    const { releaseId, featureId, before } = await startRelease({
      phases: [
        { environment: "development" },
        { environment: "staging", waitMs: HOUR },
        { environment: "production", waitMs: HOUR },
      ],
    });
    await waitForReleaseEvents(harness.store, releaseId, (events) =>
      typesOf(events).includes("ReleasePhaseWaitStarted"),
    );
    expect(codeOf(await act(releaseId, "skip", { actor: editor, phaseIndex: 1 }))).toBe("OK");
    const rolledBack = await act(releaseId, "rollbackToPhase", {
      actor: editor,
      phaseIndex: 0,
      reason: "staging errors",
    });
    expect(codeOf(rolledBack)).toBe("OK");
    const release = rolledBack as Release;
    expect(release.currentPhaseIndex).toBe(1);
    expect(release.phases.map((p) => p.status)).toEqual(["ROLLED_OUT", "WAITING", "PENDING"]);
    expect(release.rolledOut.map((r) => r.phaseIndex)).toEqual([0]);
    expect(release.actions.at(-1)).toMatchObject({
      kind: "ROLLBACK_TO_PHASE",
      by: "editor",
      phaseIndex: 0,
      reason: "staging errors",
    });

    const stored = await releaseEvents(harness.store, releaseId);
    expect(typesOf(stored).slice(-2)).toEqual(["ReleaseRolledBack", "ReleasePhaseWaitStarted"]);
    const rollback = dataOf<{ reverted: unknown; fromPhaseIndex: number; at: string }>(stored.at(-2));
    expect(rollback.fromPhaseIndex).toBe(2);
    expect(rollback.reverted).toEqual(before.filter((e) => e.environment === "staging"));
    // The wait starts again, a full hour from the rollback.
    const restarted = dataOf<{ at: string; endsAt: string }>(stored.at(-1));
    expect(restarted.at).toBe(rollback.at);
    expect(Date.parse(restarted.endsAt) - Date.parse(rollback.at)).toBe(HOUR);

    // On the feature: staging back to `before` (as abort would), development still the change.
    const feature = await (async () => {
      for (let i = 0; i < 100; i++) {
        const state = foldFeature(await featureEvents(harness.store, featureId));
        const staging = state?.environments.find((e) => e.environment === "staging")?.definition;
        if (JSON.stringify(staging) === JSON.stringify(before[1]?.definition)) return state;
        await sleep(50);
      }
      throw new Error("staging never went back to before");
    })();
    const definitions = Object.fromEntries((feature?.environments ?? []).map((e) => [e.environment, e.definition]));
    expect(definitions.development).toEqual({ enabled: true, value: { version: 2 }, rules: [] });
    expect(definitions.staging).toEqual(before[1]?.definition);
    expect(feature?.activeReleaseId).toBe(releaseId);

    // Going on: skip staging again and production; the release completes with every environment changed.
    expect(codeOf(await act(releaseId, "skip", { actor: editor, phaseIndex: 1 }))).toBe("OK");
    expect(codeOf(await act(releaseId, "skip", { actor: editor, phaseIndex: 2 }))).toBe("OK");
    const done = foldRelease(await releaseEvents(harness.store, releaseId));
    expect(done?.status).toBe("COMPLETED");
  });

  it("refuses a phase that has not rolled out, and needs phaseIndex", async () => {
    const { releaseId } = await startRelease({
      phases: [{ environment: "development" }, { environment: "production", waitMs: HOUR }],
    });
    await waitForReleaseEvents(harness.store, releaseId, (events) =>
      typesOf(events).includes("ReleasePhaseWaitStarted"),
    );
    const setup = typesOf(await releaseEvents(harness.store, releaseId));
    const notYet = await act(releaseId, "rollbackToPhase", { actor: editor, phaseIndex: 1 });
    expect(codeOf(notYet)).toBe("INVALID_STATE");
    expect((notYet as DomainError).message).toContain("phase 1 (phase-1) is WAITING");
    expect(codeOf(await act(releaseId, "rollbackToPhase", { actor: editor, phaseIndex: 7 }))).toBe("INVALID_STATE");
    expect(codeOf(await act(releaseId, "rollbackToPhase", { actor: editor }))).toBe("VALIDATION");
    expect(
      codeOf(await act(releaseId, "rollbackToPhase", { actor: { name: "vic", role: "VIEWER" }, phaseIndex: 0 })),
    ).toBe("FORBIDDEN");
    expect(typesOf(await releaseEvents(harness.store, releaseId))).toEqual(setup);
  });
});

describe("refusals", () => {
  it("refuses a stale phaseIndex with INVALID_STATE, so a stale console cannot act on the wrong phase", async () => {
    const { releaseId, setup } = await releaseIn("AWAITING_APPROVAL");
    const answer = await act(releaseId, "approve", { actor: approver, phaseIndex: 1 });
    expect(codeOf(answer)).toBe("INVALID_STATE");
    expect((answer as DomainError).message).toMatch(/no longer the current phase/);
    const waiting = await releaseIn("WAITING");
    expect(codeOf(await act(waiting.releaseId, "skip", { actor: editor, phaseIndex: 1 }))).toBe("INVALID_STATE");
    expect(typesOf(await releaseEvents(harness.store, releaseId))).toEqual(setup);
    expect(typesOf(await releaseEvents(harness.store, waiting.releaseId))).toEqual(waiting.setup);
  });

  it("refuses the starter's approval with SELF_APPROVAL_FORBIDDEN when the pipeline forbids it", async () => {
    const { releaseId } = await startRelease({
      phases: APPROVAL_PIPELINE,
      selfApproval: "FORBIDDEN",
      startedBy: "sam",
    });
    await waitForReleaseEvents(harness.store, releaseId, (e) => typesOf(e).includes("ReleaseApprovalRequested"));
    const answer = await act(releaseId, "approve", { actor: { name: "sam", role: "ADMIN" } });
    expect(codeOf(answer)).toBe("SELF_APPROVAL_FORBIDDEN");
    expect(codeOf(await act(releaseId, "approve", { actor: approver }))).toBe("OK");
    expect(typesOf(await releaseEvents(harness.store, releaseId))).toEqual([
      "ReleaseStarted",
      "ReleaseApprovalRequested",
      "ReleasePhaseApproved",
      "ReleasePhaseRolledOut",
      "ReleaseApprovalRequested",
    ]);
  });

  it("refuses the same approver twice with INVALID_STATE and counts distinct approvers", async () => {
    const { releaseId } = await startRelease({
      phases: [{ environment: "development", approvals: 2 }, ...APPROVAL_PIPELINE.slice(1)],
    });
    await waitForReleaseEvents(harness.store, releaseId, (e) => typesOf(e).includes("ReleaseApprovalRequested"));
    const first = await act(releaseId, "approve", { actor: approver, comment: "lgtm" });
    expect(codeOf(first)).toBe("OK");
    expect((first as Release).phases[0]?.approvals.map((a) => a.by)).toEqual(["approver"]);
    const again = await act(releaseId, "approve", { actor: approver });
    expect(codeOf(again)).toBe("INVALID_STATE");
    expect((again as DomainError).message).toMatch(/already approved/);
    const second = await act(releaseId, "approve", { actor: { name: "other", role: "ADMIN" } });
    expect(currentPhase(second as Release)).toBe("1:AWAITING_APPROVAL");
    expect(typesOf(await releaseEvents(harness.store, releaseId))).toEqual([
      "ReleaseStarted",
      "ReleaseApprovalRequested",
      "ReleasePhaseApproved",
      "ReleasePhaseApproved",
      "ReleasePhaseRolledOut",
      "ReleaseApprovalRequested",
    ]);
  });

  it("refuses a role below the action's with FORBIDDEN", async () => {
    const awaiting = await releaseIn("AWAITING_APPROVAL");
    const waiting = await releaseIn("WAITING");
    expect(codeOf(await act(awaiting.releaseId, "approve", { actor: editor }))).toBe("FORBIDDEN");
    expect(codeOf(await act(awaiting.releaseId, "fullRollout", { actor: editor }))).toBe("FORBIDDEN");
    expect(codeOf(await act(waiting.releaseId, "pause", { actor: { name: "viewer", role: "VIEWER" } }))).toBe(
      "FORBIDDEN",
    );
    expect(codeOf(await act(waiting.releaseId, "abort", { actor: { name: "viewer", role: "VIEWER" } }))).toBe(
      "FORBIDDEN",
    );
    expect(typesOf(await releaseEvents(harness.store, awaiting.releaseId))).toEqual(awaiting.setup);
    expect(typesOf(await releaseEvents(harness.store, waiting.releaseId))).toEqual(waiting.setup);
  });

  it("refuses a malformed payload with VALIDATION", async () => {
    const { releaseId } = await releaseIn("WAITING");
    const answer = await act(releaseId, "pause", {
      actor: { name: "x", role: "ROOT" },
    } as unknown as ReleaseActionInput);
    expect(codeOf(answer)).toBe("VALIDATION");
    expect((answer as DomainError).field).toBe("actor.role");
  });

  it("answers NOT_FOUND for a release that has no workflow", async () => {
    expect(codeOf(await act(randomUUID(), "abort", { actor: editor }))).toBe("NOT_FOUND");
  });
});

describe("update ids", () => {
  it("applies a retried update (same id) once and answers it the same", async () => {
    const { releaseId } = await startRelease({
      phases: [{ environment: "development", approvals: 2 }, ...APPROVAL_PIPELINE.slice(1)],
    });
    await waitForReleaseEvents(harness.store, releaseId, (e) => typesOf(e).includes("ReleaseApprovalRequested"));
    const updateId = `request-${randomUUID()}`;
    const first = await act(releaseId, "approve", { actor: approver }, updateId);
    const retried = await act(releaseId, "approve", { actor: approver }, updateId);
    expect(codeOf(first)).toBe("OK");
    expect(retried).toEqual(first);
    // Not applied twice (a second application would be refused: same approver twice).
    expect(codeOf(await act(releaseId, "approve", { actor: approver }))).toBe("INVALID_STATE");
    const stored = await releaseEvents(harness.store, releaseId);
    expect(typesOf(stored).filter((t) => t === "ReleasePhaseApproved")).toHaveLength(1);
    expect(stored.find((e) => e.type === "ReleasePhaseApproved")?.metadata.causationId).toBe(updateId);
  });

  it("answers a retried update the same after the action completed the release", async () => {
    const { releaseId } = await startRelease({ phases: [{ environment: "development", approvals: 1 }] });
    await waitForReleaseEvents(harness.store, releaseId, (e) => typesOf(e).includes("ReleaseApprovalRequested"));
    const updateId = `request-${randomUUID()}`;
    const first = await act(releaseId, "approve", { actor: approver }, updateId);
    expect((first as Release).status).toBe("COMPLETED");
    await harness.client.workflow.getHandle(`release-${releaseId}`).result();
    const retried = await act(releaseId, "approve", { actor: approver }, updateId);
    expect(retried).toEqual(first);
    expect(
      typesOf(await releaseEvents(harness.store, releaseId)).filter((t) => t === "ReleasePhaseApproved"),
    ).toHaveLength(1);
  });
});

describe("signals", () => {
  it("an approve signal that applies rolls the phase out, recorded like the update would be", async () => {
    const { releaseId } = await releaseIn("AWAITING_APPROVAL");
    await signalReleaseAction(harness.client, releaseId, "approve", { actor: approver, comment: "from chat" });
    const stored = await waitForReleaseEvents(harness.store, releaseId, (e) => e.length >= 5);
    expect(typesOf(stored)).toEqual([
      "ReleaseStarted",
      "ReleaseApprovalRequested",
      "ReleasePhaseApproved",
      "ReleasePhaseRolledOut",
      "ReleaseApprovalRequested",
    ]);
    expect(stored[2]?.metadata).toMatchObject({ actor: "approver", source: "signal" });
    expect(stored[3]?.metadata).toMatchObject({ actor: "system", source: "signal" });
  });

  it("a signal that does not apply is stored as ReleaseSignalRejected with its reason, never dropped", async () => {
    const { releaseId, setup } = await releaseIn("AWAITING_APPROVAL");
    await signalReleaseAction(harness.client, releaseId, "pause", { actor: editor });
    await signalReleaseAction(harness.client, releaseId, "approve", { actor: editor });
    const stored = await waitForReleaseEvents(harness.store, releaseId, (e) => e.length >= setup.length + 2);
    expect(typesOf(stored)).toEqual([...setup, "ReleaseSignalRejected", "ReleaseSignalRejected"]);
    expect(stored.slice(-2).map((e) => e.data)).toEqual([
      expect.objectContaining({ action: "PAUSE", by: "editor", code: "INVALID_STATE" }),
      expect.objectContaining({ action: "APPROVE", by: "editor", code: "FORBIDDEN" }),
    ]);
    expect(dataOf<{ message: string }>(stored.at(-2)).message).toMatch(/AWAITING_APPROVAL/);
    const release = await queryReleaseState(harness.client, releaseId);
    expect(release?.rejectedSignals.map((r) => r.code)).toEqual(["INVALID_STATE", "FORBIDDEN"]);
    expect(currentPhase(release as Release)).toBe("0:AWAITING_APPROVAL");
  });
});

describe("signal actors: an existing, unrevoked token of the release's project, with its own role", () => {
  const signal = (releaseId: string, action: ReleaseActionName, actor: Actor) =>
    signalReleaseAction(harness.client, releaseId, action, { actor });

  it("refuses made-up names, look-alike spellings of one approver, a revoked token and another project's token", async () => {
    const { releaseId, setup } = await startRelease({ phases: [{ environment: "development", approvals: 2 }] }).then(
      async ({ releaseId }) => {
        await waitForReleaseEvents(harness.store, releaseId, (e) => typesOf(e).includes("ReleaseApprovalRequested"));
        return { releaseId, setup: typesOf(await releaseEvents(harness.store, releaseId)) };
      },
    );
    await signal(releaseId, "approve", { name: "anyone", role: "ADMIN" });
    await signal(releaseId, "approve", { name: "ghost1", role: "APPROVER" });
    await signal(releaseId, "approve", { name: "ghost2", role: "APPROVER" });
    await signal(releaseId, "approve", { name: "system", role: "ADMIN" });
    await signal(releaseId, "approve", { name: "SYSTEM", role: "ADMIN" });
    await signal(releaseId, "approve", { name: "revoked", role: "ADMIN" });
    await signal(releaseId, "fullRollout", { name: "mallory", role: "ADMIN" });
    // One token, three spellings: one approver (stored under the token's own name), then refused.
    await signal(releaseId, "approve", { name: "amy", role: "APPROVER" });
    await signal(releaseId, "approve", { name: "AMY", role: "APPROVER" });
    await signal(releaseId, "approve", { name: " Ａｍｙ ", role: "APPROVER" });
    const stored = await waitForReleaseEvents(harness.store, releaseId, (e) => e.length >= setup.length + 10);
    const after = stored.slice(setup.length);
    expect(typesOf(after)).toEqual([
      ...Array(7).fill("ReleaseSignalRejected"),
      "ReleasePhaseApproved",
      "ReleaseSignalRejected",
      "ReleaseSignalRejected",
    ]);
    expect(after.slice(0, 7).map((e) => dataOf<{ code: string }>(e).code)).toEqual(Array(7).fill("FORBIDDEN"));
    expect(after[7]?.metadata).toMatchObject({ actor: "Amy", source: "signal" });
    expect(after.slice(8).map((e) => dataOf<{ code: string }>(e).code)).toEqual(["INVALID_STATE", "INVALID_STATE"]);
    const release = (await queryReleaseState(harness.client, releaseId)) as Release;
    expect(release.status).toBe("IN_PROGRESS");
    expect(currentPhase(release)).toBe("0:AWAITING_APPROVAL");
  });

  it("acts with the token's role, not the payload's: an EDITOR token claiming ADMIN cannot roll out fully", async () => {
    const { releaseId, setup } = await releaseIn("WAITING");
    await signal(releaseId, "fullRollout", { name: "editor", role: "ADMIN" });
    await signal(releaseId, "pause", { name: "Editor", role: "VIEWER" });
    const stored = await waitForReleaseEvents(harness.store, releaseId, (e) => e.length >= setup.length + 2);
    expect(typesOf(stored.slice(setup.length))).toEqual(["ReleaseSignalRejected", "ReleasePaused"]);
    expect(dataOf<{ code: string }>(stored[setup.length]).code).toBe("FORBIDDEN");
    expect(stored[setup.length + 1]?.metadata).toMatchObject({ actor: "editor" });
  });
});

describe("a rejected signal and the timer", () => {
  it("is stored after the timer steps that were due when it was judged, not before them", async () => {
    // A worker of this test's own, stopped while the bake ends and the signal arrives: the next one gets
    // the timer and the signal in one task, the signal first.
    const taskQueue = `releases-order-${randomUUID()}`;
    const connection = await NativeConnection.connect({ address: temporalTestAddress() });
    const runWorker = async () => {
      const worker = await createReleaseWorker({ connection, store: harness.store, bundle, taskQueue });
      return { worker, running: worker.run() };
    };
    try {
      const first = await runWorker();
      const { releaseId } = await seedRelease(harness.store, {
        phases: [
          { environment: "development", waitMs: 1_500 },
          { environment: "production", approvals: 1 },
        ],
      });
      await startReleaseWorkflow(harness.client, releaseId, { taskQueue });
      await waitForReleaseEvents(harness.store, releaseId, (e) => typesOf(e).includes("ReleasePhaseWaitStarted"));
      await sleep(300);
      first.worker.shutdown();
      await first.running;
      await sleep(2_000); // the bake has ended; nobody has run its timer
      // Judged after the bake: phase 0 is rolled out, so there is nothing to pause.
      await signalReleaseAction(harness.client, releaseId, "pause", { actor: editor });
      const second = await runWorker();
      try {
        const stored = await waitForReleaseEvents(harness.store, releaseId, (e) =>
          typesOf(e).includes("ReleaseSignalRejected"),
        );
        await sleep(300);
        expect(typesOf(await releaseEvents(harness.store, releaseId))).toEqual([
          "ReleaseStarted",
          "ReleasePhaseWaitStarted",
          "ReleasePhaseRolledOut",
          "ReleaseApprovalRequested",
          "ReleaseSignalRejected",
        ]);
        expect(dataOf<{ code: string }>(stored.at(-1)).code).toBe("INVALID_STATE");
      } finally {
        second.worker.shutdown();
        await second.running;
      }
    } finally {
      await connection.close();
    }
  });
});

describe("a run's carried state", () => {
  it("is checked against the stream: a run started with forged `carried` state runs the stored release", async () => {
    const { releaseId } = await seedRelease(harness.store, { phases: [{ environment: "development", approvals: 1 }] });
    const stored = foldRelease(await releaseEvents(harness.store, releaseId));
    // Anyone reaching Temporal can start the workflow with any input: here, a release that claims to be
    // COMPLETED (its workflow would end at once and the release would never run).
    const forged = { state: { ...stored, status: "COMPLETED" }, revision: 0, appliedUpdateIds: [] };
    const handle = await harness.client.workflow.start("releaseWorkflow", {
      workflowId: `release-${releaseId}`,
      taskQueue: harness.taskQueue,
      args: [{ releaseId, carried: forged }],
    });
    await waitForReleaseEvents(harness.store, releaseId, (e) => typesOf(e).includes("ReleaseApprovalRequested"));
    expect(codeOf(await act(releaseId, "approve", { actor: approver }))).toBe("OK");
    expect(((await handle.result()) as Release).status).toBe("COMPLETED");
    expect(typesOf(await releaseEvents(harness.store, releaseId))).toEqual([
      "ReleaseStarted",
      "ReleaseApprovalRequested",
      "ReleasePhaseApproved",
      "ReleasePhaseRolledOut",
      "ReleaseCompleted",
    ]);
  });
});

describe("event metadata", () => {
  it("stores actor, time, correlation and causation with every release and feature event", async () => {
    const { releaseId, featureId, projectId } = await startRelease({ phases: APPROVAL_PIPELINE });
    await waitForReleaseEvents(harness.store, releaseId, (e) => typesOf(e).includes("ReleaseApprovalRequested"));
    const updateId = `request-${randomUUID()}`;
    await runReleaseAction(
      harness.client,
      releaseId,
      "approve",
      { actor: approver, correlationId: "corr-1" },
      { updateId },
    );
    const stored = await releaseEvents(harness.store, releaseId);
    for (const event of stored.slice(1)) {
      expect(event.metadata).toMatchObject({
        schemaVersion: 1,
        projectId,
        occurredAt: (event.data as { at: string }).at,
      });
    }
    expect(stored[1]?.metadata).toMatchObject({ actor: "system", causationId: null, correlationId: releaseId });
    expect(
      stored.slice(2).map((e) => [e.type, e.metadata.actor, e.metadata.causationId, e.metadata.correlationId]),
    ).toEqual([
      ["ReleasePhaseApproved", "approver", updateId, "corr-1"],
      ["ReleasePhaseRolledOut", "system", updateId, "corr-1"],
      ["ReleaseApprovalRequested", "system", updateId, "corr-1"],
    ]);
    const feature = await featureEvents(harness.store, featureId);
    expect(feature.at(-1)).toMatchObject({
      type: "FeatureUpdated",
      data: { cause: "ROLLOUT", releaseId, phaseIndex: 0 },
      metadata: { causationId: updateId, correlationId: "corr-1", releaseEventId: stored[3]?.id },
    });
  });
});

describe("races settle in one order: the stored order is the order that took effect", () => {
  it("two approvals at once: one applies, the other sees the new state", async () => {
    for (let round = 0; round < 3; round++) {
      const { releaseId, setup } = await releaseIn("AWAITING_APPROVAL");
      const answers = await Promise.all(
        ["ann", "ben"].map((name) => act(releaseId, "approve", { actor: { name, role: "APPROVER" }, phaseIndex: 0 })),
      );
      expect(answers.map(codeOf).sort()).toEqual(["INVALID_STATE", "OK"]);
      const winner = answers[0] instanceof DomainError ? "ben" : "ann";
      const stored = await releaseEvents(harness.store, releaseId);
      expect(typesOf(stored)).toEqual([
        ...setup,
        "ReleasePhaseApproved",
        "ReleasePhaseRolledOut",
        "ReleaseApprovalRequested",
      ]);
      expect(stored.find((e) => e.type === "ReleasePhaseApproved")?.data).toMatchObject({ by: winner });
    }
  });

  it("a bake timer ending while a skip arrives: the phase rolls out exactly once, in the order that took effect", async () => {
    for (const offset of [-40, -5, 0, 15]) {
      const { releaseId } = await startRelease({
        phases: [{ environment: "development", waitMs: 1_000 }, ...APPROVAL_PIPELINE.slice(1)],
      });
      const started = await waitForReleaseEvents(harness.store, releaseId, (e) => e.length >= 2);
      const endsAt = Date.parse(dataOf<{ endsAt: string }>(started[1]).endsAt);
      await sleep(Math.max(0, endsAt - Date.now() + offset));
      const answer = await act(releaseId, "skip", { actor: editor });
      const stored = await waitForReleaseEvents(harness.store, releaseId, (e) =>
        typesOf(e).includes("ReleaseApprovalRequested"),
      );
      const tail = typesOf(stored).slice(2);
      if (answer instanceof DomainError) {
        expect(answer.code).toBe("INVALID_STATE");
        expect(tail).toEqual(["ReleasePhaseRolledOut", "ReleaseApprovalRequested"]);
      } else {
        expect(tail).toEqual(["ReleasePhaseWaitSkipped", "ReleasePhaseRolledOut", "ReleaseApprovalRequested"]);
        // The skip took effect before the bake ended.
        expect(Date.parse(dataOf<{ at: string }>(stored[2]).at)).toBeLessThan(endsAt);
      }
    }
  });

  it("abort during a rollout: the feature ends on `before` and its events follow the release's order", async () => {
    for (let round = 0; round < 3; round++) {
      const { releaseId, featureId, before } = await releaseIn("AWAITING_APPROVAL").then(async ({ releaseId }) => {
        const events = await releaseEvents(harness.store, releaseId);
        const data = events[0]?.data as { featureId: string; before: unknown };
        return { releaseId, featureId: data.featureId, before: data.before };
      });
      const [approved, aborted] = await Promise.all([
        act(releaseId, "approve", { actor: approver }),
        act(releaseId, "abort", { actor: editor, reason: "stop" }),
      ]);
      expect(codeOf(aborted)).toBe("OK");
      const stored = typesOf(await releaseEvents(harness.store, releaseId));
      const feature = await featureEvents(harness.store, featureId);
      const featureTail = feature.slice(2).map((e) => `${e.type}:${(e.data as { cause?: string }).cause ?? ""}`);
      if (codeOf(approved) === "OK") {
        expect(stored.slice(2)).toEqual([
          "ReleasePhaseApproved",
          "ReleasePhaseRolledOut",
          "ReleaseApprovalRequested",
          "ReleaseAborted",
        ]);
        expect(featureTail).toEqual(["FeatureUpdated:ROLLOUT", "FeatureUpdated:REVERT", "FeatureReleaseEnded:"]);
      } else {
        expect(codeOf(approved)).toBe("INVALID_STATE");
        expect(stored.slice(2)).toEqual(["ReleaseAborted"]);
        expect(featureTail).toEqual(["FeatureReleaseEnded:"]);
      }
      const final = foldFeature(feature);
      expect(final?.environments).toEqual(before);
      expect(final?.activeReleaseId).toBeNull();
    }
  });

  it("fullRollout and abort at once: exactly one of them ends the release", async () => {
    const { releaseId, setup } = await releaseIn("WAITING");
    const answers = await Promise.all([
      act(releaseId, "fullRollout", { actor: approver }),
      act(releaseId, "abort", { actor: editor }),
    ]);
    expect(answers.map(codeOf).sort()).toEqual(["INVALID_STATE", "OK"]);
    const stored = typesOf(await releaseEvents(harness.store, releaseId));
    expect(stored.slice(setup.length)).toEqual(
      codeOf(answers[0] as Release) === "OK" ? FULL_ROLLOUT_FROM_PHASE_0 : ["ReleaseAborted"],
    );
  });
});

describe("long histories", () => {
  it("continues as new at rest, carrying state, revision and applied update ids; every event stored once", async () => {
    const { releaseId } = await seedRelease(harness.store, {
      phases: [
        { environment: "development", waitMs: 300 },
        { environment: "staging", approvals: 1 },
        { environment: "production", waitMs: 300 },
        { environment: "europe", waitMs: 300 },
      ],
    });
    const handle = await startReleaseWorkflow(harness.client, releaseId, {
      taskQueue: harness.taskQueue,
      workflowOptions: { continueAsNewAfterEvents: 2 },
    });
    await waitForReleaseEvents(harness.store, releaseId, (e) => typesOf(e).includes("ReleaseApprovalRequested"));
    const updateId = `request-${randomUUID()}`;
    const approved = await act(releaseId, "approve", { actor: approver }, updateId);
    expect(approved instanceof DomainError ? approved.message : "OK").toBe("OK");
    // Let the run continue as new, then retry the same request: still applied once.
    await sleep(200);
    const retried = await act(releaseId, "approve", { actor: approver }, updateId);
    expect(retried instanceof DomainError ? retried.message : "OK").toBe("OK");
    const final = await handle.result();
    expect(final.status).toBe("COMPLETED");
    const stored = await releaseEvents(harness.store, releaseId);
    expect(typesOf(stored)).toEqual([
      "ReleaseStarted",
      "ReleasePhaseWaitStarted",
      "ReleasePhaseRolledOut",
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
    // The last run was started by continue-as-new from an earlier one.
    const history = await harness.client.workflow.getHandle(handle.workflowId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(started?.continuedExecutionRunId).toBeTruthy();
  });
});

// Every release action against a live worker on the run's shared dev server (Updates need one): the
// answer (the release, or the failure's error code), the release after, and the exact event sequence
// in the store. Then signals, update-id deduplication, races and continue-as-new.

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../services/core/errors.ts";
import type { Actor } from "../../services/core/model.ts";
import type { Release } from "../../services/release/release.ts";
import {
  queryReleaseState,
  type ReleaseActionInput,
  type ReleaseActionName,
  runReleaseAction,
  signalReleaseAction,
  startReleaseWorkflow,
} from "../../workflows/client.ts";
import { type SeedReleaseOptions, seedRelease } from "../../workflows/testing/seed-release.ts";
import { buildWorkflowBundle } from "../../workflows/worker.ts";
import { temporalTestAddress } from "../setup/temporal.ts";
import {
  duplicateIds,
  featureEvents,
  foldFeature,
  foldRelease,
  releaseEvents,
  startWorkerHarness,
  typesOf,
  waitForReleaseEvents,
  type WorkerHarness,
} from "./helpers.ts";

const HOUR = 3_600_000;
const approver: Actor = { name: "approver", role: "APPROVER" };
const editor: Actor = { name: "editor", role: "EDITOR" };

let harness: WorkerHarness;

beforeAll(async () => {
  harness = await startWorkerHarness({ address: temporalTestAddress(), bundle: await buildWorkflowBundle() });
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
  updateId = randomUUID(),
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
    const answer = await act(releaseId, action, { actor: ACTORS[action], reason: "table" });
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

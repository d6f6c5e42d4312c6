import {
  type GuardrailState,
  type Release,
  type ReleasePhaseState,
  remainingWaitMs,
  rolloutPercentageOf,
} from "../../services/release/release.ts";
import { builder } from "../builder.ts";
import { ApprovalRef } from "./Approval.ts";
import { PhaseStatusEnum } from "./enums.ts";

/** A phase as served: with the bake time still owed, counted on the release's clock (see releasePhaseViews). */
export interface ReleasePhaseView extends ReleasePhaseState {
  remainingWaitMs: number | null;
}

/**
 * The release's phases with their remaining wait: counted at `now` for the live release, at the as-of
 * point under `releaseAsOf` (its `at`, or the time of the last event before its `position`), and null once
 * the release has ended (an ABORTED release's bake no longer runs).
 */
export function releasePhaseViews(
  release: Pick<Release, "status" | "phases" | "updatedAt"> & { asOf?: { at?: string | null } },
  now: Date,
): ReleasePhaseView[] {
  const clock = release.asOf === undefined ? now.toISOString() : (release.asOf.at ?? release.updatedAt);
  return release.phases.map((phase) => ({
    ...phase,
    remainingWaitMs: release.status === "IN_PROGRESS" ? remainingWaitMs(phase, clock) : null,
  }));
}

export const ReleasePhaseRef = builder.objectRef<ReleasePhaseView>("ReleasePhase");

const GuardrailStateRef = builder.objectRef<GuardrailState>("GuardrailState");
GuardrailStateRef.implement({
  description:
    "A guardrail of the phase as its checks left it. Stored on state changes only (the first check, each failure, the pass after failures), so lastCheckedAt is the last change, not the last passing check.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "The guardrail's name in the phase." }),
    consecutiveFailures: t.exposeInt("consecutiveFailures", {
      description: "Failed checks in a row (0 after a pass; reset when a person unpauses).",
    }),
    lastCheckedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When its state last changed; null before its first check.",
      resolve: (g) => g.lastCheckedAt,
    }),
    lastResult: t.exposeString("lastResult", {
      nullable: true,
      description: 'What that check saw, e.g. "HTTP 503" or "0.2 not < 0.05".',
    }),
  }),
});

ReleasePhaseRef.implement({
  description:
    "A phase of a running (or ended) release: its live state. The plan (targets, wait, approvals) is the pipeline's phase of the same index.",
  fields: (t) => ({
    index: t.exposeInt("index", { description: "Position in the pipeline, from 0." }),
    name: t.exposeString("name", { description: "The pipeline phase's name." }),
    status: t.field({
      type: PhaseStatusEnum,
      description: "Where the phase is now.",
      resolve: (phase) => phase.status,
    }),
    waitStartedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When its bake timer started; null if it has no wait or was not reached.",
      resolve: (phase) => phase.waitStartedAt,
    }),
    waitEndsAt: t.field({
      type: "DateTime",
      nullable: true,
      description:
        "When its bake timer ends (the countdown to show); null while PAUSED and when there is no running timer.",
      resolve: (phase) => phase.waitEndsAt,
    }),
    remainingWait: t.field({
      type: "Duration",
      nullable: true,
      description:
        "Set while WAITING or PAUSED; computed when read (under releaseAsOf: at the as-of point); null once the release has ended.",
      resolve: (phase) => phase.remainingWaitMs,
    }),
    approvals: t.field({
      type: [ApprovalRef],
      description: "Approvals recorded so far, oldest first (distinct approvers).",
      resolve: (phase) => phase.approvals,
    }),
    rolledOutAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When its targets started serving the change; null until then.",
      resolve: (phase) => phase.rolledOutAt,
    }),
    rolloutPercentage: t.float({
      description: "The share of units served the new definition while the phase ramps (100 once rolled out).",
      resolve: (phase) => rolloutPercentageOf(phase),
    }),
    guardrails: t.field({
      type: [GuardrailStateRef],
      description: "Each guardrail of the phase and its checks' state (empty without guardrails).",
      resolve: (phase) => phase.guardrails ?? [],
    }),
    heldUntil: t.field({
      type: "DateTime",
      nullable: true,
      description:
        "FROZEN: when the project's freeze ends by itself (null: until unfrozen); AWAITING_WINDOW: when the next promotion window opens.",
      resolve: (phase) =>
        phase.status === "FROZEN" || phase.status === "AWAITING_WINDOW" ? (phase.heldUntil ?? null) : null,
    }),
  }),
});

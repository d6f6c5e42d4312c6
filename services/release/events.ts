import type { DomainEvent } from "../core/event.ts";
import type { EnvironmentDefinition, Phase, SelfApproval, Target } from "../core/model.ts";
import type { PromotionWindow } from "../pipeline/windows.ts";

export type ReleaseStarted = DomainEvent<
  "ReleaseStarted",
  {
    releaseId: string;
    featureId: string;
    featureKey: string;
    projectId: string;
    pipelineId: string;
    pipelineVersion: number;
    /** Snapshot of the pipeline at start: later pipeline changes do not affect the release. */
    pipelineName: string;
    phases: Phase[];
    selfApproval: SelfApproval;
    /** The project's environments in order. */
    environments: string[];
    before: EnvironmentDefinition[];
    /** The change (for startRelease: the current definitions). */
    change: EnvironmentDefinition[];
    /** What every environment holds once COMPLETED (change with ENABLE/DISABLE applied by the phases). */
    after: EnvironmentDefinition[];
    trigger: "UPDATE" | "START";
    by: string;
    reason: string | null;
    /** The pipeline's promotion windows at start (added later: absent = none, always open). */
    windows?: PromotionWindow[];
    at: string;
  }
>;

export type ReleasePhaseWaitStarted = DomainEvent<
  "ReleasePhaseWaitStarted",
  { releaseId: string; phaseIndex: number; waitMs: number; endsAt: string; at: string }
>;
export type ReleasePaused = DomainEvent<
  "ReleasePaused",
  { releaseId: string; phaseIndex: number; remainingMs: number; by: string; reason: string | null; at: string }
>;
export type ReleaseUnpaused = DomainEvent<
  "ReleaseUnpaused",
  { releaseId: string; phaseIndex: number; endsAt: string; by: string; reason: string | null; at: string }
>;
export type ReleasePhaseWaitSkipped = DomainEvent<
  "ReleasePhaseWaitSkipped",
  { releaseId: string; phaseIndex: number; by: string; reason: string | null; at: string }
>;
export type ReleaseApprovalRequested = DomainEvent<
  "ReleaseApprovalRequested",
  { releaseId: string; phaseIndex: number; approvalsRequired: number; at: string }
>;
export type ReleasePhaseApproved = DomainEvent<
  "ReleasePhaseApproved",
  { releaseId: string; phaseIndex: number; by: string; comment: string | null; at: string }
>;
/** The phase's targets now serve `definitions` (one per environment the phase targets). */
export type ReleasePhaseRolledOut = DomainEvent<
  "ReleasePhaseRolledOut",
  { releaseId: string; phaseIndex: number; targets: Target[]; definitions: EnvironmentDefinition[]; at: string }
>;
export type ReleaseFullRolloutRequested = DomainEvent<
  "ReleaseFullRolloutRequested",
  { releaseId: string; phaseIndex: number; by: string; reason: string | null; at: string }
>;
/** `reverted`: the environments whose stored definition goes back to `before`. */
export type ReleaseAborted = DomainEvent<
  "ReleaseAborted",
  {
    releaseId: string;
    phaseIndex: number;
    by: string;
    reason: string | null;
    reverted: EnvironmentDefinition[];
    at: string;
  }
>;
/**
 * The phase is ready to roll out but held: FROZEN by the project's freeze (`until` its end, if it has one),
 * or AWAITING_WINDOW until the pipeline's next promotion window opens (`until`).
 */
export type ReleasePhaseHeld = DomainEvent<
  "ReleasePhaseHeld",
  {
    releaseId: string;
    phaseIndex: number;
    status: "FROZEN" | "AWAITING_WINDOW";
    until: string | null;
    /** The freeze's reason. */
    reason: string | null;
    at: string;
  }
>;
/** An ADMIN lets the current phase roll out despite a freeze or a closed window; its approvals still apply. */
export type ReleaseGlassBroken = DomainEvent<
  "ReleaseGlassBroken",
  { releaseId: string; phaseIndex: number; by: string; reason: string; at: string }
>;
/**
 * A ramping phase now serves its definition to `percentage` of its targets' units (the first step starts
 * the ramp; 100 ends it, and the phase rolls out). `nextStepAt`: when the next step is due (null at 100).
 */
export type ReleaseRampAdvanced = DomainEvent<
  "ReleaseRampAdvanced",
  { releaseId: string; phaseIndex: number; percentage: number; nextStepAt: string | null; at: string }
>;
/**
 * The phases after `phaseIndex` are undone (`fromPhaseIndex` was current): `reverted` are the environments
 * whose stored definition goes back — to what an earlier, kept phase stored there, else to `before` — and
 * the release goes on from phase `phaseIndex + 1`, its wait started again.
 */
export type ReleaseRolledBack = DomainEvent<
  "ReleaseRolledBack",
  {
    releaseId: string;
    phaseIndex: number;
    fromPhaseIndex: number;
    by: string;
    reason: string | null;
    reverted: EnvironmentDefinition[];
    at: string;
  }
>;
/**
 * A guardrail's state changed: its first check in the phase, each failure (`consecutiveFailures` counts
 * them), and the pass that ends a run of failures. A pass that changes nothing stores nothing.
 */
export type ReleaseGuardrailChecked = DomainEvent<
  "ReleaseGuardrailChecked",
  {
    releaseId: string;
    phaseIndex: number;
    name: string;
    passed: boolean;
    /** false: the check could not run (unreachable, an error, no data). */
    couldRun: boolean;
    consecutiveFailures: number;
    result: string;
    at: string;
  }
>;
/** `failuresToTrip` consecutive failures: the release is paused or aborted (the next event) by `system`. */
export type ReleaseGuardrailTripped = DomainEvent<
  "ReleaseGuardrailTripped",
  {
    releaseId: string;
    phaseIndex: number;
    name: string;
    outcome: "PAUSE" | "ABORT";
    consecutiveFailures: number;
    reason: string;
    at: string;
  }
>;
export type ReleaseCompleted = DomainEvent<"ReleaseCompleted", { releaseId: string; at: string }>;
/** A Temporal signal whose action did not apply: recorded, never silently dropped. */
export type ReleaseSignalRejected = DomainEvent<
  "ReleaseSignalRejected",
  { releaseId: string; action: string; by: string; code: string; message: string; at: string }
>;

export type ReleaseEvent =
  | ReleaseStarted
  | ReleasePhaseWaitStarted
  | ReleasePaused
  | ReleaseUnpaused
  | ReleasePhaseWaitSkipped
  | ReleaseApprovalRequested
  | ReleasePhaseApproved
  | ReleasePhaseRolledOut
  | ReleaseFullRolloutRequested
  | ReleaseAborted
  | ReleaseCompleted
  | ReleaseSignalRejected
  | ReleaseRampAdvanced
  | ReleaseRolledBack
  | ReleaseGuardrailChecked
  | ReleaseGuardrailTripped
  | ReleasePhaseHeld
  | ReleaseGlassBroken;

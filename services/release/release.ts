// The release decider: every rule of "How a release runs" and "Actions" in PRODUCT.md, as pure code.
// The Temporal workflow is a thin shell over it: it feeds commands (people's actions, and `Tick` when a
// bake timer may have ended), appends what `decide` returns, and sleeps until `nextWakeAt`.

import { BOUNDS, jsonBytes } from "../core/bounds.ts";
import type { Command, Decider } from "../core/decider.ts";
import { addMs, msBetween } from "../core/duration.ts";
import { DomainError, validation } from "../core/errors.ts";
import type {
  Definition,
  EnvironmentDefinition,
  Guardrail,
  Phase,
  PhaseStatus,
  ReleaseActionKind,
  ReleaseStatus,
  Role,
  Rule,
  SelfApproval,
  Target,
} from "../core/model.ts";
import { roleAtLeast, SYSTEM_ACTOR } from "../core/model.ts";
import { sameActor } from "../core/names.ts";
import { isWithinWindows, nextWindowOpening, type PromotionWindow } from "../pipeline/windows.ts";
import type { ReleaseEvent, ReleasePhaseRolledOut, ReleaseStarted } from "./events.ts";

export interface Approval {
  by: string;
  at: string;
  comment: string | null;
}

export interface ReleaseAction {
  kind: ReleaseActionKind;
  by: string;
  at: string;
  reason: string | null;
  phaseIndex: number | null;
}

export interface ReleasePhaseState {
  index: number;
  name: string;
  status: PhaseStatus;
  waitStartedAt: string | null;
  /** null while PAUSED (and before the wait starts). */
  waitEndsAt: string | null;
  /** Kept while PAUSED: the bake time still owed when the timer resumes. */
  remainingMs: number | null;
  waitSkipped: boolean;
  approvals: Approval[];
  rolledOutAt: string | null;
  /** FROZEN / AWAITING_WINDOW: when the hold may end (the freeze's `until`, the next window's opening). */
  heldUntil?: string | null;
  /** Break glass: this phase rolls out despite a freeze or a closed window (approvals still apply). */
  glassBroken?: boolean;
  /**
   * The share of the targets' units served the phase's definition: 0 before it rolls out, the ramp's
   * step while it ramps, 100 once rolled out. Absent in states carried by runs from before ramps.
   */
  rolloutPercentage?: number;
  /** Each guardrail of the phase and its checks so far. Absent in states carried by runs from before guardrails. */
  guardrails?: GuardrailState[];
}

export interface GuardrailState {
  name: string;
  consecutiveFailures: number;
  lastCheckedAt: string | null;
  lastResult: string | null;
  /** Whether a failure of the current run of failures could not run: then a trip only pauses. */
  streakCouldNotRun: boolean;
}

const freshGuardrails = (spec: Phase | undefined): GuardrailState[] =>
  (spec?.guardrails ?? []).map((g) => ({
    name: g.name,
    consecutiveFailures: 0,
    lastCheckedAt: null,
    lastResult: null,
    streakCouldNotRun: false,
  }));

/** The guardrails to run now: the current phase's, while it bakes or ramps (WAITING). */
export function activeGuardrails(release: ReleaseState): { phaseIndex: number; guardrails: Guardrail[] } | null {
  if (release?.status !== "IN_PROGRESS") return null;
  const phase = release.phases[release.currentPhaseIndex];
  const guardrails = release.phaseSpecs[release.currentPhaseIndex]?.guardrails ?? [];
  if (phase?.status !== "WAITING" || guardrails.length === 0) return null;
  return { phaseIndex: phase.index, guardrails };
}

/** The share of a phase's units served its definition (see ReleasePhaseState.rolloutPercentage). */
export const rolloutPercentageOf = (phase: ReleasePhaseState): number =>
  phase.rolloutPercentage ?? (phase.status === "ROLLED_OUT" ? 100 : 0);

/** Whether the phase is ramping: started its ramp, not yet rolled out. Its wait is the ramp's clock. */
export const isRamping = (phase: ReleasePhaseState): boolean =>
  phase.status !== "ROLLED_OUT" && rolloutPercentageOf(phase) > 0;

export interface RolledOutPhase {
  phaseIndex: number;
  targets: Target[];
  definitions: EnvironmentDefinition[];
}

export interface RejectedSignal {
  action: string;
  by: string;
  code: string;
  message: string;
  at: string;
}

/** What every release has, whatever its status. */
interface ReleaseBase {
  id: string;
  featureId: string;
  featureKey: string;
  projectId: string;
  pipelineId: string;
  pipelineVersion: number;
  pipelineName: string;
  /** The pipeline's phases as snapshotted at start. */
  phaseSpecs: Phase[];
  selfApproval: SelfApproval;
  environments: string[];
  before: EnvironmentDefinition[];
  change: EnvironmentDefinition[];
  after: EnvironmentDefinition[];
  trigger: "UPDATE" | "START";
  /** The pipeline's promotion windows at start; absent: none (always open). */
  windows?: PromotionWindow[];
  status: ReleaseStatus;
  phases: ReleasePhaseState[];
  rolledOut: RolledOutPhase[];
  startedBy: string;
  startedAt: string;
  startReason: string | null;
  actions: ReleaseAction[];
  rejectedSignals: RejectedSignal[];
  /** Number of stored events. */
  version: number;
  updatedAt: string;
}

/** Running: at a phase (the last one once it rolled out, until ReleaseCompleted). */
export interface InProgressRelease extends ReleaseBase {
  status: "IN_PROGRESS";
  currentPhaseIndex: number;
  endedAt: null;
  abortReason: null;
}

export interface CompletedRelease extends ReleaseBase {
  status: "COMPLETED";
  currentPhaseIndex: null;
  endedAt: string;
  abortReason: null;
}

export interface AbortedRelease extends ReleaseBase {
  status: "ABORTED";
  currentPhaseIndex: null;
  endedAt: string;
  abortReason: string | null;
}

/** A release, tagged by its status: only one IN_PROGRESS has a current phase; only an ended one an end. */
export type Release = InProgressRelease | CompletedRelease | AbortedRelease;

export type ReleaseState = Release | null;

// ---- commands -------------------------------------------------------------------------------

export type StartRelease = Command<"StartRelease", Omit<ReleaseStarted["data"], "after" | "by" | "at">>;
export type ApproveRelease = Command<"ApproveRelease", { phaseIndex?: number | null; comment?: string | null }>;
export type PauseRelease = Command<"PauseRelease", { phaseIndex?: number | null; reason?: string | null }>;
export type UnpauseRelease = Command<"UnpauseRelease", { phaseIndex?: number | null; reason?: string | null }>;
export type SkipPhase = Command<"SkipPhase", { phaseIndex?: number | null; reason?: string | null }>;
export type AbortRelease = Command<"AbortRelease", { reason?: string | null }>;
export type FullRollout = Command<"FullRollout", { reason?: string | null }>;
/** ADMIN: roll out the current phase despite a freeze or a closed window; reason required. */
export type BreakGlass = Command<"BreakGlass", { phaseIndex?: number | null; reason?: string | null }>;
/** Undo the phases after `phaseIndex` (a rolled-out phase) and go on from the next one. */
export type RollbackToPhase = Command<"RollbackToPhase", { phaseIndex?: number | null; reason?: string | null }>;
/** System: take every automatic step that is due at `now` (a bake timer ended). */
export type Tick = Command<"Tick", Record<string, never>>;
/** System: the result of one run of a guardrail's check. */
export type RecordGuardrailCheck = Command<
  "RecordGuardrailCheck",
  { phaseIndex: number; name: string; passed: boolean; couldRun: boolean; result: string }
>;

export type ReleaseActionCommand =
  | ApproveRelease
  | PauseRelease
  | UnpauseRelease
  | SkipPhase
  | AbortRelease
  | FullRollout
  | RollbackToPhase
  | BreakGlass;
export type ReleaseCommand = StartRelease | ReleaseActionCommand | Tick | RecordGuardrailCheck;

/** The role each action needs (PRODUCT.md's actions table). */
export const ACTION_ROLES: Record<ReleaseActionCommand["type"], Role> = {
  ApproveRelease: "APPROVER",
  PauseRelease: "EDITOR",
  UnpauseRelease: "EDITOR",
  SkipPhase: "EDITOR",
  AbortRelease: "EDITOR",
  FullRollout: "APPROVER",
  RollbackToPhase: "EDITOR",
  BreakGlass: "ADMIN",
};

/**
 * What holds a ready phase besides people and timers, from outside the release: the project's freeze, as
 * the workflow last read it (services/project/project.ts). Windows are the release's own (snapshotted).
 */
export interface ReleaseGates {
  freeze: { reason: string; until: string | null } | null;
}

export const NO_GATES: ReleaseGates = { freeze: null };

interface Hold {
  status: "FROZEN" | "AWAITING_WINDOW";
  until: string | null;
  reason: string | null;
}

/** Why phase `index` may not roll out at `now`, or null when it may. A freeze comes before a window. */
export function holdOf(release: Release, index: number, now: string, gates: ReleaseGates): Hold | null {
  if (release.phases[index]?.glassBroken === true) return null;
  const { freeze } = gates;
  if (freeze !== null && (freeze.until === null || msBetween(now, freeze.until) > 0)) {
    return { status: "FROZEN", until: freeze.until, reason: freeze.reason };
  }
  const windows = release.windows ?? [];
  if (!isWithinWindows(windows, now)) {
    return { status: "AWAITING_WINDOW", until: nextWindowOpening(windows, now), reason: null };
  }
  return null;
}

const isHeld = (status: PhaseStatus): boolean => status === "FROZEN" || status === "AWAITING_WINDOW";

// ---- pure helpers ------------------------------------------------------------------------------

const definitionOf = (list: EnvironmentDefinition[], environment: string): Definition | undefined =>
  list.find((entry) => entry.environment === environment)?.definition;

/**
 * What the targets of phase `index` in `environment` serve once it rolls out: the change, as the phases
 * up to this one shaped it. A whole-environment ENABLE/DISABLE forces `enabled` (the environment's
 * default); a segment ENABLE/DISABLE ("enable flag for segment", as in Flagsmith) puts a rule for that
 * segment first — the change's own rule for it with `enabled` forced, or a new one — so the units in it get
 * the forced value and everyone else keeps the default. Segment
 * rules accumulate phase after phase, so us-east rolling out does not take us-west back.
 */
export function phaseDefinition(
  phases: readonly Phase[],
  index: number,
  change: EnvironmentDefinition[],
  environment: string,
): Definition {
  const base = definitionOf(change, environment);
  if (!base) throw new DomainError("INTERNAL", `release has no definition for environment ${environment}`);
  let enabled = base.enabled;
  const forced = new Map<string, boolean>();
  for (const phase of phases.slice(0, index + 1)) {
    const here = phase.targets.filter((t) => t.environment === environment);
    if (here.length === 0) continue;
    const whole = here.some((t) => t.segment === null);
    if (phase.action === "APPLY_CHANGE") {
      if (whole) enabled = base.enabled;
      continue;
    }
    const value = phase.action === "ENABLE";
    if (whole) {
      enabled = value;
      continue;
    }
    for (const target of here) {
      if (target.segment === null) continue;
      forced.delete(target.segment); // the latest phase's rule goes first
      forced.set(target.segment, value);
    }
  }
  if (forced.size === 0) return { ...base, enabled };
  // Flagsmith's "enable for a segment" forces `enabled` on the segment's override and keeps the rest:
  // a rule the change already has for the segment keeps its value and rollout percentage.
  const segmentRules: Rule[] = [...forced].reverse().map(([segment, on]) => {
    const own = base.rules.find((rule) => rule.segment === segment);
    return own ? { ...own, enabled: on } : { segment, enabled: on, value: null, rolloutPercentage: 100 };
  });
  return { ...base, enabled, rules: [...segmentRules, ...base.rules.filter((rule) => !forced.has(rule.segment))] };
}

const uniqueEnvironments = (targets: Target[]): string[] => [...new Set(targets.map((t) => t.environment))];

/**
 * Every environment's definition once the release completes: what the last phase touching it serves
 * (so segment rules forced by ENABLE/DISABLE phases stay), or the change where no phase touches it.
 */
export function computeAfter(
  phases: Phase[],
  environments: string[],
  change: EnvironmentDefinition[],
): EnvironmentDefinition[] {
  return environments.map((environment) => {
    const last = phases.findLastIndex((phase) => phase.targets.some((t) => t.environment === environment));
    const untouched = definitionOf(change, environment);
    if (last < 0 && untouched) return { environment, definition: untouched };
    return { environment, definition: phaseDefinition(phases, last, change, environment) };
  });
}

/**
 * What a release's state weighs once every phase rolled out, in JSON bytes (an estimate from above): the
 * started event's data with `after`, plus per phase the definitions of the environments it targets.
 */
export function releaseStateBytes(data: StartRelease["data"]): number {
  const after = computeAfter(data.phases, data.environments, data.change);
  const perEnvironment = new Map<string, number>();
  for (const list of [data.before, data.change, after]) {
    for (const { environment, definition } of list) {
      perEnvironment.set(environment, Math.max(perEnvironment.get(environment) ?? 0, jsonBytes(definition) + 40));
    }
  }
  let bytes = jsonBytes({ ...data, after });
  for (const phase of data.phases) {
    // Each guardrail's state while it runs: its name (≤ 200), its last result (≤ 500) and a timestamp.
    bytes += 400 + jsonBytes(phase.targets) + (phase.guardrails?.length ?? 0) * 800;
    for (const environment of new Set(phase.targets.map((t) => t.environment))) {
      bytes += perEnvironment.get(environment) ?? 0;
    }
  }
  return bytes;
}

/** The bake time still owed by a WAITING or PAUSED phase at `now`, in ms (null otherwise). */
export function remainingWaitMs(phase: ReleasePhaseState, now: string): number | null {
  if (phase.status === "PAUSED") return phase.remainingMs;
  if (phase.status === "WAITING" && phase.waitEndsAt) return Math.max(0, msBetween(now, phase.waitEndsAt));
  return null;
}

/** When the workflow must wake up next to Tick (the current bake timer's end), or null. */
export function nextWakeAt(release: ReleaseState): string | null {
  if (release?.status !== "IN_PROGRESS") return null;
  const phase = release.phases[release.currentPhaseIndex];
  if (phase !== undefined && isHeld(phase.status)) return phase.heldUntil ?? null;
  return phase?.status === "WAITING" ? phase.waitEndsAt : null;
}

/** Who a stored event is attributed to: the person in `data.by`, or "system" for automatic transitions. */
export function eventActor(event: ReleaseEvent): string {
  return "by" in event.data ? event.data.by : "system";
}

function describePhase(release: Release, index: number | null): string {
  if (index === null) return `the release is ${release.status}`;
  const phase = release.phases[index];
  return phase ? `phase ${index} (${phase.name}) is ${phase.status}` : `phase ${index} does not exist`;
}

// ---- decide ------------------------------------------------------------------------------------------

/** The release an action applies to: the actor's role first, then a release IN_PROGRESS. */
function acting(command: ReleaseActionCommand, state: ReleaseState, action: string): InProgressRelease {
  const needed = ACTION_ROLES[command.type];
  if (!roleAtLeast(command.actor.role, needed)) {
    throw new DomainError(
      "FORBIDDEN",
      `${command.type} needs the ${needed} role; ${command.actor.name} is ${command.actor.role}`,
    );
  }
  const text = command.data as { reason?: unknown; comment?: unknown };
  requireBoundedText("reason", text.reason);
  requireBoundedText("comment", text.comment);
  if (!state) throw new DomainError("NOT_FOUND", "release not found");
  if (state.status !== "IN_PROGRESS") {
    throw new DomainError("INVALID_STATE", `cannot ${action}: the release is ${state.status}`);
  }
  return state;
}

function currentPhase(
  release: InProgressRelease,
  action: string,
  phaseIndex: number | null | undefined,
): ReleasePhaseState {
  const phase = release.phases[release.currentPhaseIndex];
  if (!phase) {
    throw new DomainError("INVALID_STATE", `cannot ${action}: ${describePhase(release, release.currentPhaseIndex)}`);
  }
  if (phaseIndex !== undefined && phaseIndex !== null && phaseIndex !== phase.index) {
    throw new DomainError(
      "INVALID_STATE",
      `cannot ${action} phase ${phaseIndex}: it is no longer the current phase; ${describePhase(release, phase.index)}`,
    );
  }
  return phase;
}

/**
 * Only the `ReleaseStarted` event (no automatic steps): services/release/start.ts stores it before the
 * release's workflow starts, which takes every later step.
 */
export function decideStart(command: StartRelease, state: ReleaseState): ReleaseEvent[] {
  if (state) throw new DomainError("CONFLICT", `release ${state.id} already exists`);
  if (!roleAtLeast(command.actor.role, "EDITOR")) {
    throw new DomainError(
      "FORBIDDEN",
      `starting a release needs the EDITOR role; ${command.actor.name} is ${command.actor.role}`,
    );
  }
  const { data } = command;
  if (data.phases.length === 0) throw new DomainError("VALIDATION", "pipeline: has no phases");
  requireBoundedText("reason", data.reason);
  const bytes = releaseStateBytes(data);
  if (bytes > BOUNDS.releaseStateBytes) {
    throw validation(
      "environments",
      `this release would carry ${bytes} bytes of state (each phase keeps the definitions it rolls out to its targets), at most ${BOUNDS.releaseStateBytes} (1 MB) so its workflow stays under Temporal's 2 MB payload limit: use smaller definitions, or fewer phases or targets`,
    );
  }
  return [
    {
      type: "ReleaseStarted",
      data: {
        ...data,
        after: computeAfter(data.phases, data.environments, data.change),
        by: command.actor.name,
        at: command.now,
      },
    },
  ];
}

/** Reasons and comments: at most BOUNDS.textChars characters (VALIDATION naming the field and the bound). */
function requireBoundedText(field: string, value: unknown): void {
  if (typeof value === "string" && value.length > BOUNDS.textChars) {
    throw validation(field, `must be at most ${BOUNDS.textChars} characters (got ${value.length})`);
  }
}

function approve(command: ApproveRelease, state: ReleaseState): ReleaseEvent[] {
  const release = acting(command, state, "approve");
  const by = command.actor.name;
  const phase = currentPhase(release, "approve", command.data.phaseIndex);
  if (phase.status !== "AWAITING_APPROVAL") {
    throw new DomainError(
      "INVALID_STATE",
      `cannot approve: ${describePhase(release, phase.index)}, not AWAITING_APPROVAL`,
    );
  }
  // Names are compared as people read them (NFKC, case-insensitive): "Eve" is eve.
  if (release.selfApproval === "FORBIDDEN" && sameActor(release.startedBy, by)) {
    throw new DomainError(
      "SELF_APPROVAL_FORBIDDEN",
      `${by} started this release and the pipeline forbids self-approval`,
    );
  }
  if (phase.approvals.some((approval) => sameActor(approval.by, by))) {
    throw new DomainError(
      "INVALID_STATE",
      `cannot approve: ${by} already approved phase ${phase.index} (${phase.name})`,
    );
  }
  const comment = command.data.comment ?? null;
  return [
    {
      type: "ReleasePhaseApproved",
      data: { releaseId: release.id, phaseIndex: phase.index, by, comment, at: command.now },
    },
  ];
}

function pause(command: PauseRelease, state: ReleaseState): ReleaseEvent[] {
  const release = acting(command, state, "pause");
  const phase = currentPhase(release, "pause", command.data.phaseIndex);
  if (phase.status !== "WAITING") {
    throw new DomainError(
      "INVALID_STATE",
      `cannot pause: ${describePhase(release, phase.index)}; only a WAITING bake timer can be paused`,
    );
  }
  const { now: at } = command;
  const remainingMs = remainingWaitMs(phase, at) ?? 0;
  const reason = command.data.reason ?? null;
  return [
    {
      type: "ReleasePaused",
      data: { releaseId: release.id, phaseIndex: phase.index, remainingMs, by: command.actor.name, reason, at },
    },
  ];
}

function unpause(command: UnpauseRelease, state: ReleaseState): ReleaseEvent[] {
  const release = acting(command, state, "unpause");
  const phase = currentPhase(release, "unpause", command.data.phaseIndex);
  if (phase.status !== "PAUSED") {
    throw new DomainError("INVALID_STATE", `cannot unpause: ${describePhase(release, phase.index)}, not PAUSED`);
  }
  const { now: at } = command;
  const endsAt = addMs(at, phase.remainingMs ?? 0);
  const reason = command.data.reason ?? null;
  return [
    {
      type: "ReleaseUnpaused",
      data: { releaseId: release.id, phaseIndex: phase.index, endsAt, by: command.actor.name, reason, at },
    },
  ];
}

function skip(command: SkipPhase, state: ReleaseState): ReleaseEvent[] {
  const release = acting(command, state, "skip");
  const phase = currentPhase(release, "skip", command.data.phaseIndex);
  if (phase.status !== "WAITING" && phase.status !== "PAUSED") {
    throw new DomainError(
      "INVALID_STATE",
      `cannot skip: ${describePhase(release, phase.index)}; skip ends a WAITING or PAUSED bake time and never bypasses an approval`,
    );
  }
  const reason = command.data.reason ?? null;
  return [
    {
      type: "ReleasePhaseWaitSkipped",
      data: { releaseId: release.id, phaseIndex: phase.index, by: command.actor.name, reason, at: command.now },
    },
  ];
}

/** What an abort puts back: `before` for every environment a phase rolled out whole. */
function abortReverted(release: Release): EnvironmentDefinition[] {
  const rolledWhole = new Set(
    release.rolledOut.flatMap((r) => r.targets.filter((t) => t.segment === null).map((t) => t.environment)),
  );
  return release.before.filter((entry) => rolledWhole.has(entry.environment));
}

function abort(command: AbortRelease, state: ReleaseState): ReleaseEvent[] {
  const release = acting(command, state, "abort");
  const reverted = abortReverted(release);
  const reason = command.data.reason ?? null;
  return [
    {
      type: "ReleaseAborted",
      data: {
        releaseId: release.id,
        phaseIndex: release.currentPhaseIndex,
        by: command.actor.name,
        reason,
        reverted,
        at: command.now,
      },
    },
  ];
}

function rollbackToPhase(command: RollbackToPhase, state: ReleaseState): ReleaseEvent[] {
  const release = acting(command, state, "roll back");
  const target = command.data.phaseIndex;
  if (target === undefined || target === null) {
    throw validation("phaseIndex", "is required: the rolled-out phase to go back to");
  }
  const phase = release.phases[target];
  if (phase?.status !== "ROLLED_OUT") {
    throw new DomainError(
      "INVALID_STATE",
      `cannot roll back to phase ${target}: ${describePhase(release, phase ? target : null)}${phase ? "" : ` (phase ${target} does not exist)`}; only a rolled-out phase can be rolled back to`,
    );
  }
  // Exactly as abort does for them: each environment a later phase rolled out whole goes back — to what a
  // kept phase stored there, if one did, else to `before`. Segment targets are only served, never stored.
  const kept = rolledOutFeatureDefinitions({
    ...release,
    rolledOut: release.rolledOut.filter((r) => r.phaseIndex <= target),
  });
  const undone = new Set(
    release.rolledOut
      .filter((r) => r.phaseIndex > target)
      .flatMap((r) => r.targets.filter((t) => t.segment === null).map((t) => t.environment)),
  );
  const reverted = release.environments
    .filter((environment) => undone.has(environment))
    .map((environment) => ({
      environment,
      definition: kept.get(environment) ?? definitionOf(release.before, environment),
    }))
    .filter((entry): entry is EnvironmentDefinition => entry.definition !== undefined);
  return [
    {
      type: "ReleaseRolledBack",
      data: {
        releaseId: release.id,
        phaseIndex: target,
        fromPhaseIndex: release.currentPhaseIndex,
        by: command.actor.name,
        reason: command.data.reason ?? null,
        reverted,
        at: command.now,
      },
    },
  ];
}

function fullRollout(command: FullRollout, state: ReleaseState, gates: ReleaseGates): ReleaseEvent[] {
  const release = acting(command, state, "roll out fully");
  const hold = holdOf(release, release.currentPhaseIndex, command.now, gates);
  if (hold !== null) {
    throw new DomainError(
      "INVALID_STATE",
      `cannot roll out fully: ${hold.status === "FROZEN" ? "the project is frozen" : "the pipeline's promotion windows are closed"}; an ADMIN may break glass for the current phase`,
    );
  }
  const reason = command.data.reason ?? null;
  return [
    {
      type: "ReleaseFullRolloutRequested",
      data: {
        releaseId: release.id,
        phaseIndex: release.currentPhaseIndex,
        by: command.actor.name,
        reason,
        at: command.now,
      },
    },
  ];
}

function breakGlass(command: BreakGlass, state: ReleaseState, gates: ReleaseGates): ReleaseEvent[] {
  const release = acting(command, state, "break glass");
  const reason = typeof command.data.reason === "string" ? command.data.reason.trim() : "";
  if (reason === "") throw validation("reason", "is required to break glass: say why the freeze or window is bypassed");
  const phase = currentPhase(release, "break glass", command.data.phaseIndex);
  if (phase.status === "ROLLED_OUT") {
    throw new DomainError("INVALID_STATE", `cannot break glass: ${describePhase(release, phase.index)}`);
  }
  if (phase.glassBroken === true) {
    throw new DomainError(
      "INVALID_STATE",
      `cannot break glass: it is already broken for phase ${phase.index} (${phase.name})`,
    );
  }
  if (!isHeld(phase.status) && holdOf(release, phase.index, command.now, gates) === null) {
    throw new DomainError(
      "INVALID_STATE",
      `cannot break glass: ${describePhase(release, phase.index)} and nothing holds it: the project is not frozen and the pipeline's promotion windows are open`,
    );
  }
  return [
    {
      type: "ReleaseGlassBroken",
      data: { releaseId: release.id, phaseIndex: phase.index, by: command.actor.name, reason, at: command.now },
    },
  ];
}

const RESULT_CHARS = 500;

/**
 * A guardrail's check result, at `now`. Stale results (the phase moved on, was paused, the release ended)
 * change nothing. Only state changes are stored (decision 0041); the trip pauses or aborts as `system`.
 */
function recordGuardrailCheck(command: RecordGuardrailCheck, state: ReleaseState): ReleaseEvent[] {
  if (!state) throw new DomainError("NOT_FOUND", "release not found");
  const d = command.data;
  const active = activeGuardrails(state);
  if (state.status !== "IN_PROGRESS" || active === null || active.phaseIndex !== d.phaseIndex) return [];
  const spec = active.guardrails.find((g) => g.name === d.name);
  const phase = state.phases[d.phaseIndex];
  if (!spec || !phase) return [];
  const entry = phase.guardrails?.find((g) => g.name === d.name) ?? freshGuardrails({ guardrails: [spec] } as Phase)[0];
  if (!entry) return [];
  const at = command.now;
  const result = d.result.length > RESULT_CHARS ? `${d.result.slice(0, RESULT_CHARS - 1)}…` : d.result;
  const base = { releaseId: state.id, phaseIndex: d.phaseIndex, name: d.name, result, at };
  if (d.passed) {
    if (entry.consecutiveFailures === 0 && entry.lastCheckedAt !== null) return [];
    return [
      { type: "ReleaseGuardrailChecked", data: { ...base, passed: true, couldRun: true, consecutiveFailures: 0 } },
    ];
  }
  const failures = entry.consecutiveFailures + 1;
  const events: ReleaseEvent[] = [
    {
      type: "ReleaseGuardrailChecked",
      data: { ...base, passed: false, couldRun: d.couldRun, consecutiveFailures: failures },
    },
  ];
  if (failures < spec.failuresToTrip) return events;
  const couldNotRun = entry.streakCouldNotRun || !d.couldRun;
  const outcome = spec.onFailure === "ABORT" && !couldNotRun ? "ABORT" : "PAUSE";
  const reason =
    `guardrail "${spec.name}" tripped after ${failures} consecutive failed checks (last: ${result})` +
    (spec.onFailure === "ABORT" && couldNotRun ? "; a check could not run, so it pauses instead of aborting" : "");
  events.push({
    type: "ReleaseGuardrailTripped",
    data: {
      releaseId: state.id,
      phaseIndex: d.phaseIndex,
      name: spec.name,
      outcome,
      consecutiveFailures: failures,
      reason,
      at,
    },
  });
  const by = SYSTEM_ACTOR.name;
  events.push(
    outcome === "PAUSE"
      ? {
          type: "ReleasePaused",
          data: {
            releaseId: state.id,
            phaseIndex: d.phaseIndex,
            remainingMs: remainingWaitMs(phase, at) ?? 0,
            by,
            reason,
            at,
          },
        }
      : {
          type: "ReleaseAborted",
          data: { releaseId: state.id, phaseIndex: d.phaseIndex, by, reason, reverted: abortReverted(state), at },
        },
  );
  return events;
}

/** Nothing of its own: the automatic steps due at `now` follow (see `decide`). */
function tick(_command: Tick, state: ReleaseState): ReleaseEvent[] {
  if (!state) throw new DomainError("NOT_FOUND", "release not found");
  return [];
}

function rollOut(release: Release, index: number, at: string): ReleasePhaseRolledOut {
  const spec = release.phaseSpecs[index];
  if (!spec) throw new DomainError("INTERNAL", `phase ${index} does not exist`);
  return {
    type: "ReleasePhaseRolledOut",
    data: {
      releaseId: release.id,
      phaseIndex: index,
      targets: spec.targets,
      definitions: uniqueEnvironments(spec.targets).map((environment) => ({
        environment,
        definition: phaseDefinition(release.phaseSpecs, index, release.change, environment),
      })),
      at,
    },
  };
}

/**
 * The phase's rollout (`go`: its rollout, or the start of its ramp), or — when a freeze or a closed window
 * holds it — its hold (once per change of hold).
 */
function rollOutOrHold(
  release: Release,
  index: number,
  now: string,
  gates: ReleaseGates,
  go: () => ReleaseEvent = () => rollOut(release, index, now),
): ReleaseEvent | null {
  const hold = holdOf(release, index, now, gates);
  if (hold === null) return go();
  const phase = release.phases[index];
  if (phase !== undefined && phase.status === hold.status && (phase.heldUntil ?? null) === hold.until) return null;
  return {
    type: "ReleasePhaseHeld",
    data: {
      releaseId: release.id,
      phaseIndex: index,
      status: hold.status,
      until: hold.until,
      reason: hold.reason,
      at: now,
    },
  };
}

/** The automatic step due now for the release, or null when it must wait for a person or a timer. */
function automaticStep(release: Release, now: string, fullRollout: boolean, gates: ReleaseGates): ReleaseEvent | null {
  if (release.status !== "IN_PROGRESS") return null;
  const index = release.currentPhaseIndex;
  const releaseId = release.id;
  const phase = release.phases[index];
  const spec = release.phaseSpecs[index];
  if (!phase || !spec) return { type: "ReleaseCompleted", data: { releaseId, at: now } };
  if (fullRollout) {
    return phase.status === "ROLLED_OUT"
      ? { type: "ReleaseCompleted", data: { releaseId, at: now } }
      : rollOutOrHold(release, index, now, gates);
  }
  // A phase with a ramp starts it where it would roll out; it rolls out when the ramp reaches 100.
  const rollOutOrRamp = (): ReleaseEvent => {
    const ramp = spec.ramp;
    if (!ramp || ramp.initialPercentage >= 100) return rollOut(release, index, now);
    const nextStepAt = addMs(now, ramp.everyMs);
    return {
      type: "ReleaseRampAdvanced",
      data: { releaseId, phaseIndex: index, percentage: ramp.initialPercentage, nextStepAt, at: now },
    };
  };
  const afterWait = (): ReleaseEvent | null =>
    spec.requiresApproval
      ? {
          type: "ReleaseApprovalRequested",
          data: { releaseId, phaseIndex: index, approvalsRequired: spec.approvalsRequired, at: now },
        }
      : rollOutOrHold(release, index, now, gates, rollOutOrRamp);
  if (isRamping(phase)) {
    // The ramp's clock is the phase's wait: pause stops it, unpause resumes it, skip jumps to 100.
    const percentage = rolloutPercentageOf(phase);
    if (phase.status === "SKIPPED_WAIT" || percentage >= 100) return rollOut(release, index, now);
    if (phase.status !== "WAITING" || phase.waitEndsAt === null || msBetween(phase.waitEndsAt, now) < 0) return null;
    const next = Math.min(100, roundPercentage(percentage + (spec.ramp?.increaseBy ?? 100)));
    const nextStepAt = next >= 100 ? null : addMs(now, spec.ramp?.everyMs ?? 0);
    return {
      type: "ReleaseRampAdvanced",
      data: { releaseId, phaseIndex: index, percentage: next, nextStepAt, at: now },
    };
  }
  switch (phase.status) {
    case "PENDING":
      if (spec.waitForMs !== null && spec.waitForMs > 0) {
        const endsAt = addMs(now, spec.waitForMs);
        return {
          type: "ReleasePhaseWaitStarted",
          data: { releaseId, phaseIndex: index, waitMs: spec.waitForMs, endsAt, at: now },
        };
      }
      return afterWait();
    case "WAITING":
      return phase.waitEndsAt !== null && msBetween(phase.waitEndsAt, now) >= 0 ? afterWait() : null;
    case "SKIPPED_WAIT":
      return afterWait();
    case "AWAITING_APPROVAL":
      return phase.approvals.length >= spec.approvalsRequired
        ? rollOutOrHold(release, index, now, gates, rollOutOrRamp)
        : null;
    case "FROZEN":
    case "AWAITING_WINDOW":
      // Timers ran out and approvals are in: only the hold is left.
      return rollOutOrHold(release, index, now, gates, rollOutOrRamp);
    case "PAUSED":
      return null;
    case "ROLLED_OUT":
      // evolve moves on to the next phase after a rollout; a rolled-out current phase means the last one.
      return { type: "ReleaseCompleted", data: { releaseId, at: now } };
    default: {
      const unknown: never = phase.status;
      throw new DomainError("INTERNAL", `unknown phase status ${String(unknown)}`);
    }
  }
}

/** Percentages added step by step stay exact to 1e-9 (5 + 0.1 + 0.2 is 5.3, not 5.300000000000001). */
const roundPercentage = (value: number): number => Math.round(value * 1e9) / 1e9;

/** Every automatic event due at `now`, after `events` (already decided) took effect. */
function advance(state: ReleaseState, events: ReleaseEvent[], now: string, gates: ReleaseGates): ReleaseEvent[] {
  let current = events.reduce(evolve, state);
  const fullRollout = events.some((e) => e.type === "ReleaseFullRolloutRequested");
  const produced: ReleaseEvent[] = [];
  // Bounded: each step moves a phase forward; a release has at most 5 steps per phase plus completion
  // (a ramp takes one step per `every`, so only its start and its end can fall in one decision).
  const limit = 5 * (current?.phaseSpecs.length ?? 0) + 2;
  for (let i = 0; current && i < limit; i++) {
    const step = automaticStep(current, now, fullRollout, gates);
    if (!step) break;
    produced.push(step);
    current = evolve(current, step);
  }
  return produced;
}

/** The events `command` causes directly: one function per command. */
function decideCommand(command: ReleaseCommand, state: ReleaseState, gates: ReleaseGates): ReleaseEvent[] {
  switch (command.type) {
    case "StartRelease":
      return decideStart(command, state);
    case "ApproveRelease":
      return approve(command, state);
    case "PauseRelease":
      return pause(command, state);
    case "UnpauseRelease":
      return unpause(command, state);
    case "SkipPhase":
      return skip(command, state);
    case "AbortRelease":
      return abort(command, state);
    case "FullRollout":
      return fullRollout(command, state, gates);
    case "RollbackToPhase":
      return rollbackToPhase(command, state);
    case "BreakGlass":
      return breakGlass(command, state, gates);
    case "Tick":
      return tick(command, state);
    case "RecordGuardrailCheck":
      return recordGuardrailCheck(command, state);
    default: {
      const unknown: never = command;
      throw new DomainError("INTERNAL", `unknown release command ${(unknown as { type: string }).type}`);
    }
  }
}

/**
 * The command's events, then every automatic step due at its `now`. `gates`: the project's freeze as the
 * caller knows it (the workflow reads it from the project's stream); none by default.
 */
export function decide(command: ReleaseCommand, state: ReleaseState, gates: ReleaseGates = NO_GATES): ReleaseEvent[] {
  const direct = decideCommand(command, state, gates);
  return [...direct, ...advance(state, direct, command.now, gates)];
}

// ---- evolve ------------------------------------------------------------------------------------

function withPhase(release: Release, index: number, change: (phase: ReleasePhaseState) => ReleasePhaseState): Release {
  return { ...release, phases: release.phases.map((phase) => (phase.index === index ? change(phase) : phase)) };
}

function recordAction(
  release: Release,
  kind: ReleaseActionKind,
  data: { by: string; at: string; phaseIndex: number },
  reason: string | null,
): Release {
  return {
    ...release,
    actions: [
      ...release.actions,
      { kind, by: data.by, at: data.at, reason, phaseIndex: data.phaseIndex >= 0 ? data.phaseIndex : null },
    ],
  };
}

export function evolve(state: ReleaseState, event: ReleaseEvent): ReleaseState {
  if (event.type === "ReleaseStarted") {
    const d = event.data;
    return {
      id: d.releaseId,
      featureId: d.featureId,
      featureKey: d.featureKey,
      projectId: d.projectId,
      pipelineId: d.pipelineId,
      pipelineVersion: d.pipelineVersion,
      pipelineName: d.pipelineName,
      phaseSpecs: d.phases,
      selfApproval: d.selfApproval,
      environments: d.environments,
      before: d.before,
      change: d.change,
      after: d.after,
      trigger: d.trigger,
      ...(d.windows !== undefined && d.windows.length > 0 && { windows: d.windows }),
      status: "IN_PROGRESS",
      phases: d.phases.map((phase, index) => ({
        index,
        name: phase.name,
        status: "PENDING",
        waitStartedAt: null,
        waitEndsAt: null,
        remainingMs: null,
        waitSkipped: false,
        approvals: [],
        rolledOutAt: null,
        rolloutPercentage: 0,
        guardrails: freshGuardrails(phase),
      })),
      currentPhaseIndex: 0,
      rolledOut: [],
      startedBy: d.by,
      startedAt: d.at,
      startReason: d.reason,
      endedAt: null,
      abortReason: null,
      actions: [],
      rejectedSignals: [],
      version: 1,
      updatedAt: d.at,
    };
  }
  if (!state) return state;
  const release = { ...state, version: state.version + 1, updatedAt: event.data.at };
  switch (event.type) {
    case "ReleasePhaseWaitStarted": {
      const { phaseIndex, at, endsAt } = event.data;
      return withPhase(release, phaseIndex, (p) => ({
        ...p,
        status: "WAITING",
        waitStartedAt: at,
        waitEndsAt: endsAt,
      }));
    }
    case "ReleasePaused": {
      const d = event.data;
      const paused = withPhase(release, d.phaseIndex, (p) => ({
        ...p,
        status: "PAUSED",
        waitEndsAt: null,
        remainingMs: d.remainingMs,
      }));
      return recordAction(paused, "PAUSE", d, d.reason);
    }
    case "ReleaseUnpaused": {
      const d = event.data;
      // A person resumed: the guardrails start counting failures afresh (their last results stay).
      const resumed = withPhase(release, d.phaseIndex, (p) => ({
        ...p,
        status: "WAITING",
        waitEndsAt: d.endsAt,
        remainingMs: null,
        ...(p.guardrails && {
          guardrails: p.guardrails.map((g) => ({ ...g, consecutiveFailures: 0, streakCouldNotRun: false })),
        }),
      }));
      return recordAction(resumed, "UNPAUSE", d, d.reason);
    }
    case "ReleasePhaseWaitSkipped": {
      const d = event.data;
      const skipped = withPhase(release, d.phaseIndex, (p) => ({
        ...p,
        status: "SKIPPED_WAIT",
        waitEndsAt: null,
        remainingMs: null,
        waitSkipped: true,
      }));
      return recordAction(skipped, "SKIP", d, d.reason);
    }
    case "ReleaseApprovalRequested":
      return withPhase(release, event.data.phaseIndex, (p) => ({
        ...p,
        status: "AWAITING_APPROVAL",
        waitEndsAt: null,
        remainingMs: null,
      }));
    case "ReleasePhaseApproved": {
      const d = event.data;
      const approved = withPhase(release, d.phaseIndex, (p) => ({
        ...p,
        approvals: [...p.approvals, { by: d.by, at: d.at, comment: d.comment }],
      }));
      return recordAction(approved, "APPROVE", d, d.comment);
    }
    case "ReleasePhaseRolledOut": {
      const d = event.data;
      const rolled = withPhase(release, d.phaseIndex, (p) => ({
        ...p,
        status: "ROLLED_OUT",
        waitEndsAt: null,
        remainingMs: null,
        rolledOutAt: d.at,
        rolloutPercentage: 100,
        ...(p.heldUntil !== undefined && { heldUntil: null }),
      }));
      const last = d.phaseIndex >= release.phaseSpecs.length - 1;
      const recorded = {
        ...rolled,
        rolledOut: [...rolled.rolledOut, { phaseIndex: d.phaseIndex, targets: d.targets, definitions: d.definitions }],
      };
      // The next phase becomes current; the last one stays current until ReleaseCompleted.
      return recorded.status === "IN_PROGRESS"
        ? { ...recorded, currentPhaseIndex: last ? d.phaseIndex : d.phaseIndex + 1 }
        : recorded;
    }
    case "ReleaseRampAdvanced": {
      const d = event.data;
      return withPhase(release, d.phaseIndex, (p) => ({
        ...p,
        status: "WAITING",
        // The ramp's first step starts the phase's wait; each step sets when the next one is due.
        waitStartedAt: isRamping(p) ? p.waitStartedAt : d.at,
        waitEndsAt: d.nextStepAt ?? d.at,
        remainingMs: null,
        rolloutPercentage: d.percentage,
      }));
    }
    case "ReleaseRolledBack": {
      const d = event.data;
      const undone: Release = {
        ...release,
        phases: release.phases.map((p) =>
          p.index <= d.phaseIndex
            ? p
            : {
                ...p,
                status: "PENDING",
                waitStartedAt: null,
                waitEndsAt: null,
                remainingMs: null,
                waitSkipped: false,
                approvals: [],
                rolledOutAt: null,
                rolloutPercentage: 0,
                guardrails: freshGuardrails(release.phaseSpecs[p.index]),
              },
        ),
        rolledOut: release.rolledOut.filter((r) => r.phaseIndex <= d.phaseIndex),
      };
      const recorded = recordAction(undone, "ROLLBACK_TO_PHASE", d, d.reason);
      return recorded.status === "IN_PROGRESS" ? { ...recorded, currentPhaseIndex: d.phaseIndex + 1 } : recorded;
    }
    case "ReleaseGuardrailChecked": {
      const d = event.data;
      return withPhase(release, d.phaseIndex, (p) => ({
        ...p,
        guardrails: (p.guardrails ?? freshGuardrails(release.phaseSpecs[p.index])).map((g) =>
          g.name === d.name
            ? {
                ...g,
                consecutiveFailures: d.consecutiveFailures,
                lastCheckedAt: d.at,
                lastResult: d.result,
                streakCouldNotRun: d.passed ? false : g.streakCouldNotRun || !d.couldRun,
              }
            : g,
        ),
      }));
    }
    case "ReleaseGuardrailTripped":
      // What it does is the ReleasePaused or ReleaseAborted that follows it.
      return release;
    case "ReleaseFullRolloutRequested":
      return recordAction(release, "FULL_ROLLOUT", event.data, event.data.reason);
    case "ReleaseAborted": {
      const d = event.data;
      const aborted = recordAction(release, "ABORT", d, d.reason);
      return { ...aborted, status: "ABORTED", currentPhaseIndex: null, endedAt: d.at, abortReason: d.reason };
    }
    case "ReleaseCompleted":
      return { ...release, status: "COMPLETED", currentPhaseIndex: null, endedAt: event.data.at, abortReason: null };
    case "ReleasePhaseHeld": {
      const { phaseIndex, status, until } = event.data;
      return withPhase(release, phaseIndex, (p) => ({ ...p, status, heldUntil: until }));
    }
    case "ReleaseGlassBroken": {
      const d = event.data;
      const broken = withPhase(release, d.phaseIndex, (p) => ({ ...p, glassBroken: true }));
      return recordAction(broken, "BREAK_GLASS", d, d.reason);
    }
    case "ReleaseSignalRejected": {
      const { action, by, code, message, at } = event.data;
      return { ...release, rejectedSignals: [...release.rejectedSignals, { action, by, code, message, at }] };
    }
    default: {
      const unknown: never = event;
      throw new DomainError("INTERNAL", `unknown release event ${(unknown as { type: string }).type}`);
    }
  }
}

export const releaseDecider: Decider<ReleaseState, ReleaseCommand, ReleaseEvent> = {
  initialState: () => null,
  evolve,
  decide,
};

/**
 * What serving needs of a release (services/serving/evaluate.ts). `outcome`: what the feature will store
 * once the release's end reaches it (after for COMPLETED, before for ABORTED), so serving does not flicker
 * back to the old definition between the release ending and the feature's update being applied.
 */
export const toReleaseView = (release: Release) => ({
  id: release.id,
  status: release.status,
  rolledOut: [...release.rolledOut, ...rampingPhases(release)] as (RolledOutPhase & { percentage?: number })[],
  outcome: release.status === "COMPLETED" ? release.after : release.status === "ABORTED" ? release.before : null,
});

/** The phases that ramp (at most the current one), as serving sees them: with the share of units in. */
function rampingPhases(release: Release): (RolledOutPhase & { percentage: number })[] {
  return release.phases.filter(isRamping).map((phase) => {
    const spec = release.phaseSpecs[phase.index];
    const targets = spec?.targets ?? [];
    return {
      phaseIndex: phase.index,
      targets,
      definitions: uniqueEnvironments(targets).map((environment) => ({
        environment,
        definition: phaseDefinition(release.phaseSpecs, phase.index, release.change, environment),
      })),
      percentage: rolloutPercentageOf(phase),
    };
  });
}

/**
 * The feature-side effect of a stored release event, as commands for the feature decider: a rolled-out
 * whole environment now stores the new definition; completion stores `after` everywhere; abort puts
 * `before` back; completion and abort release the feature's lock.
 */
export type FeatureEffect =
  | {
      type: "ApplyReleaseDefinitions";
      environments: EnvironmentDefinition[];
      cause: "ROLLOUT" | "COMPLETE" | "REVERT";
      phaseIndex?: number;
    }
  | { type: "EndRelease"; status: "COMPLETED" | "ABORTED" };

/** The definitions a rolled-out phase stores on the feature: those of the environments it targets whole. */
const wholeEnvironmentDefinitions = (phase: Omit<RolledOutPhase, "phaseIndex">): EnvironmentDefinition[] => {
  const whole = new Set(phase.targets.filter((t) => t.segment === null).map((t) => t.environment));
  return phase.definitions.filter((d) => whole.has(d.environment));
};

/**
 * What the feature stores because of the release's rollouts so far (featureEffects of its
 * ReleasePhaseRolledOut events): per environment, the latest phase's definition.
 */
export function rolledOutFeatureDefinitions(release: Release): Map<string, Definition> {
  const latest = new Map<string, Definition>();
  for (const phase of release.rolledOut)
    for (const entry of wholeEnvironmentDefinitions(phase)) latest.set(entry.environment, entry.definition);
  return latest;
}

export function featureEffects(release: Release, event: ReleaseEvent): FeatureEffect[] {
  switch (event.type) {
    case "ReleasePhaseRolledOut": {
      const environments = wholeEnvironmentDefinitions(event.data);
      return environments.length
        ? [{ type: "ApplyReleaseDefinitions", environments, cause: "ROLLOUT", phaseIndex: event.data.phaseIndex }]
        : [];
    }
    case "ReleaseCompleted":
      return [
        { type: "ApplyReleaseDefinitions", environments: release.after, cause: "COMPLETE" },
        { type: "EndRelease", status: "COMPLETED" },
      ];
    case "ReleaseRolledBack":
      return event.data.reverted.length
        ? [{ type: "ApplyReleaseDefinitions", environments: event.data.reverted, cause: "REVERT" }]
        : [];
    case "ReleaseAborted":
      return [
        ...(event.data.reverted.length
          ? [{ type: "ApplyReleaseDefinitions" as const, environments: event.data.reverted, cause: "REVERT" as const }]
          : []),
        { type: "EndRelease", status: "ABORTED" },
      ];
    default:
      return [];
  }
}

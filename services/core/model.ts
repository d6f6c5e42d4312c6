// Value types shared by every slice of the domain. They mirror the contract's types.

export const ROLES = ["VIEWER", "EDITOR", "APPROVER", "ADMIN"] as const;
export type Role = (typeof ROLES)[number];
/** VIEWER < EDITOR < APPROVER < ADMIN */
export const roleAtLeast = (role: Role, needed: Role): boolean => ROLES.indexOf(role) >= ROLES.indexOf(needed);

export type FeatureKind = "GATE" | "DYNAMIC_CONFIG";
export type PipelineStatus = "DRAFT" | "PUBLISHED" | "DELETED";
export type PhaseAction = "APPLY_CHANGE" | "ENABLE" | "DISABLE";
export type SelfApproval = "ALLOWED" | "FORBIDDEN";
export type ReleaseStatus = "IN_PROGRESS" | "COMPLETED" | "ABORTED";
/** FROZEN and AWAITING_WINDOW: ready to roll out, held by a project freeze or the pipeline's promotion windows. */
export type PhaseStatus =
  | "PENDING"
  | "WAITING"
  | "PAUSED"
  | "AWAITING_APPROVAL"
  | "ROLLED_OUT"
  | "SKIPPED_WAIT"
  | "FROZEN"
  | "AWAITING_WINDOW";
export type ReleaseActionKind =
  | "APPROVE"
  | "PAUSE"
  | "UNPAUSE"
  | "SKIP"
  | "ABORT"
  | "FULL_ROLLOUT"
  | "ROLLBACK_TO_PHASE"
  | "BREAK_GLASS";
export type SegmentOperator = "IN" | "NOT_IN";

export interface Segment {
  key: string;
  attribute: string;
  operator: SegmentOperator;
  values: string[];
}

export interface Rule {
  segment: string;
  enabled: boolean;
  value: unknown;
  /** 0..100 */
  rolloutPercentage: number;
}

export interface Definition {
  enabled: boolean;
  /** JSON value of a dynamic config; null when unset. */
  value: unknown;
  rules: Rule[];
}

export interface EnvironmentDefinition {
  environment: string;
  definition: Definition;
}

export interface Target {
  environment: string;
  /** A segment key of the project; null = the whole environment. */
  segment: string | null;
}

export interface Phase {
  name: string;
  /** ISO-8601 duration as given (canonical form), or null = roll out on enter. */
  waitFor: string | null;
  waitForMs: number | null;
  requiresApproval: boolean;
  approvalsRequired: number;
  action: PhaseAction;
  targets: Target[];
  /** A gradual rollout of the phase's targets (absent: all at once). Absent in phases stored before ramps. */
  ramp?: Ramp;
  /** Health checks run while the phase bakes or ramps. Absent in phases stored before guardrails. */
  guardrails?: Guardrail[];
}

export type GuardrailKind = "HTTP_PROBE" | "PROMETHEUS_QUERY";
export type GuardrailOutcome = "PAUSE" | "ABORT";
export type Comparator = "LT" | "LTE" | "GT" | "GTE";

/**
 * HTTP_PROBE fails on a non-2xx answer or a timeout; PROMETHEUS_QUERY fails when `value comparator
 * threshold` is false. A check that cannot run (unreachable, an error, no data) counts as a failure but
 * only ever pauses.
 */
export interface Guardrail {
  name: string;
  kind: GuardrailKind;
  url: string;
  query: string | null;
  comparator: Comparator | null;
  threshold: number | null;
  /** ISO-8601 (canonical) beside its milliseconds: 1 second to 1 day. */
  interval: string;
  intervalMs: number;
  failuresToTrip: number;
  onFailure: GuardrailOutcome;
}

/** initialPercentage of the targets' units, then + increaseBy every `every`, until 100. */
export interface Ramp {
  initialPercentage: number;
  increaseBy: number;
  /** ISO-8601 duration (canonical form) beside its milliseconds. */
  every: string;
  everyMs: number;
}

/** Who issues a command. `name` is the token's name ("system" for automatic transitions). */
export interface Actor {
  name: string;
  role: Role;
}

export const SYSTEM_ACTOR: Actor = { name: "system", role: "ADMIN" };

export const disabledDefinition = (): Definition => ({ enabled: false, value: null, rules: [] });

/** Deep equality of JSON-like values (definitions, values). Key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

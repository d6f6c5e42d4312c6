// What an SDK in an environment serves a unit right now (PRODUCT.md, "Serving during a release").
// Pure: the caller loads the feature, its active release and the project's segments.

import type { Definition, EnvironmentDefinition, ReleaseStatus, Segment, Target } from "../core/model.ts";
import type { Feature } from "../feature/feature.ts";
import { bucket } from "./hash.ts";

/** What serving needs of a release (the release module converts its state to this). */
export interface ReleaseView {
  id: string;
  status: ReleaseStatus;
  /** `percentage`: a ramping phase serves only that share of its targets' units (absent: 100). */
  rolledOut: { phaseIndex: number; targets: Target[]; definitions: EnvironmentDefinition[]; percentage?: number }[];
  /**
   * For a release that has ended but whose end has not reached the feature yet: what the feature is
   * about to store (after a completion, before an abort). Served instead of the stored definition.
   */
  outcome?: EnvironmentDefinition[] | null;
}

export interface Unit {
  id: string;
  attributes?: Record<string, unknown> | null;
}

export interface Evaluation {
  enabled: boolean;
  /** JSON value of a dynamic config; null for a gate or when unset. */
  value: unknown;
  /** DEFAULT, RULE:<segment>, RELEASE:<releaseId>:PHASE:<index>[:RAMP:<percentage>], or NOT_FOUND. */
  reason: string;
}

export interface EvaluateInput {
  feature: Pick<Feature, "key" | "environments"> | null;
  /**
   * The release the feature is locked by, if any. IN_PROGRESS: its rolled-out targets are served; ended
   * (its end not yet stored on the feature): its `outcome` is served.
   */
  release: ReleaseView | null;
  /** The project's segments. */
  segments: readonly Segment[];
  environment: string;
  unit: Unit;
}

/** An evaluation with what an SDK reports beside it (OpenFeature's SPLIT): the deciding rule's percentage. */
export interface DetailedEvaluation extends Evaluation {
  /** The rollout percentage of the rule that decided, when one did; null otherwise. */
  rolloutPercentage: number | null;
  /** The release phase that served the unit (the reason's RELEASE:<id>:PHASE:<index>), or null. */
  phaseIndex: number | null;
}

const NOT_FOUND: DetailedEvaluation = {
  enabled: false,
  value: null,
  reason: "NOT_FOUND",
  rolloutPercentage: null,
  phaseIndex: null,
};

/** An attribute's values as strings: scalars as themselves, arrays element by element; null, absent or objects: none. */
function attributeValues(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => (Array.isArray(item) ? [] : attributeValues(item)));
  if (typeof value === "string") return [value];
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return [String(value)];
  return [];
}

/** IN: some value of the attribute is listed. NOT_IN: the attribute is missing or none of its values is listed. */
export function segmentMatches(segment: Segment, attributes: Readonly<Record<string, unknown>>): boolean {
  const value = attributes[segment.attribute];
  // The common case, a string attribute, without building its list of values.
  if (typeof value === "string" && Object.hasOwn(attributes, segment.attribute)) {
    return segment.values.includes(value) === (segment.operator === "IN");
  }
  const values = Object.hasOwn(attributes, segment.attribute) ? attributeValues(attributes[segment.attribute]) : [];
  const listed = values.some((v) => segment.values.includes(v));
  return segment.operator === "IN" ? listed : !listed;
}

type Matches = (segmentKey: string) => boolean;

/**
 * One definition for one unit: the first rule whose segment the unit matches decides; a unit no rule
 * matches gets the default (`enabled`, `value`). Rules come first, as Flagsmith's segment overrides do,
 * so "enable for a segment" works while the environment's default is off.
 */
export function evaluateDefinition(
  featureKey: string,
  definition: Definition,
  matches: Matches,
  unitId: string,
): DetailedEvaluation {
  for (const rule of definition.rules) {
    if (!matches(rule.segment)) continue;
    // As in Statsig, the first matching rule decides, its pass percentage included: a unit that
    // fails the percentage is off, and does not fall through to later rules.
    const reason = `RULE:${rule.segment}`;
    const rolloutPercentage = rule.rolloutPercentage;
    const passes = rolloutPercentage >= 100 || bucket(`${featureKey}:${rule.segment}:${unitId}`) < rolloutPercentage;
    return passes
      ? { enabled: rule.enabled, value: rule.value ?? definition.value, reason, rolloutPercentage, phaseIndex: null }
      : { enabled: false, value: definition.value, reason, rolloutPercentage, phaseIndex: null };
  }
  return {
    enabled: definition.enabled,
    value: definition.value,
    reason: "DEFAULT",
    rolloutPercentage: null,
    phaseIndex: null,
  };
}

/**
 * Whether a unit is in a ramp at `percentage`: a stable bucket keyed by the release, so a unit once in
 * stays in as the percentage grows (and through pause, restarts and later phases' ramps).
 */
export const inRamp = (releaseId: string, unitId: string, percentage: number): boolean =>
  percentage >= 100 || bucket(`${releaseId}:${unitId}`) < percentage;

/**
 * The last rolled-out phase of an in-progress release whose targets cover this unit in `environment`
 * (the whole environment, or a segment the unit matches), with its definition there. A ramping phase
 * covers only the units in its ramp; the others fall through to the earlier phases.
 */
function releasedDefinition(
  release: ReleaseView,
  environment: string,
  matches: Matches,
  unitId: string,
): { phaseIndex: number; definition: Definition; percentage: number | null } | null {
  const phases = [...release.rolledOut].sort((a, b) => b.phaseIndex - a.phaseIndex);
  for (const phase of phases) {
    const covers = phase.targets.some(
      (t) => t.environment === environment && (t.segment === null || matches(t.segment)),
    );
    const definition = phase.definitions.find((d) => d.environment === environment)?.definition;
    if (!covers || !definition) continue;
    const percentage = phase.percentage !== undefined && phase.percentage < 100 ? phase.percentage : null;
    if (percentage !== null && !inRamp(release.id, unitId, percentage)) continue;
    return { phaseIndex: phase.phaseIndex, definition, percentage };
  }
  return null;
}

/** What `evaluate` answers, with the deciding rule's percentage (the SDK's evaluation). */
export function evaluateDetailed({ feature, release, segments, environment, unit }: EvaluateInput): DetailedEvaluation {
  const stored = feature?.environments.find((d) => d.environment === environment);
  if (!feature || !stored) return NOT_FOUND;
  const attributes = unit.attributes ?? {};
  const matches: Matches = (key) => {
    const segment = segments.find((s) => s.key === key);
    return segment !== undefined && segmentMatches(segment, attributes);
  };
  if (release?.status === "IN_PROGRESS") {
    const released = releasedDefinition(release, environment, matches, unit.id);
    if (released) {
      const served = evaluateDefinition(feature.key, released.definition, matches, unit.id);
      const ramp = released.percentage === null ? "" : `:RAMP:${released.percentage}`;
      served.reason = `RELEASE:${release.id}:PHASE:${released.phaseIndex}${ramp}`;
      served.phaseIndex = released.phaseIndex;
      // A unit a rule did not decide was decided by the ramp: its percentage is the one reported.
      if (released.percentage !== null && served.rolloutPercentage === null)
        served.rolloutPercentage = released.percentage;
      return served;
    }
  }
  const outcome = release && release.status !== "IN_PROGRESS" ? release.outcome : null;
  const definition = outcome?.find((d) => d.environment === environment)?.definition ?? stored.definition;
  return evaluateDefinition(feature.key, definition, matches, unit.id);
}

/** What an SDK in `environment` serves `unit` (the GraphQL `evaluate`). */
export function evaluate(input: EvaluateInput): Evaluation {
  const { enabled, value, reason } = evaluateDetailed(input);
  return { enabled, value, reason };
}

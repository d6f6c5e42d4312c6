// Validation of feature definitions (per environment: enabled, value, ordered rules), shared by
// createFeature, a direct updateFeature, and updateFeature through a release (the API computes the
// release's change with the same function, over the feature's current definitions as `base`).

import { BOUNDS, jsonBytes } from "../core/bounds.ts";
import { validation } from "../core/errors.ts";
import {
  type Definition,
  disabledDefinition,
  type EnvironmentDefinition,
  type FeatureKind,
  jsonEqual,
  type Rule,
} from "../core/model.ts";
import type { Project } from "../project/project.ts";

export interface RuleInput {
  segment: string;
  enabled: boolean;
  value?: unknown;
  /** Default 100. */
  rolloutPercentage?: number | null;
}

export interface DefinitionInput {
  enabled: boolean;
  value?: unknown;
  rules?: RuleInput[] | null;
}

export interface EnvironmentDefinitionInput {
  environment: string;
  definition: DefinitionInput;
}

/** Serialized size limit of one value (UTF-8 bytes): it is stored in events and served to SDKs. */
export const VALUE_MAX_BYTES = BOUNDS.jsonValueBytes;

/** Throws VALIDATION at `field` (with the path inside the value) unless `value` is plain JSON within the bounds. */
export function requireJson(field: string, value: unknown): void {
  const visit = (v: unknown, path: string, ancestors: object[]): void => {
    if (v === null || typeof v === "string" || typeof v === "boolean") return;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw validation(path, `must be JSON: ${String(v)} is not a finite number`);
      return;
    }
    if (typeof v !== "object") throw validation(path, `must be JSON: a ${typeof v} is not`);
    if (ancestors.includes(v)) throw validation(path, "must be JSON: the value contains itself");
    // The walk stops at the bound: a deep value is refused, never followed until the stack overflows.
    if (ancestors.length >= BOUNDS.jsonDepth) {
      throw validation(field, `must be at most ${BOUNDS.jsonDepth} levels deep (got more than ${BOUNDS.jsonDepth})`);
    }
    const inside = [...ancestors, v];
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        visit(item, `${path}[${i}]`, inside);
      });
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw validation(path, "must be JSON: only plain objects");
    for (const [key, item] of Object.entries(v)) visit(item, `${path}.${key}`, inside);
  };
  visit(value, field, []);
  const size = jsonBytes(value);
  if (size > VALUE_MAX_BYTES) {
    throw validation(field, `must be at most ${VALUE_MAX_BYTES} bytes (64 KB) as JSON (got ${size})`);
  }
}

function normalizeValue(kind: FeatureKind, value: unknown, field: string): unknown {
  const v = value === undefined ? null : value;
  // Statsig gates carry no value: refusing one is clearer than storing something never served.
  if (kind === "GATE" && v !== null) throw validation(field, "a gate has no value (use enabled); leave it null");
  requireJson(field, v);
  return v;
}

function normalizeRules(project: Project, kind: FeatureKind, rules: unknown, field: string): Rule[] {
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) throw validation(field, "must be a list");
  if (rules.length > BOUNDS.rulesPerDefinition) {
    throw validation(field, `at most ${BOUNDS.rulesPerDefinition} rules per definition (got ${rules.length})`);
  }
  const seen = new Set<string>();
  return (rules as RuleInput[]).map((rule, k) => {
    const at = `${field}[${k}]`;
    const { segment } = rule;
    if (!project.segments.some((s) => s.key === segment)) {
      const keys = project.segments.map((s) => s.key);
      throw validation(
        `${at}.segment`,
        `unknown segment "${String(segment)}" (project segments: ${keys.length ? keys.join(", ") : "none"})`,
      );
    }
    // The first rule matching a unit decides (its percentage included), so a second rule on the same segment could never apply.
    if (seen.has(segment))
      throw validation(`${at}.segment`, `segment "${segment}" already has a rule above: it could never apply`);
    seen.add(segment);
    if (typeof rule.enabled !== "boolean") throw validation(`${at}.enabled`, "must be a boolean");
    const rolloutPercentage = rule.rolloutPercentage ?? 100;
    if (typeof rolloutPercentage !== "number" || !Number.isFinite(rolloutPercentage)) {
      throw validation(`${at}.rolloutPercentage`, "must be a number between 0 and 100");
    }
    if (rolloutPercentage < 0 || rolloutPercentage > 100) {
      throw validation(`${at}.rolloutPercentage`, `must be between 0 and 100 (got ${rolloutPercentage})`);
    }
    return {
      segment,
      enabled: rule.enabled,
      value: normalizeValue(kind, rule.value, `${at}.value`),
      rolloutPercentage,
    };
  });
}

/** One definition input, validated and normalized (defaults filled in). */
export function normalizeDefinition(
  project: Project,
  kind: FeatureKind,
  input: DefinitionInput,
  field: string,
): Definition {
  if (input === null || typeof input !== "object") throw validation(field, "is required");
  if (typeof input.enabled !== "boolean") throw validation(`${field}.enabled`, "must be a boolean");
  return {
    enabled: input.enabled,
    value: normalizeValue(kind, input.value, `${field}.value`),
    rules: normalizeRules(project, kind, input.rules, `${field}.rules`),
  };
}

/**
 * Validates `inputs` against the project and returns one definition per project environment, in the
 * project's order. An environment not in `inputs` keeps its `base` definition (an update) or starts
 * disabled with no value (a creation: no `base`).
 */
export function normalizeDefinitions(
  project: Project,
  kind: FeatureKind,
  inputs: readonly EnvironmentDefinitionInput[] | null | undefined,
  base?: readonly EnvironmentDefinition[],
  fieldPrefix = "environments",
): EnvironmentDefinition[] {
  const given = new Map<string, Definition>();
  (inputs ?? []).forEach((input, i) => {
    const at = `${fieldPrefix}[${i}]`;
    const { environment } = input;
    if (!project.environments.includes(environment)) {
      throw validation(
        `${at}.environment`,
        `unknown environment "${String(environment)}" (project environments: ${project.environments.join(", ")})`,
      );
    }
    if (given.has(environment)) throw validation(`${at}.environment`, `duplicate environment "${environment}"`);
    given.set(environment, normalizeDefinition(project, kind, input.definition, `${at}.definition`));
  });
  const definitions = project.environments.map((environment) => ({
    environment,
    definition:
      given.get(environment) ?? base?.find((d) => d.environment === environment)?.definition ?? disabledDefinition(),
  }));
  // A release carries the definitions before and after: bounded together, every release fits Temporal's
  // 2 MB payload limit by construction (docs/decisions/0031).
  const size = jsonBytes(definitions);
  if (size > BOUNDS.definitionsBytes) {
    throw validation(
      fieldPrefix,
      `the definitions of every environment together must be at most ${BOUNDS.definitionsBytes} bytes (256 KB) as JSON (got ${size})`,
    );
  }
  return definitions;
}

/** The entries of `next` whose definition differs from `current`'s for the same environment. */
export function changedDefinitions(
  current: readonly EnvironmentDefinition[],
  next: readonly EnvironmentDefinition[],
): EnvironmentDefinition[] {
  return next.filter(
    ({ environment, definition }) =>
      !jsonEqual(current.find((d) => d.environment === environment)?.definition, definition),
  );
}

/**
 * The feature's definitions in the project's environments, in the project's order: what the feature
 * stored for an environment, or disabled with no value for one it never stored (an environment the project
 * gained later: decision 0024). Environments the project no longer has are left out. Returns `stored`
 * itself when it already matches.
 */
export function definitionsIn(
  environments: readonly string[],
  stored: readonly EnvironmentDefinition[],
): EnvironmentDefinition[] {
  if (stored.length === environments.length && stored.every((d, i) => d.environment === environments[i])) {
    return stored as EnvironmentDefinition[];
  }
  return environments.map(
    (environment) =>
      stored.find((d) => d.environment === environment) ?? { environment, definition: disabledDefinition() },
  );
}

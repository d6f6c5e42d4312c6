// A configuration document made ready for evaluation: each feature's `evaluate` inputs are rebuilt
// once per document (services/serving/config-document.ts), then every evaluation runs the API's own
// evaluation module (services/serving/evaluate.ts) — one source, not a copy.

import type { FeatureKind, Segment } from "../services/core/model.ts";
import {
  type ConfigDocument,
  type ConfigFeature,
  type ConfigPatch,
  type PreparedFeature,
  prepareFeature,
  SUPPORTED_CONFIG_SCHEMA_VERSIONS,
} from "../services/serving/config-document.ts";
import { evaluateDetailed, type Unit } from "../services/serving/evaluate.ts";

export type { ConfigDocument, ConfigFeature, ConfigPatch } from "../services/serving/config-document.ts";
export type { Unit } from "../services/serving/evaluate.ts";

/** Why an evaluation could not answer from the configuration. */
export type SdkErrorCode = "FLAG_NOT_FOUND" | "PROVIDER_NOT_READY" | "GENERAL";

export interface SdkEvaluation {
  featureKey: string;
  enabled: boolean;
  /** A dynamic config's JSON value; null for a gate. */
  value: unknown;
  /** As the API's `evaluate`: DEFAULT, RULE:<segment>, RELEASE:<releaseId>:PHASE:<index>[:RAMP:<percentage>], NOT_FOUND; or ERROR. */
  reason: string;
  kind: FeatureKind | null;
  /** The release that locks the feature now, if any. */
  releaseId: string | null;
  /** The release phase that served this unit, when one did. */
  phaseIndex: number | null;
  /** The deciding rule's rollout percentage, when a rule decided; else a ramping phase's percentage. */
  rolloutPercentage: number | null;
  /** The configuration's version this answer comes from (null before the first). */
  configVersion: string | null;
  errorCode?: SdkErrorCode;
  errorMessage?: string;
}

interface Entry {
  readonly kind: FeatureKind;
  readonly feature: ConfigFeature;
  /** The entry as JSON, made when a whole document is compared with it. */
  json: string | null;
  readonly prepared: PreparedFeature;
  readonly releaseId: string | null;
}

/** Whether `value` looks like a configuration document this SDK understands. */
export function isConfigDocument(value: unknown): value is ConfigDocument {
  if (typeof value !== "object" || value === null) return false;
  const doc = value as Partial<ConfigDocument>;
  return (
    SUPPORTED_CONFIG_SCHEMA_VERSIONS.includes(doc.schemaVersion as number) &&
    typeof doc.version === "string" &&
    typeof doc.environment === "string" &&
    Array.isArray(doc.segments) &&
    Array.isArray(doc.features)
  );
}

export function isConfigPatch(value: unknown): value is ConfigPatch {
  if (typeof value !== "object" || value === null) return false;
  const patch = value as Partial<ConfigPatch>;
  return (
    typeof patch.version === "string" &&
    typeof patch.previousVersion === "string" &&
    Array.isArray(patch.features) &&
    Array.isArray(patch.removed)
  );
}

/** One configuration, ready to evaluate; immutable (a change makes a new one). */
export class PreparedConfig {
  readonly version: string;
  readonly environment: string;
  readonly segments: readonly Segment[];
  readonly #segmentsJson: string;
  readonly #entries: ReadonlyMap<string, Entry>;

  /** For a patch: the keys it changed (every key when the segments changed); null for a whole document. */
  readonly patchedKeys: readonly string[] | null;

  private constructor(
    version: string,
    environment: string,
    segments: Segment[],
    entries: Map<string, Entry>,
    segmentsJson: string = JSON.stringify(segments),
    patchedKeys: string[] | null = null,
  ) {
    this.version = version;
    this.environment = environment;
    this.segments = segments;
    this.#segmentsJson = segmentsJson;
    this.#entries = entries;
    this.patchedKeys = patchedKeys;
  }

  static fromDocument(doc: ConfigDocument): PreparedConfig {
    const entries = new Map<string, Entry>();
    for (const feature of doc.features) entries.set(feature.key, PreparedConfig.#entry(doc.environment, feature));
    return new PreparedConfig(doc.version, doc.environment, doc.segments, entries);
  }

  static #entry(environment: string, feature: ConfigFeature): Entry {
    return {
      kind: feature.kind,
      feature,
      json: null,
      prepared: prepareFeature(environment, feature),
      releaseId: feature.release?.status === "IN_PROGRESS" ? feature.release.id : null,
    };
  }

  /** This configuration with `patch` applied (the caller checked `previousVersion`). */
  withPatch(patch: ConfigPatch): PreparedConfig {
    const entries = new Map(this.#entries);
    for (const key of patch.removed) entries.delete(key);
    for (const feature of patch.features) entries.set(feature.key, PreparedConfig.#entry(this.environment, feature));
    const keys = [...patch.features.map((f) => f.key), ...patch.removed];
    if (patch.segments === undefined) {
      return new PreparedConfig(patch.version, this.environment, [...this.segments], entries, this.#segmentsJson, keys);
    }
    // New segments may change any flag's answers.
    const all = [...new Set([...entries.keys(), ...keys])];
    return new PreparedConfig(patch.version, this.environment, patch.segments, entries, undefined, all);
  }

  /** The keys whose answers may differ between `previous` and this configuration. */
  changedSince(previous: PreparedConfig | null): string[] {
    if (previous === null) return [...this.#entries.keys()];
    if (this.patchedKeys !== null) return [...this.patchedKeys];
    const segmentsChanged = previous.#segmentsJson !== this.#segmentsJson;
    const changed: string[] = [];
    const jsonOf = (entry: Entry): string => {
      entry.json ??= JSON.stringify(entry.feature);
      return entry.json;
    };
    for (const [key, entry] of this.#entries) {
      const before = previous.#entries.get(key);
      if (segmentsChanged || before === undefined || (before !== entry && jsonOf(before) !== jsonOf(entry))) {
        changed.push(key);
      }
    }
    for (const key of previous.#entries.keys()) if (!this.#entries.has(key)) changed.push(key);
    return changed;
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  kindOf(key: string): FeatureKind | null {
    return this.#entries.get(key)?.kind ?? null;
  }

  evaluate(featureKey: string, unit: Unit): SdkEvaluation {
    const entry = this.#entries.get(featureKey);
    if (entry === undefined) {
      return {
        ...notServed(featureKey, this.version, "NOT_FOUND"),
        errorCode: "FLAG_NOT_FOUND",
        errorMessage: `no feature "${featureKey}" in environment ${this.environment}`,
      };
    }
    const served = evaluateDetailed({
      feature: entry.prepared.feature,
      release: entry.prepared.release,
      segments: this.segments,
      environment: this.environment,
      unit,
    });
    return {
      featureKey,
      enabled: served.enabled,
      value: served.value,
      reason: served.reason,
      kind: entry.kind,
      releaseId: entry.releaseId,
      phaseIndex: served.phaseIndex,
      rolloutPercentage: served.rolloutPercentage,
      configVersion: this.version,
    };
  }
}

export function notServed(featureKey: string, configVersion: string | null, reason: string): SdkEvaluation {
  return {
    featureKey,
    enabled: false,
    value: null,
    reason,
    kind: null,
    releaseId: null,
    phaseIndex: null,
    rolloutPercentage: null,
    configVersion,
  };
}

// The SDK configuration document (GET /sdk/v1/config, and the change stream's `put` and `patch`
// events): one environment of one project, every feature's definition there and, for a feature locked
// by a release, what of that release serves in this environment. Its shape is published as a JSON
// Schema (services/serving/config-document.schema.json); `schemaVersion` changes when it changes
// incompatibly.
//
// Pure and free of server dependencies: the SDK (sdk/) imports this module and ./evaluate.ts, so the
// SDK and the API's `evaluate` answer with the same code over the same inputs.

import type { Definition, FeatureKind, ReleaseStatus, Segment } from "../core/model.ts";
import type { EvaluateInput, ReleaseView } from "./evaluate.ts";

/**
 * 2 added `percentage` on a ramping phase (decision 0039): a schemaVersion 1 reader would serve such a
 * phase to every unit, so it must refuse the document rather than read it. Readers accept every
 * version in SUPPORTED_CONFIG_SCHEMA_VERSIONS (a version 1 document is a version 2 one without ramps).
 */
export const CONFIG_SCHEMA_VERSION = 2;
export const SUPPORTED_CONFIG_SCHEMA_VERSIONS: readonly number[] = [1, 2];

/** A release's rolled-out phase, as far as it covers this environment. */
export interface ConfigRolledOutPhase {
  phaseIndex: number;
  /** The phase's targets in this environment: a segment key, or null for the whole environment. */
  segments: (string | null)[];
  /** What the phase's targets serve in this environment. */
  definition: Definition;
  /** A ramping phase: the share of its targets' units it serves (bucketed by release id and unit id). Absent: 100. */
  percentage?: number;
}

/** The release that locks a feature, as serving needs it in this environment. */
export interface ConfigRelease {
  id: string;
  status: ReleaseStatus;
  /** IN_PROGRESS: the rolled-out phases that cover this environment, in phase order. */
  rolledOut: ConfigRolledOutPhase[];
  /** An ended release whose end has not reached the feature yet: what the feature is about to store here. */
  outcome: Definition | null;
}

export interface ConfigFeature {
  key: string;
  kind: FeatureKind;
  /** The definition stored for this environment. */
  definition: Definition;
  release: ConfigRelease | null;
}

export interface ConfigDocument {
  schemaVersion: 1 | typeof CONFIG_SCHEMA_VERSION;
  projectId: string;
  environment: string;
  /**
   * The content's version: 16 hex digits of the SHA-256 of the segments and features. The same content
   * has the same version on every API process (so ETags and Last-Event-ID work behind a load balancer);
   * an abort that restores an earlier content gives back that content's version.
   */
  version: string;
  segments: Segment[];
  features: ConfigFeature[];
}

/** A change-stream `patch`: what changed from `previousVersion` to `version`. */
export interface ConfigPatch {
  version: string;
  previousVersion: string;
  /** Features added or changed, whole. */
  features: ConfigFeature[];
  /** Keys of features no longer served. */
  removed: string[];
  /** The segments, when they changed. */
  segments?: Segment[];
}

export const VERSION_PATTERN = /^[0-9a-f]{16}$/;

/** What `evaluate` takes of a feature and its release, rebuilt from one document entry. */
export type PreparedFeature = Pick<EvaluateInput, "feature" | "release">;

/**
 * The inputs of `evaluate` for one feature of a document, equal (for this environment) to what the API
 * passes from its read models.
 */
export function prepareFeature(environment: string, feature: ConfigFeature): PreparedFeature {
  const release: ReleaseView | null =
    feature.release === null
      ? null
      : {
          id: feature.release.id,
          status: feature.release.status,
          rolledOut: feature.release.rolledOut.map((phase) => ({
            phaseIndex: phase.phaseIndex,
            targets: phase.segments.map((segment) => ({ environment, segment })),
            definitions: [{ environment, definition: phase.definition }],
            ...(phase.percentage !== undefined && { percentage: phase.percentage }),
          })),
          outcome: feature.release.outcome === null ? null : [{ environment, definition: feature.release.outcome }],
        };
  return { feature: { key: feature.key, environments: [{ environment, definition: feature.definition }] }, release };
}

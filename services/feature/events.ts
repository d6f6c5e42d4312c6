import type { DomainEvent } from "../core/event.ts";
import type { EnvironmentDefinition, FeatureKind } from "../core/model.ts";

export type FeatureCreated = DomainEvent<
  "FeatureCreated",
  {
    featureId: string;
    projectId: string;
    key: string;
    kind: FeatureKind;
    description: string | null;
    pipelineId: string | null;
    /** One per project environment, in the project's order. */
    environments: EnvironmentDefinition[];
    at: string;
  }
>;

/**
 * The feature's stored definitions changed. `cause` says by whom: a direct update (no pipeline), a
 * release phase rolling out a whole environment, the release completing, or an abort reverting.
 * `environments` lists only the environments that changed, with their new definitions.
 */
export type FeatureUpdated = DomainEvent<
  "FeatureUpdated",
  {
    featureId: string;
    description?: string | null;
    environments: EnvironmentDefinition[];
    cause: "DIRECT" | "ROLLOUT" | "COMPLETE" | "REVERT";
    releaseId: string | null;
    phaseIndex?: number;
    at: string;
  }
>;

export type FeaturePipelineAttached = DomainEvent<
  "FeaturePipelineAttached",
  { featureId: string; pipelineId: string; replaced: string | null; at: string }
>;
export type FeaturePipelineDetached = DomainEvent<
  "FeaturePipelineDetached",
  { featureId: string; pipelineId: string; at: string }
>;

/** The feature's lock for "one active release per feature": appended with optimistic concurrency before the release starts. */
export type FeatureReleaseStarted = DomainEvent<
  "FeatureReleaseStarted",
  {
    featureId: string;
    releaseId: string;
    pipelineId: string;
    pipelineVersion: number;
    /**
     * Environments the project gained since the feature last stored them (each disabled with no value until
     * set), so the release's definitions there have a place on the feature. Absent when there are none.
     */
    addedEnvironments?: string[];
    at: string;
  }
>;
export type FeatureReleaseEnded = DomainEvent<
  "FeatureReleaseEnded",
  { featureId: string; releaseId: string; status: "COMPLETED" | "ABORTED"; at: string }
>;

/** Read-only from then on; evaluates as NOT_FOUND; left out of lists unless asked for. `by`: the actor. */
export type FeatureArchived = DomainEvent<
  "FeatureArchived",
  { featureId: string; by: string; reason: string | null; at: string }
>;
export type FeatureUnarchived = DomainEvent<
  "FeatureUnarchived",
  { featureId: string; by: string; reason: string | null; at: string }
>;
/** Only after FeatureArchived. The stream stays (audit replay); the feature is gone from every live read. */
export type FeatureDeleted = DomainEvent<
  "FeatureDeleted",
  { featureId: string; key: string; by: string; reason: string | null; at: string }
>;

export type FeatureEvent =
  | FeatureCreated
  | FeatureUpdated
  | FeaturePipelineAttached
  | FeaturePipelineDetached
  | FeatureReleaseStarted
  | FeatureReleaseEnded
  | FeatureArchived
  | FeatureUnarchived
  | FeatureDeleted;

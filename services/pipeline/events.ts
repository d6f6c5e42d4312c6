import type { DomainEvent } from "../core/event.ts";
import type { Phase, SelfApproval } from "../core/model.ts";
import type { PromotionWindow } from "./windows.ts";

export type PipelineCreated = DomainEvent<
  "PipelineCreated",
  {
    pipelineId: string;
    projectId: string;
    name: string;
    description: string | null;
    selfApproval: SelfApproval;
    phases: Phase[];
    /** Set when made by clonePipeline. */
    clonedFrom: string | null;
    /** Added later: pipelines stored before have none (always open). */
    windows?: PromotionWindow[];
    at: string;
  }
>;

/** Only the fields given change. */
export type PipelineUpdated = DomainEvent<
  "PipelineUpdated",
  {
    pipelineId: string;
    name?: string;
    description?: string | null;
    selfApproval?: SelfApproval;
    phases?: Phase[];
    windows?: PromotionWindow[];
    at: string;
  }
>;

export type PipelinePublished = DomainEvent<"PipelinePublished", { pipelineId: string; at: string }>;
export type PipelineDeleted = DomainEvent<"PipelineDeleted", { pipelineId: string; at: string }>;

/** Metadata only (any status but DELETED): only the fields that changed; phases never change here. */
export type PipelineRenamed = DomainEvent<
  "PipelineRenamed",
  { pipelineId: string; name?: string; description?: string | null; reason: string | null; at: string }
>;

/**
 * A feature is being attached to the pipeline (recorded here before the feature's FeaturePipelineAttached):
 * the pipeline's own stream knows what it is attached to, so deleting it and attaching it serialize on
 * this stream's expected revision (decision 0012).
 */
export type PipelineFeatureAttached = DomainEvent<
  "PipelineFeatureAttached",
  { pipelineId: string; featureId: string; at: string }
>;
/** The feature no longer uses the pipeline (detached, attached elsewhere, or its attach refused). */
export type PipelineFeatureDetached = DomainEvent<
  "PipelineFeatureDetached",
  { pipelineId: string; featureId: string; at: string }
>;

export type PipelineEvent =
  | PipelineCreated
  | PipelineUpdated
  | PipelinePublished
  | PipelineDeleted
  | PipelineFeatureAttached
  | PipelineFeatureDetached
  | PipelineRenamed;

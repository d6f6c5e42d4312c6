import type { DomainEvent } from "../core/event.ts";
import type { Phase, SelfApproval } from "../core/model.ts";

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

export type PipelineEvent = PipelineCreated | PipelineUpdated | PipelinePublished | PipelineDeleted | PipelineRenamed;

import type { DomainEvent } from "../core/event.ts";
import type { Segment } from "../core/model.ts";

export type ProjectCreated = DomainEvent<
  "ProjectCreated",
  { projectId: string; name: string; environments: string[]; segments: Segment[]; at: string }
>;

/** Stop the line: no phase of the project's releases rolls out until ProjectUnfrozen (or `until`). */
export type ProjectFrozen = DomainEvent<
  "ProjectFrozen",
  { projectId: string; reason: string; by: string; until: string | null; at: string }
>;
/** The freeze ended: lifted by someone, or `until` passed (`expired`, by "system"). */
export type ProjectUnfrozen = DomainEvent<
  "ProjectUnfrozen",
  { projectId: string; by: string; reason: string | null; expired: boolean; at: string }
>;

export type ProjectEvent = ProjectCreated | ProjectFrozen | ProjectUnfrozen;

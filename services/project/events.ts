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

// Every change after creation carries the person's `reason` (null when none was given); the actor is in
// the event's metadata, like every other event's.

export type ProjectRenamed = DomainEvent<
  "ProjectRenamed",
  { projectId: string; name: string; previousName: string; reason: string | null; at: string }
>;

/** `position`: the index the environment now has in the project's order. */
export type ProjectEnvironmentAdded = DomainEvent<
  "ProjectEnvironmentAdded",
  { projectId: string; environment: string; position: number; reason: string | null; at: string }
>;

export type ProjectEnvironmentRemoved = DomainEvent<
  "ProjectEnvironmentRemoved",
  { projectId: string; environment: string; reason: string | null; at: string }
>;

export type ProjectSegmentCreated = DomainEvent<
  "ProjectSegmentCreated",
  { projectId: string; segment: Segment; reason: string | null; at: string }
>;

/** The whole segment before and after: the audit log shows what a unit matched then and now. */
export type ProjectSegmentUpdated = DomainEvent<
  "ProjectSegmentUpdated",
  { projectId: string; key: string; before: Segment; after: Segment; reason: string | null; at: string }
>;

export type ProjectSegmentDeleted = DomainEvent<
  "ProjectSegmentDeleted",
  { projectId: string; key: string; before: Segment; reason: string | null; at: string }
>;

export type ProjectEvent =
  | ProjectCreated
  | ProjectRenamed
  | ProjectEnvironmentAdded
  | ProjectEnvironmentRemoved
  | ProjectSegmentCreated
  | ProjectSegmentUpdated
  | ProjectSegmentDeleted
  | ProjectFrozen
  | ProjectUnfrozen;

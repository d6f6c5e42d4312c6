import type { DomainEvent } from "../core/event.ts";
import type { Segment } from "../core/model.ts";

export type ProjectCreated = DomainEvent<
  "ProjectCreated",
  { projectId: string; name: string; environments: string[]; segments: Segment[]; at: string }
>;

export type ProjectEvent = ProjectCreated;

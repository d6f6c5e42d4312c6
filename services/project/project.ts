// Project: the tenancy boundary. Its environments (ordered) and segments are fixed at creation;
// pipelines and features validate against them.

import type { Command, Decider } from "../core/decider.ts";
import { DomainError, validation } from "../core/errors.ts";
import type { Segment, SegmentOperator } from "../core/model.ts";
import type { ProjectCreated, ProjectEvent } from "./events.ts";

export interface Project {
  id: string;
  name: string;
  environments: string[];
  segments: Segment[];
  createdAt: string;
  /** Number of stored events. */
  version: number;
}

export type ProjectState = Project | null;

export interface SegmentInput {
  key: string;
  attribute: string;
  operator: SegmentOperator;
  values: string[];
}

export type CreateProject = Command<
  "CreateProject",
  { projectId: string; name: string; environments: string[]; segments?: SegmentInput[] | null }
>;

export type ProjectCommand = CreateProject;

export const NAME_MAX = 200;

/** Identifiers people type and other inputs refer to: environments, segment keys. */
const SLUG = /^[a-z0-9][a-z0-9_.-]{0,99}$/i;
const SLUG_RULE = "must be 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit";

/** A required display name: trimmed, non-empty, at most `max` characters. Returns the trimmed text. */
export function requireName(field: string, value: unknown, max = NAME_MAX): string {
  if (typeof value !== "string") throw validation(field, "must be a string");
  const trimmed = value.trim();
  if (trimmed === "") throw validation(field, "must not be empty");
  if (trimmed.length > max) throw validation(field, `must be at most ${max} characters (got ${trimmed.length})`);
  return trimmed;
}

export const DESCRIPTION_MAX = 5000;

/**
 * An optional free text: `undefined` stays undefined (not given), null or blank becomes null,
 * anything else is trimmed and at most `max` characters.
 */
export function optionalText(field: string, value: unknown, max = DESCRIPTION_MAX): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== "string") throw validation(field, "must be a string");
  const trimmed = value.trim();
  if (trimmed.length > max) throw validation(field, `must be at most ${max} characters (got ${trimmed.length})`);
  return trimmed === "" ? null : trimmed;
}

function requireSlug(field: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") throw validation(field, "must not be empty");
  if (!SLUG.test(value)) throw validation(field, `"${value}" ${SLUG_RULE}`);
  return value;
}

function normalizeEnvironments(environments: unknown): string[] {
  if (!Array.isArray(environments) || environments.length === 0) {
    throw validation("environments", "at least one environment is required");
  }
  const seen = new Set<string>();
  return environments.map((environment, i) => {
    const name = requireSlug(`environments[${i}]`, environment);
    // Case-insensitive: "Production" beside "production" would only confuse targets and SDK keys.
    if (seen.has(name.toLowerCase())) throw validation(`environments[${i}]`, `duplicate environment "${name}"`);
    seen.add(name.toLowerCase());
    return name;
  });
}

function normalizeSegments(segments: SegmentInput[] | null | undefined): Segment[] {
  if (segments === null || segments === undefined) return [];
  const seen = new Set<string>();
  return segments.map((segment, i) => {
    const field = `segments[${i}]`;
    const key = requireSlug(`${field}.key`, segment.key);
    if (seen.has(key)) throw validation(`${field}.key`, `duplicate segment key "${key}"`);
    seen.add(key);
    if (typeof segment.attribute !== "string" || segment.attribute.trim() === "") {
      throw validation(`${field}.attribute`, "must not be empty");
    }
    if (segment.operator !== "IN" && segment.operator !== "NOT_IN") {
      throw validation(`${field}.operator`, `must be IN or NOT_IN (got ${String(segment.operator)})`);
    }
    if (!Array.isArray(segment.values) || segment.values.length === 0) {
      throw validation(`${field}.values`, "at least one value is required");
    }
    segment.values.forEach((value, j) => {
      if (typeof value !== "string") throw validation(`${field}.values[${j}]`, "must be a string");
    });
    return { key, attribute: segment.attribute.trim(), operator: segment.operator, values: [...segment.values] };
  });
}

function createProject(command: CreateProject, state: ProjectState): ProjectCreated[] {
  if (state !== null) throw new DomainError("CONFLICT", `project ${state.id} already exists`);
  const { projectId, name, environments, segments } = command.data;
  return [
    {
      type: "ProjectCreated",
      data: {
        projectId,
        name: requireName("name", name),
        environments: normalizeEnvironments(environments),
        segments: normalizeSegments(segments),
        at: command.now,
      },
    },
  ];
}

export function decideProject(command: ProjectCommand, state: ProjectState): ProjectEvent[] {
  switch (command.type) {
    case "CreateProject":
      return createProject(command, state);
    default: {
      const unknown: never = command.type;
      throw new DomainError("INTERNAL", `unknown project command ${String(unknown)}`);
    }
  }
}

/** Also the read model's evolve: the same code builds live state and replays. */
export function evolveProject(state: ProjectState, event: ProjectEvent): ProjectState {
  switch (event.type) {
    case "ProjectCreated": {
      const { projectId, name, environments, segments, at } = event.data;
      return { id: projectId, name, environments, segments, createdAt: at, version: (state?.version ?? 0) + 1 };
    }
    default: {
      // Exhaustive over today's events; an unknown (newer) event leaves the state as it was.
      const _exhaustive: never = event.type;
      return state;
    }
  }
}

export const projectDecider: Decider<ProjectState, ProjectCommand, ProjectEvent> = {
  initialState: () => null,
  evolve: evolveProject,
  decide: decideProject,
};

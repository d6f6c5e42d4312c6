// Project: the tenancy boundary. Its environments (ordered) and segments are fixed at creation;
// pipelines and features validate against them.

import { BOUNDS } from "../core/bounds.ts";
import type { Command, Decider } from "../core/decider.ts";
import { DomainError, validation } from "../core/errors.ts";
import type { Segment, SegmentOperator } from "../core/model.ts";
import type { ProjectCreated, ProjectEvent, ProjectFrozen, ProjectUnfrozen } from "./events.ts";

/** A freeze ("stop the line"): while active, no phase of the project's releases rolls out. */
export interface Freeze {
  reason: string;
  by: string;
  since: string;
  /** When it ends by itself; null: until unfrozen. */
  until: string | null;
}

export interface Project {
  id: string;
  name: string;
  environments: string[];
  segments: Segment[];
  createdAt: string;
  /** Number of stored events. */
  version: number;
  /** The last freeze, while it is not lifted (it may have passed its `until`: see activeFreeze). */
  freeze?: Freeze | null;
}

/** The freeze in force at `now` (an ISO instant), or null. */
export function activeFreeze(project: Pick<Project, "freeze"> | null, now: string): Freeze | null {
  const freeze = project?.freeze ?? null;
  if (freeze === null) return null;
  return freeze.until === null || Date.parse(freeze.until) > Date.parse(now) ? freeze : null;
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

export type FreezeProject = Command<"FreezeProject", { projectId: string; reason: string; until?: string | null }>;
export type UnfreezeProject = Command<"UnfreezeProject", { projectId: string; reason?: string | null }>;
/** System: `until` passed; ends the freeze that started at `since` (nothing if another one replaced it). */
export type EndFreeze = Command<"EndFreeze", { projectId: string; since: string }>;

export type ProjectCommand = CreateProject | FreezeProject | UnfreezeProject | EndFreeze;

export const NAME_MAX = BOUNDS.nameChars;

/** Identifiers people type and other inputs refer to: environments, segment keys. */
const SLUG = /^[a-z0-9][a-z0-9_.-]{0,99}$/i;
const SLUG_RULE = "must be 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit";

/** A required display name: trimmed, non-empty, at most `max` characters. Returns the trimmed text. */
export function requireName(field: string, value: unknown, max: number = NAME_MAX): string {
  if (typeof value !== "string") throw validation(field, "must be a string");
  const trimmed = value.trim();
  if (trimmed === "") throw validation(field, "must not be empty");
  if (trimmed.length > max) throw validation(field, `must be at most ${max} characters (got ${trimmed.length})`);
  return trimmed;
}

export const DESCRIPTION_MAX = BOUNDS.textChars;

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
  if (environments.length > BOUNDS.environmentsPerProject) {
    throw validation(
      "environments",
      `at most ${BOUNDS.environmentsPerProject} environments per project (got ${environments.length})`,
    );
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
  if (segments.length > BOUNDS.segmentsPerProject) {
    throw validation("segments", `at most ${BOUNDS.segmentsPerProject} segments per project (got ${segments.length})`);
  }
  const seen = new Set<string>();
  return segments.map((segment, i) => {
    const field = `segments[${i}]`;
    const key = requireSlug(`${field}.key`, segment.key);
    if (seen.has(key)) throw validation(`${field}.key`, `duplicate segment key "${key}"`);
    seen.add(key);
    if (typeof segment.attribute !== "string" || segment.attribute.trim() === "") {
      throw validation(`${field}.attribute`, "must not be empty");
    }
    requireName(`${field}.attribute`, segment.attribute);
    if (segment.operator !== "IN" && segment.operator !== "NOT_IN") {
      throw validation(`${field}.operator`, `must be IN or NOT_IN (got ${String(segment.operator)})`);
    }
    if (!Array.isArray(segment.values) || segment.values.length === 0) {
      throw validation(`${field}.values`, "at least one value is required");
    }
    if (segment.values.length > BOUNDS.valuesPerSegment) {
      throw validation(
        `${field}.values`,
        `at most ${BOUNDS.valuesPerSegment} values per segment (got ${segment.values.length})`,
      );
    }
    segment.values.forEach((value, j) => {
      if (typeof value !== "string") throw validation(`${field}.values[${j}]`, "must be a string");
      if (value.length > BOUNDS.segmentValueChars) {
        throw validation(
          `${field}.values[${j}]`,
          `must be at most ${BOUNDS.segmentValueChars} characters (got ${value.length})`,
        );
      }
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

function existing(state: ProjectState, projectId: string): Project {
  if (state === null) throw new DomainError("NOT_FOUND", `project ${projectId} not found`);
  return state;
}

/** Freezing a frozen project replaces its reason and `until` (the freeze goes on from its first `since`). */
function freezeProject(command: FreezeProject, state: ProjectState): ProjectFrozen[] {
  const project = existing(state, command.data.projectId);
  const reason = requireName("reason", command.data.reason, BOUNDS.textChars);
  const until = command.data.until ?? null;
  if (until !== null && !(Date.parse(until) > Date.parse(command.now))) {
    throw validation("until", `must be in the future (got ${until}, now ${command.now})`);
  }
  return [
    { type: "ProjectFrozen", data: { projectId: project.id, reason, by: command.actor.name, until, at: command.now } },
  ];
}

/** Unfreezing a project that is not frozen changes nothing (a retried unfreeze answers the same). */
function unfreezeProject(command: UnfreezeProject, state: ProjectState): ProjectUnfrozen[] {
  const project = existing(state, command.data.projectId);
  const reason = optionalText("reason", command.data.reason) ?? null;
  if (project.freeze === null || project.freeze === undefined) return [];
  return [
    {
      type: "ProjectUnfrozen",
      data: { projectId: project.id, by: command.actor.name, reason, expired: false, at: command.now },
    },
  ];
}

function endFreeze(command: EndFreeze, state: ProjectState): ProjectUnfrozen[] {
  const project = existing(state, command.data.projectId);
  const freeze = project.freeze ?? null;
  if (freeze === null || freeze.since !== command.data.since || freeze.until === null) return [];
  if (Date.parse(freeze.until) > Date.parse(command.now)) return [];
  return [
    {
      type: "ProjectUnfrozen",
      data: {
        projectId: project.id,
        by: "system",
        reason: "the freeze's end time passed",
        expired: true,
        at: freeze.until,
      },
    },
  ];
}

export function decideProject(command: ProjectCommand, state: ProjectState): ProjectEvent[] {
  switch (command.type) {
    case "CreateProject":
      return createProject(command, state);
    case "FreezeProject":
      return freezeProject(command, state);
    case "UnfreezeProject":
      return unfreezeProject(command, state);
    case "EndFreeze":
      return endFreeze(command, state);
    default: {
      const unknown: never = command;
      throw new DomainError("INTERNAL", `unknown project command ${String((unknown as { type: unknown }).type)}`);
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
    case "ProjectFrozen": {
      if (state === null) return state;
      const { reason, by, until, at } = event.data;
      const since = activeFreeze(state, at)?.since ?? at;
      return { ...state, freeze: { reason, by, since, until }, version: state.version + 1 };
    }
    case "ProjectUnfrozen":
      return state === null ? state : { ...state, freeze: null, version: state.version + 1 };
    default: {
      // Exhaustive over today's events; an unknown (newer) event leaves the state as it was.
      const _exhaustive: never = event;
      return state;
    }
  }
}

export const projectDecider: Decider<ProjectState, ProjectCommand, ProjectEvent> = {
  initialState: () => null,
  evolve: evolveProject,
  decide: decideProject,
};

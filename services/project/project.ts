// Project: the tenancy boundary. Its environments (ordered) and segments are set at creation and edited
// afterwards (rename, add or remove an environment, create/update/delete a segment); pipelines and
// features validate against them. What uses an environment or a segment lives in other streams: the
// caller reads it from the read models and hands it in (`usedBy`), as DeletePipeline's attachments are.

import { BOUNDS } from "../core/bounds.ts";
import type { Command, Decider } from "../core/decider.ts";
import { DomainError, validation } from "../core/errors.ts";
import { jsonEqual, type Segment, type SegmentOperator } from "../core/model.ts";
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

export type RenameProject = Command<"RenameProject", { name: string; reason?: string | null }>;
/** `position`: the index the new environment takes (0 = first); absent or null = at the end. */
export type AddEnvironment = Command<
  "AddEnvironment",
  { name: string; position?: number | null; reason?: string | null }
>;
/**
 * What uses an environment or a segment, as people name it ("feature checkout-v2", "pipeline Standard",
 * "release <id>"), read by the caller from the read models just before deciding.
 */
export type UsedBy = readonly string[];
export type RemoveEnvironment = Command<"RemoveEnvironment", { name: string; usedBy: UsedBy; reason?: string | null }>;
export type UpsertSegment = Command<"UpsertSegment", { segment: SegmentInput; reason?: string | null }>;
export type DeleteSegment = Command<"DeleteSegment", { key: string; usedBy: UsedBy; reason?: string | null }>;

export type FreezeProject = Command<"FreezeProject", { projectId: string; reason: string; until?: string | null }>;
export type UnfreezeProject = Command<"UnfreezeProject", { projectId: string; reason?: string | null }>;
/** System: `until` passed; ends the freeze that started at `since` (nothing if another one replaced it). */
export type EndFreeze = Command<"EndFreeze", { projectId: string; since: string }>;

export type ProjectCommand =
  | CreateProject
  | RenameProject
  | AddEnvironment
  | RemoveEnvironment
  | UpsertSegment
  | DeleteSegment
  | FreezeProject
  | UnfreezeProject
  | EndFreeze;

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

/** One segment, validated and normalized (the attribute trimmed): at creation and by upsertSegment. */
function normalizeSegment(segment: SegmentInput, field: string): Segment {
  if (segment === null || typeof segment !== "object") throw validation(field, "is required");
  const key = requireSlug(`${field}.key`, segment.key);
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
}

function normalizeSegments(segments: SegmentInput[] | null | undefined): Segment[] {
  if (segments === null || segments === undefined) return [];
  if (segments.length > BOUNDS.segmentsPerProject) {
    throw validation("segments", `at most ${BOUNDS.segmentsPerProject} segments per project (got ${segments.length})`);
  }
  const seen = new Set<string>();
  return segments.map((input, i) => {
    const field = `segments[${i}]`;
    const key = requireSlug(`${field}.key`, input.key);
    if (seen.has(key)) throw validation(`${field}.key`, `duplicate segment key "${key}"`);
    seen.add(key);
    return normalizeSegment(input, field);
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

function requireProject(state: ProjectState): Project {
  if (state === null) throw new DomainError("NOT_FOUND", "project not found");
  return state;
}

const REASON_FIELD = "reason";

/** "a, b and 3 more": what uses an environment or a segment, named but bounded. */
function listUsers(users: UsedBy): string {
  const shown = users.slice(0, 10).join(", ");
  return users.length > 10 ? `${shown} and ${users.length - 10} more` : shown;
}

function unknownEnvironment(project: Project, field: string, name: unknown): DomainError {
  return validation(
    field,
    `unknown environment "${String(name)}" (project environments: ${project.environments.join(", ")})`,
  );
}

function unknownSegment(project: Project, field: string, key: unknown): DomainError {
  const keys = project.segments.map((s) => s.key);
  return validation(
    field,
    `unknown segment "${String(key)}" (project segments: ${keys.length ? keys.join(", ") : "none"})`,
  );
}

/** Renaming to the current name stores nothing. */
function renameProject(command: RenameProject, state: ProjectState): ProjectEvent[] {
  const project = requireProject(state);
  const name = requireName("name", command.data.name);
  const reason = optionalText(REASON_FIELD, command.data.reason) ?? null;
  if (name === project.name) return [];
  return [
    {
      type: "ProjectRenamed",
      data: { projectId: project.id, name, previousName: project.name, reason, at: command.now },
    },
  ];
}

function addEnvironment(command: AddEnvironment, state: ProjectState): ProjectEvent[] {
  const project = requireProject(state);
  const name = requireSlug("name", command.data.name);
  const reason = optionalText(REASON_FIELD, command.data.reason) ?? null;
  const taken = project.environments.find((e) => e.toLowerCase() === name.toLowerCase());
  if (taken !== undefined) {
    throw new DomainError("CONFLICT", `project ${project.id} already has environment "${taken}"`, "name");
  }
  const { position } = command.data;
  const count = project.environments.length;
  if (count >= BOUNDS.environmentsPerProject) {
    throw validation(
      "name",
      `at most ${BOUNDS.environmentsPerProject} environments per project (the project has ${count})`,
    );
  }
  if (
    position !== undefined &&
    position !== null &&
    (!Number.isInteger(position) || position < 0 || position > count)
  ) {
    throw validation("position", `must be an integer from 0 to ${count} (got ${String(position)})`);
  }
  return [
    {
      type: "ProjectEnvironmentAdded",
      data: { projectId: project.id, environment: name, position: position ?? count, reason, at: command.now },
    },
  ];
}

function removeEnvironment(command: RemoveEnvironment, state: ProjectState): ProjectEvent[] {
  const project = requireProject(state);
  const { name, usedBy } = command.data;
  const reason = optionalText(REASON_FIELD, command.data.reason) ?? null;
  if (typeof name !== "string" || !project.environments.includes(name)) throw unknownEnvironment(project, "name", name);
  if (project.environments.length === 1) {
    throw validation("name", `"${name}" is the project's only environment: a project needs at least one`);
  }
  if (usedBy.length > 0) {
    throw validation("name", `environment "${name}" is in use by ${listUsers(usedBy)}: change or remove those first`);
  }
  return [
    { type: "ProjectEnvironmentRemoved", data: { projectId: project.id, environment: name, reason, at: command.now } },
  ];
}

/** Creates the segment, or replaces the one with its key; the same segment again stores nothing. */
function upsertSegment(command: UpsertSegment, state: ProjectState): ProjectEvent[] {
  const project = requireProject(state);
  const segment = normalizeSegment(command.data.segment, "input");
  const reason = optionalText(REASON_FIELD, command.data.reason) ?? null;
  const before = project.segments.find((s) => s.key === segment.key);
  if (before === undefined) {
    if (project.segments.length >= BOUNDS.segmentsPerProject) {
      throw validation(
        "input.key",
        `at most ${BOUNDS.segmentsPerProject} segments per project (the project has ${project.segments.length})`,
      );
    }
    return [{ type: "ProjectSegmentCreated", data: { projectId: project.id, segment, reason, at: command.now } }];
  }
  if (jsonEqual(before, segment)) return [];
  return [
    {
      type: "ProjectSegmentUpdated",
      data: { projectId: project.id, key: segment.key, before, after: segment, reason, at: command.now },
    },
  ];
}

function deleteSegment(command: DeleteSegment, state: ProjectState): ProjectEvent[] {
  const project = requireProject(state);
  const { key, usedBy } = command.data;
  const reason = optionalText(REASON_FIELD, command.data.reason) ?? null;
  const before = project.segments.find((s) => s.key === key);
  if (before === undefined) throw unknownSegment(project, "key", key);
  if (usedBy.length > 0) {
    throw validation("key", `segment "${key}" is in use by ${listUsers(usedBy)}: change or remove those first`);
  }
  return [{ type: "ProjectSegmentDeleted", data: { projectId: project.id, key, before, reason, at: command.now } }];
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
    case "RenameProject":
      return renameProject(command, state);
    case "AddEnvironment":
      return addEnvironment(command, state);
    case "RemoveEnvironment":
      return removeEnvironment(command, state);
    case "UpsertSegment":
      return upsertSegment(command, state);
    case "DeleteSegment":
      return deleteSegment(command, state);
    case "FreezeProject":
      return freezeProject(command, state);
    case "UnfreezeProject":
      return unfreezeProject(command, state);
    case "EndFreeze":
      return endFreeze(command, state);
    default: {
      const unknown: never = command;
      throw new DomainError("INTERNAL", `unknown project command ${JSON.stringify(unknown)}`);
    }
  }
}

/** Also the read model's evolve: the same code builds live state and replays. */
export function evolveProject(state: ProjectState, event: ProjectEvent): ProjectState {
  if (event.type === "ProjectCreated") {
    const { projectId, name, environments, segments, at } = event.data;
    return { id: projectId, name, environments, segments, createdAt: at, version: (state?.version ?? 0) + 1 };
  }
  if (state === null) return state;
  const next = { ...state, version: state.version + 1 };
  switch (event.type) {
    case "ProjectRenamed":
      return { ...next, name: event.data.name };
    case "ProjectEnvironmentAdded": {
      const { environment, position } = event.data;
      const environments = [...state.environments];
      environments.splice(position, 0, environment);
      return { ...next, environments };
    }
    case "ProjectEnvironmentRemoved":
      return { ...next, environments: state.environments.filter((e) => e !== event.data.environment) };
    case "ProjectSegmentCreated":
      return { ...next, segments: [...state.segments, event.data.segment] };
    case "ProjectSegmentUpdated": {
      const { key, after } = event.data;
      return { ...next, segments: state.segments.map((s) => (s.key === key ? after : s)) };
    }
    case "ProjectSegmentDeleted":
      return { ...next, segments: state.segments.filter((s) => s.key !== event.data.key) };
    case "ProjectFrozen": {
      const { reason, by, until, at } = event.data;
      const since = activeFreeze(state, at)?.since ?? at;
      return { ...next, freeze: { reason, by, since, until } };
    }
    case "ProjectUnfrozen":
      return { ...next, freeze: null };
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

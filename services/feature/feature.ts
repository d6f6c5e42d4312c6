// Feature: a gate or dynamic config with one definition per project environment. Without a
// pipeline a change applies at once (FeatureUpdated DIRECT); with one it goes through a release, and
// this stream is the lock for "one active release per feature" (FeatureReleaseStarted/Ended). A feature
// is retired in two steps: archived (read-only, NOT_FOUND when evaluated, reversible), then deleted (gone
// from every live read; its stream stays for audit replay).

import type { Command, Decider } from "../core/decider.ts";
import { DomainError, validation } from "../core/errors.ts";
import { disabledDefinition, type EnvironmentDefinition, type FeatureKind } from "../core/model.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import { optionalText, type Project } from "../project/project.ts";
import {
  changedDefinitions,
  definitionsIn,
  type EnvironmentDefinitionInput,
  normalizeDefinitions,
} from "./definition.ts";
import type { FeatureCreated, FeatureEvent, FeatureUpdated } from "./events.ts";

export interface Feature {
  id: string;
  projectId: string;
  key: string;
  kind: FeatureKind;
  description: string | null;
  pipelineId: string | null;
  /**
   * The definitions the feature stored, one per environment the project had when they were stored. The
   * project's current environments are read through `definitionsIn` (an environment added later is
   * disabled with no value until set).
   */
  environments: EnvironmentDefinition[];
  activeReleaseId: string | null;
  /** Every release of the feature, oldest first. */
  releaseIds: string[];
  /** Number of stored events. */
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Set while archived. */
  archivedAt: string | null;
  archivedBy: string | null;
  /** Set once deleted: the state is kept only for deciders (a deleted feature answers NOT_FOUND). */
  deletedAt: string | null;
}

export type FeatureState = Feature | null;

export type CreateFeature = Command<
  "CreateFeature",
  {
    featureId: string;
    project: Project;
    key: string;
    kind: FeatureKind;
    description?: string | null;
    /** The pipeline named by `pipelineId`, loaded by the caller; null = none. */
    pipeline: Pipeline | null;
    environments?: EnvironmentDefinitionInput[] | null;
  }
>;
/**
 * A direct update: any change of a feature without a pipeline; with one, only an update that changes
 * nothing a release would roll out (see `definitionChanges`) — the others start a release instead.
 */
export type UpdateFeature = Command<
  "UpdateFeature",
  { project: Project; description?: string | null; environments: EnvironmentDefinitionInput[] }
>;
export type AttachPipeline = Command<"AttachPipeline", { pipeline: Pipeline }>;
export type DetachPipeline = Command<"DetachPipeline", Record<string, never>>;
/** Takes the feature's release lock; `description`, when given, changes at once. */
export type BeginRelease = Command<
  "BeginRelease",
  {
    releaseId: string;
    pipeline: Pipeline;
    description?: string | null;
    /** The project's environments now: those the feature never stored are added (disabled) with the lock. */
    environments?: readonly string[] | null;
  }
>;
/** System, from the release workflow: the definitions a phase, the completion or an abort stores. */
export type ApplyReleaseDefinitions = Command<
  "ApplyReleaseDefinitions",
  {
    releaseId: string;
    environments: EnvironmentDefinition[];
    cause: "ROLLOUT" | "COMPLETE" | "REVERT";
    phaseIndex?: number | null;
  }
>;
export type EndRelease = Command<"EndRelease", { releaseId: string; status: "COMPLETED" | "ABORTED" }>;
export type ArchiveFeature = Command<"ArchiveFeature", { reason?: string | null }>;
export type UnarchiveFeature = Command<"UnarchiveFeature", { reason?: string | null }>;
export type DeleteFeature = Command<"DeleteFeature", { reason?: string | null }>;

export type FeatureCommand =
  | CreateFeature
  | UpdateFeature
  | AttachPipeline
  | DetachPipeline
  | BeginRelease
  | ApplyReleaseDefinitions
  | EndRelease
  | ArchiveFeature
  | UnarchiveFeature
  | DeleteFeature;

/** Statsig-like ids: what SDKs and `evaluate` name the feature by. */
const KEY = /^[a-z0-9][a-z0-9_.-]{0,99}$/;
const KINDS: readonly FeatureKind[] = ["GATE", "DYNAMIC_CONFIG"];

// ---- guards ----------------------------------------------------------------------------------

function requireFeature(state: FeatureState): Feature {
  if (state === null || state.deletedAt !== null) throw new DomainError("NOT_FOUND", "feature not found");
  return state;
}

/** An archived feature is read-only until unarchived. */
function requireNotArchived(feature: Feature, doing: string): void {
  if (feature.archivedAt !== null) {
    throw new DomainError("IMMUTABLE", `feature ${feature.key} is archived: cannot ${doing} (unarchive it first)`);
  }
}

function requireNoActiveRelease(feature: Feature, doing: string): void {
  if (feature.activeReleaseId !== null) {
    throw new DomainError(
      "RELEASE_IN_PROGRESS",
      `feature ${feature.key} has release ${feature.activeReleaseId} in progress: cannot ${doing} until it completes or is aborted`,
    );
  }
}

/** The pipeline a release of the feature runs: the attached one (INVALID_STATE without one). */
export function releasePipelineId(feature: Feature): string {
  if (feature.pipelineId === null) {
    throw new DomainError("INVALID_STATE", `feature ${feature.key} has no pipeline attached: attach one to release`);
  }
  return feature.pipelineId;
}

function requireProject(feature: Feature, project: Project): void {
  if (project.id !== feature.projectId) {
    throw new DomainError("INTERNAL", `feature ${feature.id} is not in project ${project.id}`);
  }
}

/** An attachable pipeline: in the feature's project (else NOT_FOUND, as for any other project's data) and PUBLISHED. */
function requireAttachable(pipeline: Pipeline, projectId: string): void {
  if (pipeline.projectId !== projectId) {
    throw new DomainError("NOT_FOUND", `pipeline ${pipeline.id} not found in project ${projectId}`);
  }
  if (pipeline.status !== "PUBLISHED") {
    throw new DomainError(
      "PIPELINE_NOT_PUBLISHED",
      `pipeline ${pipeline.id} is ${pipeline.status}: only a published pipeline can be attached`,
    );
  }
}

/**
 * "This update changes nothing a release would roll out": the environments whose definition the update
 * changes — none for a description-only update or one equal to the current definitions. With a pipeline
 * attached, an update with changes goes through a release; any other applies at once.
 */
export function definitionChanges(
  feature: Feature,
  project: Project,
  environments: readonly EnvironmentDefinitionInput[],
): EnvironmentDefinition[] {
  // In the project's environments now: one the project gained since is disabled until set (decision 0024).
  const current = definitionsIn(project.environments, feature.environments);
  return changedDefinitions(current, normalizeDefinitions(project, feature.kind, environments, current));
}

// ---- commands --------------------------------------------------------------------------------

function createFeature(command: CreateFeature, state: FeatureState): FeatureCreated[] {
  const { featureId, project, key, kind, description, pipeline, environments } = command.data;
  if (state !== null) {
    throw new DomainError(
      "CONFLICT",
      state.deletedAt === null
        ? `feature key "${state.key}" is taken in project ${state.projectId}`
        : `feature ${state.id} (key "${state.key}") was deleted: a new feature with its key gets a new id (decision 0025)`,
    );
  }
  if (typeof key !== "string" || !KEY.test(key)) {
    throw validation(
      "key",
      `"${String(key)}" must be 1-100 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit (like a Statsig gate id)`,
    );
  }
  if (!KINDS.includes(kind)) throw validation("kind", `must be GATE or DYNAMIC_CONFIG (got ${String(kind)})`);
  const normalizedDescription = optionalText("description", description) ?? null;
  const definitions = normalizeDefinitions(project, kind, environments);
  if (pipeline !== null) requireAttachable(pipeline, project.id);
  return [
    {
      type: "FeatureCreated",
      data: {
        featureId,
        projectId: project.id,
        key,
        kind,
        description: normalizedDescription,
        pipelineId: pipeline?.id ?? null,
        environments: definitions,
        at: command.now,
      },
    },
  ];
}

/** Lists only the environments whose definition changes; nothing stored when nothing changes. */
function updateFeature(command: UpdateFeature, state: FeatureState): FeatureUpdated[] {
  const feature = requireFeature(state);
  requireNotArchived(feature, "update it");
  requireNoActiveRelease(feature, "update it");
  const { project, description, environments } = command.data;
  requireProject(feature, project);
  const changed = definitionChanges(feature, project, environments);
  if (feature.pipelineId !== null && changed.length > 0) {
    throw new DomainError(
      "INVALID_STATE",
      `feature ${feature.key} has pipeline ${feature.pipelineId} attached: its definition changes go through a release`,
    );
  }
  const nextDescription = optionalText("description", description);
  const descriptionChanges = nextDescription !== undefined && nextDescription !== feature.description;
  if (changed.length === 0 && !descriptionChanges) return [];
  return [
    {
      type: "FeatureUpdated",
      data: {
        featureId: feature.id,
        ...(descriptionChanges && { description: nextDescription }),
        environments: changed,
        cause: "DIRECT",
        releaseId: null,
        at: command.now,
      },
    },
  ];
}

/** Attaching the pipeline already attached stores nothing. */
function attachPipeline(command: AttachPipeline, state: FeatureState): FeatureEvent[] {
  const feature = requireFeature(state);
  requireNotArchived(feature, "change its pipeline");
  requireNoActiveRelease(feature, "change its pipeline");
  const { pipeline } = command.data;
  requireAttachable(pipeline, feature.projectId);
  if (pipeline.id === feature.pipelineId) return [];
  return [
    {
      type: "FeaturePipelineAttached",
      data: { featureId: feature.id, pipelineId: pipeline.id, replaced: feature.pipelineId, at: command.now },
    },
  ];
}

function detachPipeline(command: DetachPipeline, state: FeatureState): FeatureEvent[] {
  const feature = requireFeature(state);
  requireNotArchived(feature, "detach its pipeline");
  requireNoActiveRelease(feature, "detach its pipeline");
  if (feature.pipelineId === null) {
    throw new DomainError("INVALID_STATE", `feature ${feature.key} has no pipeline attached`);
  }
  return [
    {
      type: "FeaturePipelineDetached",
      data: { featureId: feature.id, pipelineId: feature.pipelineId, at: command.now },
    },
  ];
}

function beginRelease(command: BeginRelease, state: FeatureState): FeatureEvent[] {
  const feature = requireFeature(state);
  requireNotArchived(feature, "release it");
  requireNoActiveRelease(feature, "start another release");
  const { releaseId, pipeline, description, environments } = command.data;
  const attached = releasePipelineId(feature);
  if (pipeline.id !== attached) {
    // The caller loaded a pipeline that is no longer (or never was) the attached one: a concurrent attach.
    throw new DomainError(
      "CONFLICT",
      `feature ${feature.key} now has pipeline ${attached} attached, not ${pipeline.id}: retry`,
    );
  }
  if (pipeline.status !== "PUBLISHED") {
    throw new DomainError("PIPELINE_NOT_PUBLISHED", `pipeline ${pipeline.id} is ${pipeline.status}: cannot release`);
  }
  if (feature.releaseIds.includes(releaseId)) {
    throw new DomainError("CONFLICT", `release ${releaseId} of feature ${feature.key} already exists`);
  }
  const events: FeatureEvent[] = [];
  const nextDescription = optionalText("description", description);
  if (nextDescription !== undefined && nextDescription !== feature.description) {
    // A description is not staged: it changes with the release's start, tied to it by releaseId.
    events.push({
      type: "FeatureUpdated",
      data: {
        featureId: feature.id,
        description: nextDescription,
        environments: [],
        cause: "DIRECT",
        releaseId,
        at: command.now,
      },
    });
  }
  const addedEnvironments = (environments ?? []).filter((e) => !feature.environments.some((d) => d.environment === e));
  events.push({
    type: "FeatureReleaseStarted",
    data: {
      featureId: feature.id,
      releaseId,
      pipelineId: pipeline.id,
      pipelineVersion: pipeline.version,
      ...(addedEnvironments.length > 0 && { addedEnvironments }),
      at: command.now,
    },
  });
  return events;
}

const RELEASE_CAUSES = ["ROLLOUT", "COMPLETE", "REVERT"] as const;

function applyReleaseDefinitions(command: ApplyReleaseDefinitions, state: FeatureState): FeatureUpdated[] {
  const feature = requireFeature(state);
  const { releaseId, environments, cause, phaseIndex } = command.data;
  if (!RELEASE_CAUSES.includes(cause)) {
    throw validation("cause", `must be one of ${RELEASE_CAUSES.join(", ")} (got ${String(cause)})`);
  }
  const seen = new Set<string>();
  environments.forEach(({ environment }, i) => {
    if (!feature.environments.some((d) => d.environment === environment) || seen.has(environment)) {
      throw validation(`environments[${i}].environment`, `unknown or repeated environment "${environment}"`);
    }
    seen.add(environment);
  });
  // In the feature's environment order, whatever order the release sent.
  const changed = changedDefinitions(
    feature.environments,
    feature.environments.flatMap((d) => environments.filter((e) => e.environment === d.environment)),
  );
  if (releaseId !== feature.activeReleaseId) {
    // A retried activity after the release ended changes nothing: accept it as a no-op.
    if (feature.releaseIds.includes(releaseId) && changed.length === 0) return [];
    throw new DomainError(
      "INVALID_STATE",
      `release ${releaseId} is not the active release of feature ${feature.key} (active: ${feature.activeReleaseId ?? "none"})`,
    );
  }
  if (changed.length === 0) return [];
  return [
    {
      type: "FeatureUpdated",
      data: {
        featureId: feature.id,
        environments: changed,
        cause,
        releaseId,
        ...(phaseIndex !== undefined && phaseIndex !== null && { phaseIndex }),
        at: command.now,
      },
    },
  ];
}

/** Idempotent: ending a release that is not the active one stores nothing. */
function endRelease(command: EndRelease, state: FeatureState): FeatureEvent[] {
  const feature = requireFeature(state);
  const { releaseId, status } = command.data;
  if (status !== "COMPLETED" && status !== "ABORTED") {
    throw validation("status", `must be COMPLETED or ABORTED (got ${String(status)})`);
  }
  if (feature.activeReleaseId !== releaseId) return [];
  return [{ type: "FeatureReleaseEnded", data: { featureId: feature.id, releaseId, status, at: command.now } }];
}

/** Archiving an archived feature stores nothing (a retry). Not during a release: abort or finish it first. */
function archiveFeature(command: ArchiveFeature, state: FeatureState): FeatureEvent[] {
  const feature = requireFeature(state);
  const reason = optionalText("reason", command.data.reason) ?? null;
  if (feature.archivedAt !== null) return [];
  requireNoActiveRelease(feature, "archive it");
  return [
    { type: "FeatureArchived", data: { featureId: feature.id, by: command.actor.name, reason, at: command.now } },
  ];
}

/** Unarchiving a feature that is not archived stores nothing. */
function unarchiveFeature(command: UnarchiveFeature, state: FeatureState): FeatureEvent[] {
  const feature = requireFeature(state);
  const reason = optionalText("reason", command.data.reason) ?? null;
  if (feature.archivedAt === null) return [];
  return [
    { type: "FeatureUnarchived", data: { featureId: feature.id, by: command.actor.name, reason, at: command.now } },
  ];
}

/** Archived features only, so a delete is always a second, deliberate step. */
function deleteFeature(command: DeleteFeature, state: FeatureState): FeatureEvent[] {
  const feature = requireFeature(state);
  const reason = optionalText("reason", command.data.reason) ?? null;
  if (feature.archivedAt === null) {
    throw new DomainError("INVALID_STATE", `feature ${feature.key} is not archived: archive it before deleting it`);
  }
  return [
    {
      type: "FeatureDeleted",
      data: { featureId: feature.id, key: feature.key, by: command.actor.name, reason, at: command.now },
    },
  ];
}

export function decideFeature(command: FeatureCommand, state: FeatureState): FeatureEvent[] {
  switch (command.type) {
    case "CreateFeature":
      return createFeature(command, state);
    case "UpdateFeature":
      return updateFeature(command, state);
    case "AttachPipeline":
      return attachPipeline(command, state);
    case "DetachPipeline":
      return detachPipeline(command, state);
    case "BeginRelease":
      return beginRelease(command, state);
    case "ApplyReleaseDefinitions":
      return applyReleaseDefinitions(command, state);
    case "EndRelease":
      return endRelease(command, state);
    case "ArchiveFeature":
      return archiveFeature(command, state);
    case "UnarchiveFeature":
      return unarchiveFeature(command, state);
    case "DeleteFeature":
      return deleteFeature(command, state);
    default: {
      const unknown: never = command;
      throw new DomainError("INTERNAL", `unknown feature command ${JSON.stringify(unknown)}`);
    }
  }
}

/** Also the read model's evolve, and `featureAsOf`'s over a prefix of the stream. */
export function evolveFeature(state: FeatureState, event: FeatureEvent): FeatureState {
  if (event.type === "FeatureCreated") {
    const { featureId, projectId, key, kind, description, pipelineId, environments, at } = event.data;
    return {
      id: featureId,
      projectId,
      key,
      kind,
      description,
      pipelineId,
      environments,
      activeReleaseId: null,
      releaseIds: [],
      version: (state?.version ?? 0) + 1,
      createdAt: at,
      updatedAt: at,
      archivedAt: null,
      archivedBy: null,
      deletedAt: null,
    };
  }
  if (state === null) return state;
  const next = { ...state, version: state.version + 1, updatedAt: event.data.at };
  switch (event.type) {
    case "FeatureUpdated": {
      const { description, environments } = event.data;
      // An environment the feature never stored (the project gained it later) is added at the end.
      const added = environments.filter((e) => !state.environments.some((d) => d.environment === e.environment));
      return {
        ...next,
        ...(description !== undefined && { description }),
        environments: [
          ...state.environments.map(
            (current) => environments.find((e) => e.environment === current.environment) ?? current,
          ),
          ...added,
        ],
      };
    }
    case "FeaturePipelineAttached":
      return { ...next, pipelineId: event.data.pipelineId };
    case "FeaturePipelineDetached":
      return { ...next, pipelineId: null };
    case "FeatureReleaseStarted": {
      const added = (event.data.addedEnvironments ?? []).filter(
        (environment) => !state.environments.some((d) => d.environment === environment),
      );
      return {
        ...next,
        activeReleaseId: event.data.releaseId,
        releaseIds: [...state.releaseIds, event.data.releaseId],
        ...(added.length > 0 && {
          environments: [
            ...state.environments,
            ...added.map((environment) => ({ environment, definition: disabledDefinition() })),
          ],
        }),
      };
    }
    case "FeatureReleaseEnded":
      return {
        ...next,
        activeReleaseId: state.activeReleaseId === event.data.releaseId ? null : state.activeReleaseId,
      };
    case "FeatureArchived":
      return { ...next, archivedAt: event.data.at, archivedBy: event.data.by };
    case "FeatureUnarchived":
      return { ...next, archivedAt: null, archivedBy: null };
    case "FeatureDeleted":
      return { ...next, deletedAt: event.data.at };
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
}

export const featureDecider: Decider<FeatureState, FeatureCommand, FeatureEvent> = {
  initialState: () => null,
  evolve: evolveFeature,
  decide: decideFeature,
};

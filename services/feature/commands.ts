// The feature slice's command handlers: load → decide (featureDecider) → append → read your write. An
// update with changes a release would roll out (the decider's `definitionChanges`) goes to the release
// slice, which the composition root wires in as `releases`.

import { actorOf, type Caller } from "../core/caller.ts";
import { DomainError } from "../core/errors.ts";
import { featureIdFor } from "../core/ids.ts";
import type { FeatureKind } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import { loadStream, storeExecutor } from "../event-store/command-handler.ts";
import {
  type CommandDeps,
  callerMetadata,
  caughtUp,
  fromView,
  loadVisible,
  runCommand,
} from "../event-store/command-support.ts";
import type { EventStore } from "../event-store/port.ts";
import { loadPipeline } from "../pipeline/commands.ts";
import { loadProject } from "../project/commands.ts";
import type { Project } from "../project/project.ts";
import { type AttachmentContext, attachPipeline, createFeature, deleteFeature, detachPipeline } from "./attachment.ts";
import type { EnvironmentDefinitionInput } from "./definition.ts";
import { definitionChanges, type Feature, type FeatureCommand, featureDecider } from "./feature.ts";

export interface CreateFeatureInput {
  projectId: string;
  key: string;
  kind: FeatureKind;
  description?: string | null;
  pipelineId?: string | null;
  environments?: EnvironmentDefinitionInput[] | null;
}

export interface UpdateFeatureInput {
  description?: string | null;
  environments: EnvironmentDefinitionInput[];
}

/** How an update with changes starts its release (the release slice). */
export interface ReleaseStarter<Release> {
  startFromUpdate(caller: Caller, feature: Feature, project: Project, input: UpdateFeatureInput): Promise<Release>;
}

export interface FeatureCommands<Release> {
  createFeature(caller: Caller, input: CreateFeatureInput): Promise<Feature>;
  attachPipeline(caller: Caller, featureId: string, pipelineId: string): Promise<Feature>;
  detachPipeline(caller: Caller, featureId: string): Promise<Feature>;
  /**
   * The Feature, changed at once, when the update changes nothing a release would roll out (always, without
   * a pipeline); otherwise the Release it started.
   */
  updateFeature(caller: Caller, id: string, input: UpdateFeatureInput): Promise<Feature | Release>;
  // Retire (decision 0025). `reason` is stored in each event beside the actor.
  archiveFeature(caller: Caller, id: string, reason: string | null): Promise<Feature>;
  unarchiveFeature(caller: Caller, id: string, reason: string | null): Promise<Feature>;
  /** Archived features only. Answers the feature as its deletion left it (the read models drop it). */
  deleteFeature(caller: Caller, id: string, reason: string | null): Promise<Feature>;
}

export interface FeatureCommandDeps<Release> extends CommandDeps {
  views: { feature(id: string): Feature | null };
  releases: ReleaseStarter<Release>;
  logger?: { error(details: object, message: string): void };
}

/** The feature as stored, when the caller may see it and it is not deleted (NOT_FOUND otherwise). */
export async function loadFeature(store: EventStore, caller: Caller, id: string): Promise<Feature> {
  const feature = await loadVisible(
    store,
    caller,
    featureDecider,
    streams.feature(id),
    (state) => state.projectId,
    `feature ${id}`,
  );
  if (feature.deletedAt !== null) throw new DomainError("NOT_FOUND", `feature ${id} not found`);
  return feature;
}

/**
 * The id a new feature with `key` gets: the key's first generation whose stream does not hold a deleted
 * feature (generation 0 is the id every feature had before deletion existed). A deleted feature keeps its
 * stream and id for audit replay, so the key's next feature is a new stream; two racing creations walk to
 * the same generation and the store's no_stream check refuses the second (CONFLICT), as before.
 */
async function freeFeatureId(store: EventStore, projectId: string, key: string): Promise<string> {
  for (let generation = 0; ; generation++) {
    const id = featureIdFor(projectId, key, generation);
    const { state } = await loadStream(store, featureDecider, streams.feature(id));
    if (state === null || state.deletedAt === null) return id;
  }
}

export function createFeatureCommands<Release>(deps: FeatureCommandDeps<Release>): FeatureCommands<Release> {
  const { store, views } = deps;
  const at = (): string => deps.now().toISOString();
  const executor = storeExecutor(store);
  /** One instant for every event of the command, on both streams. */
  const attachment = (caller: Caller, projectId: string, now = at()): AttachmentContext => ({
    actor: actorOf(caller),
    now,
    metadata: callerMetadata(caller, projectId),
    onRecordNotRemoved: (error, pipelineId) =>
      deps.logger?.error({ err: error, pipelineId }, "could not remove a feature from its old pipeline's record"),
  });
  const shown = async (id: string, position: string | null): Promise<Feature> => {
    await caughtUp(deps, position);
    return fromView(views.feature(id), "feature", id);
  };

  async function run(caller: Caller, id: string, projectId: string, command: FeatureCommand): Promise<Feature> {
    await runCommand(deps, featureDecider, caller, { stream: streams.feature(id), projectId }, command);
    return fromView(views.feature(id), "feature", id);
  }

  return {
    async createFeature(caller, input) {
      const project = await loadProject(store, caller, input.projectId);
      const pipeline =
        input.pipelineId === undefined || input.pipelineId === null
          ? null
          : await loadPipeline(store, caller, input.pipelineId);
      const id = await freeFeatureId(store, project.id, input.key);
      const context = attachment(caller, project.id);
      const written = await createFeature(
        executor,
        {
          type: "CreateFeature",
          data: {
            featureId: id,
            project,
            key: input.key,
            kind: input.kind,
            description: input.description,
            pipeline,
            environments: input.environments,
          },
          actor: context.actor,
          now: context.now,
        },
        context,
      );
      return shown(id, written.position);
    },

    async attachPipeline(caller, featureId, pipelineId) {
      const feature = await loadFeature(store, caller, featureId);
      const pipeline = await loadPipeline(store, caller, pipelineId);
      await attachPipeline(executor, feature, pipeline, attachment(caller, feature.projectId));
      // Caught up with everything stored so far: the pipelines' records too.
      return shown(feature.id, null);
    },

    async detachPipeline(caller, featureId) {
      const feature = await loadFeature(store, caller, featureId);
      await detachPipeline(executor, feature, attachment(caller, feature.projectId));
      return shown(feature.id, null);
    },

    async updateFeature(caller, id, input) {
      const feature = await loadFeature(store, caller, id);
      if (feature.archivedAt !== null) {
        throw new DomainError("IMMUTABLE", `feature ${feature.key} is archived: cannot update it (unarchive it first)`);
      }
      const project = await loadProject(store, caller, feature.projectId);
      if (feature.pipelineId !== null && definitionChanges(feature, project, input.environments).length > 0) {
        return deps.releases.startFromUpdate(caller, feature, project, input);
      }
      return run(caller, feature.id, feature.projectId, {
        type: "UpdateFeature",
        data: { project, description: input.description, environments: input.environments },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async archiveFeature(caller, id, reason) {
      const feature = await loadFeature(store, caller, id);
      return run(caller, feature.id, feature.projectId, {
        type: "ArchiveFeature",
        data: { reason },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async unarchiveFeature(caller, id, reason) {
      const feature = await loadFeature(store, caller, id);
      return run(caller, feature.id, feature.projectId, {
        type: "UnarchiveFeature",
        data: { reason },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async deleteFeature(caller, id, reason) {
      const feature = await loadFeature(store, caller, id);
      // One instant for the deletion and the pipeline record it gives back.
      const context = attachment(caller, feature.projectId);
      const written = await deleteFeature(
        executor,
        feature,
        { type: "DeleteFeature", data: { reason }, actor: context.actor, now: context.now },
        context,
      );
      // Caught up with everything stored so far (the pipeline's record too); the read models drop the
      // feature, so the answer is the feature as its deletion left it.
      await caughtUp(deps, null);
      return fromView(written.state, "feature", feature.id);
    },
  };
}

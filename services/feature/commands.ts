// The feature slice's command handlers: load → decide (featureDecider) → append → read your write. An
// update with changes a release would roll out (the decider's `definitionChanges`) goes to the release
// slice, which the composition root wires in as `releases`.

import { actorOf, type Caller } from "../core/caller.ts";
import { featureIdFor } from "../core/ids.ts";
import type { FeatureKind } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import { storeExecutor } from "../event-store/command-handler.ts";
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
import { type AttachmentContext, attachPipeline, createFeature, detachPipeline } from "./attachment.ts";
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
}

export interface FeatureCommandDeps<Release> extends CommandDeps {
  views: { feature(id: string): Feature | null };
  releases: ReleaseStarter<Release>;
  logger?: { error(details: object, message: string): void };
}

/** The feature as stored, when the caller may see it (NOT_FOUND otherwise). */
export const loadFeature = (store: EventStore, caller: Caller, id: string): Promise<Feature> =>
  loadVisible(store, caller, featureDecider, streams.feature(id), (feature) => feature.projectId, `feature ${id}`);

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
      const id = featureIdFor(project.id, input.key);
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
  };
}

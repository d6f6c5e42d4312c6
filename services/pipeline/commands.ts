// The pipeline slice's command handlers: load → decide (pipelineDecider) → append → read your write.

import { actorOf, type Caller } from "../core/caller.ts";
import { newId } from "../core/ids.ts";
import type { SelfApproval } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import { type CommandDeps, caughtUp, fromView, loadVisible, runCommand } from "../event-store/command-support.ts";
import type { EventStore } from "../event-store/port.ts";
import { loadProject } from "../project/commands.ts";
import { type PhaseInput, type Pipeline, type PipelineCommand, pipelineDecider } from "./pipeline.ts";
import type { PromotionWindow } from "./windows.ts";

export interface CreatePipelineInput {
  projectId: string;
  name: string;
  description?: string | null;
  selfApproval?: SelfApproval | null;
  phases: PhaseInput[];
  windows?: PromotionWindow[] | null;
}

export interface UpdatePipelineInput {
  name?: string | null;
  description?: string | null;
  selfApproval?: SelfApproval | null;
  phases?: PhaseInput[] | null;
  windows?: PromotionWindow[] | null;
}

export interface PipelineCommands {
  createPipeline(caller: Caller, input: CreatePipelineInput): Promise<Pipeline>;
  updatePipeline(caller: Caller, id: string, input: UpdatePipelineInput): Promise<Pipeline>;
  publishPipeline(caller: Caller, id: string): Promise<Pipeline>;
  clonePipeline(caller: Caller, id: string, name: string | null): Promise<Pipeline>;
  deletePipeline(caller: Caller, id: string): Promise<Pipeline>;
  /** Metadata only: name and description (absent: kept; null: cleared); the phases never change. */
  renamePipeline(
    caller: Caller,
    id: string,
    name: string,
    description: string | null | undefined,
    reason: string | null,
  ): Promise<Pipeline>;
}

export interface PipelineCommandDeps extends CommandDeps {
  views: {
    pipeline(id: string): Pipeline | null;
    /** `includeArchived`: deletePipeline counts archived features, which keep their pipeline. */
    featuresWithPipeline(pipelineId: string, includeArchived: boolean): readonly { id: string }[];
  };
}

/** The pipeline as stored, when the caller may see it (NOT_FOUND otherwise). */
export const loadPipeline = (store: EventStore, caller: Caller, id: string): Promise<Pipeline> =>
  loadVisible(store, caller, pipelineDecider, streams.pipeline(id), (pipeline) => pipeline.projectId, `pipeline ${id}`);

export function createPipelineCommands(deps: PipelineCommandDeps): PipelineCommands {
  const { store, views } = deps;
  const at = (): string => deps.now().toISOString();

  async function run(caller: Caller, id: string, projectId: string, command: PipelineCommand): Promise<Pipeline> {
    await runCommand(deps, pipelineDecider, caller, { stream: streams.pipeline(id), projectId }, command);
    return fromView(views.pipeline(id), "pipeline", id);
  }

  return {
    async createPipeline(caller, input) {
      const project = await loadProject(store, caller, input.projectId);
      const id = newId();
      return run(caller, id, project.id, {
        type: "CreatePipeline",
        data: {
          pipelineId: id,
          project,
          name: input.name,
          description: input.description,
          selfApproval: input.selfApproval,
          phases: input.phases,
          windows: input.windows,
        },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async updatePipeline(caller, id, input) {
      const pipeline = await loadPipeline(store, caller, id);
      const project = await loadProject(store, caller, pipeline.projectId);
      return run(caller, id, project.id, {
        type: "UpdatePipeline",
        data: { project, ...input },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async publishPipeline(caller, id) {
      const pipeline = await loadPipeline(store, caller, id);
      return run(caller, id, pipeline.projectId, {
        type: "PublishPipeline",
        data: {},
        actor: actorOf(caller),
        now: at(),
      });
    },

    async clonePipeline(caller, id, name) {
      const source = await loadPipeline(store, caller, id);
      const cloneId = newId();
      return run(caller, cloneId, source.projectId, {
        type: "ClonePipeline",
        data: { pipelineId: cloneId, source, name },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async deletePipeline(caller, id) {
      const pipeline = await loadPipeline(store, caller, id);
      // The attachments as the read models know them, after everything stored so far is applied.
      await caughtUp(deps, null);
      const attachedFeatureIds = views.featuresWithPipeline(id, true).map((feature) => feature.id);
      return run(caller, id, pipeline.projectId, {
        type: "DeletePipeline",
        data: { attachedFeatureIds },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async renamePipeline(caller, id, name, description, reason) {
      const pipeline = await loadPipeline(store, caller, id);
      return run(caller, id, pipeline.projectId, {
        type: "RenamePipeline",
        data: { name, description, reason },
        actor: actorOf(caller),
        now: at(),
      });
    },
  };
}

// The project slice's command handlers: load → decide (projectDecider) → append → read your write.
// Removing an environment or deleting a segment first reads what uses it from the read models (./usage.ts).

import { actorOf, type Caller } from "../core/caller.ts";
import { DomainError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import type { SegmentOperator } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import { type CommandDeps, caughtUp, fromView, loadVisible, runCommand } from "../event-store/command-support.ts";
import type { EventStore } from "../event-store/port.ts";
import { type Project, type ProjectCommand, projectDecider, type SegmentInput } from "./project.ts";
import { environmentUsers, segmentUsers, type UsageViews } from "./usage.ts";

export interface CreateProjectInput {
  name: string;
  environments: string[];
  segments?: { key: string; attribute: string; operator: SegmentOperator; values: string[] }[] | null;
}

export interface ProjectCommands {
  createProject(caller: Caller, input: CreateProjectInput): Promise<Project>;
  // Edit (decision 0024). `reason` is stored in each event beside the actor.
  /** Renames the project; an absent or null name changes nothing. */
  updateProject(caller: Caller, id: string, input: { name?: string | null }, reason: string | null): Promise<Project>;
  addEnvironment(
    caller: Caller,
    projectId: string,
    name: string,
    position: number | null,
    reason: string | null,
  ): Promise<Project>;
  removeEnvironment(caller: Caller, projectId: string, name: string, reason: string | null): Promise<Project>;
  upsertSegment(caller: Caller, projectId: string, input: SegmentInput, reason: string | null): Promise<Project>;
  deleteSegment(caller: Caller, projectId: string, key: string, reason: string | null): Promise<Project>;
  /** Stop the line until unfrozen or `until` (an ISO instant in the future). */
  freezeProject(caller: Caller, input: { projectId: string; reason: string; until?: string | null }): Promise<Project>;
  /** Lift the freeze; a project that is not frozen is answered unchanged. */
  unfreezeProject(caller: Caller, input: { projectId: string; reason?: string | null }): Promise<Project>;
}

export interface ProjectCommandDeps extends CommandDeps {
  views: { project(id: string): Project | null } & UsageViews;
}

/** The project as stored, when the caller may see it (NOT_FOUND otherwise). */
export const loadProject = (store: EventStore, caller: Caller, id: string): Promise<Project> =>
  loadVisible(store, caller, projectDecider, streams.project(id), (project) => project.id, `project ${id}`);

export function createProjectCommands(deps: ProjectCommandDeps): ProjectCommands {
  const { store, views } = deps;
  const at = (): string => deps.now().toISOString();

  async function run(caller: Caller, project: Project, command: ProjectCommand): Promise<Project> {
    await runCommand(
      deps,
      projectDecider,
      caller,
      { stream: streams.project(project.id), projectId: project.id },
      command,
    );
    return fromView(views.project(project.id), "project", project.id);
  }

  return {
    async createProject(caller, input) {
      if (caller.auth.projectId !== null) {
        throw new DomainError(
          "FORBIDDEN",
          `token "${caller.auth.name}" is bound to a project: it cannot create projects`,
        );
      }
      const id = newId();
      const at = deps.now().toISOString();
      await runCommand(
        deps,
        projectDecider,
        caller,
        { stream: streams.project(id), projectId: id },
        {
          type: "CreateProject",
          data: { projectId: id, name: input.name, environments: input.environments, segments: input.segments },
          actor: actorOf(caller),
          now: at,
        },
      );
      return fromView(views.project(id), "project", id);
    },

    async updateProject(caller, id, input, reason) {
      const project = await loadProject(store, caller, id);
      if (input.name === undefined || input.name === null) {
        await caughtUp(deps, null);
        return fromView(views.project(project.id), "project", project.id);
      }
      return run(caller, project, {
        type: "RenameProject",
        data: { name: input.name, reason },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async addEnvironment(caller, projectId, name, position, reason) {
      const project = await loadProject(store, caller, projectId);
      return run(caller, project, {
        type: "AddEnvironment",
        data: { name, position, reason },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async removeEnvironment(caller, projectId, name, reason) {
      const project = await loadProject(store, caller, projectId);
      // What uses it, as the read models know it once everything stored so far is applied.
      await caughtUp(deps, null);
      return run(caller, project, {
        type: "RemoveEnvironment",
        data: { name, usedBy: environmentUsers(views, project.id, name), reason },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async upsertSegment(caller, projectId, input, reason) {
      const project = await loadProject(store, caller, projectId);
      return run(caller, project, {
        type: "UpsertSegment",
        data: { segment: input, reason },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async deleteSegment(caller, projectId, key, reason) {
      const project = await loadProject(store, caller, projectId);
      await caughtUp(deps, null);
      return run(caller, project, {
        type: "DeleteSegment",
        data: { key, usedBy: segmentUsers(views, project.id, key), reason },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async freezeProject(caller, input) {
      const project = await loadProject(store, caller, input.projectId);
      return run(caller, project, {
        type: "FreezeProject",
        data: { projectId: project.id, reason: input.reason, until: input.until ?? null },
        actor: actorOf(caller),
        now: at(),
      });
    },

    async unfreezeProject(caller, input) {
      const project = await loadProject(store, caller, input.projectId);
      return run(caller, project, {
        type: "UnfreezeProject",
        data: { projectId: project.id, reason: input.reason ?? null },
        actor: actorOf(caller),
        now: at(),
      });
    },
  };
}

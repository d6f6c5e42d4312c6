// The project slice's command handlers: load → decide (projectDecider) → append → read your write.

import { actorOf, type Caller } from "../core/caller.ts";
import { DomainError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import type { SegmentOperator } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import { type CommandDeps, fromView, loadVisible, runCommand } from "../event-store/command-support.ts";
import type { EventStore } from "../event-store/port.ts";
import { type Project, projectDecider } from "./project.ts";

export interface CreateProjectInput {
  name: string;
  environments: string[];
  segments?: { key: string; attribute: string; operator: SegmentOperator; values: string[] }[] | null;
}

export interface ProjectCommands {
  createProject(caller: Caller, input: CreateProjectInput): Promise<Project>;
  /** Stop the line until unfrozen or `until` (an ISO instant in the future). */
  freezeProject(caller: Caller, input: { projectId: string; reason: string; until?: string | null }): Promise<Project>;
  /** Lift the freeze; a project that is not frozen is answered unchanged. */
  unfreezeProject(caller: Caller, input: { projectId: string; reason?: string | null }): Promise<Project>;
}

export interface ProjectCommandDeps extends CommandDeps {
  views: { project(id: string): Project | null };
}

/** The project as stored, when the caller may see it (NOT_FOUND otherwise). */
export const loadProject = (store: EventStore, caller: Caller, id: string): Promise<Project> =>
  loadVisible(store, caller, projectDecider, streams.project(id), (project) => project.id, `project ${id}`);

export function createProjectCommands(deps: ProjectCommandDeps): ProjectCommands {
  const { views } = deps;
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

    async freezeProject(caller, input) {
      const project = await loadProject(deps.store, caller, input.projectId);
      await runCommand(
        deps,
        projectDecider,
        caller,
        { stream: streams.project(project.id), projectId: project.id },
        {
          type: "FreezeProject",
          data: { projectId: project.id, reason: input.reason, until: input.until ?? null },
          actor: actorOf(caller),
          now: deps.now().toISOString(),
        },
      );
      return fromView(views.project(project.id), "project", project.id);
    },

    async unfreezeProject(caller, input) {
      const project = await loadProject(deps.store, caller, input.projectId);
      await runCommand(
        deps,
        projectDecider,
        caller,
        { stream: streams.project(project.id), projectId: project.id },
        {
          type: "UnfreezeProject",
          data: { projectId: project.id, reason: input.reason ?? null },
          actor: actorOf(caller),
          now: deps.now().toISOString(),
        },
      );
      return fromView(views.project(project.id), "project", project.id);
    },
  };
}

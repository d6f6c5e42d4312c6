// The release slice's command handlers. A start stores the feature's lock and ReleaseStarted
// (./start.ts), starts the release's workflow and waits until the read models show its first step; an
// action goes to the running workflow as an Update (whose validator runs this slice's decider) and waits
// until the read models show its effect. Temporal stays behind the `workflows` port, wired by the
// composition root.

import { createHash } from "node:crypto";
import { actorOf, type Caller, canSeeProject } from "../core/caller.ts";
import { DomainError, isDomainError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { jsonEqual } from "../core/model.ts";
import { storeExecutor } from "../event-store/command-handler.ts";
import { type CommandDeps, callerMetadata, caughtUp, fromView, waitUntil } from "../event-store/command-support.ts";
import { loadFeature, type ReleaseStarter, type UpdateFeatureInput } from "../feature/commands.ts";
import { type Feature, releasePipelineId } from "../feature/feature.ts";
import { loadPipeline } from "../pipeline/commands.ts";
import { loadProject } from "../project/commands.ts";
import type { Project } from "../project/project.ts";
import { RELEASE_ACTIONS, type ReleaseActionInput, type ReleaseActionName, toCommand } from "./actions.ts";
import { decide as decideRelease, type Release, rolledOutFeatureDefinitions } from "./release.ts";
import { type ReleaseStartRequest, startRelease } from "./start.ts";

export interface ReleaseActionArgs {
  phaseIndex?: number | null;
  comment?: string | null;
  reason?: string | null;
}

/** The release workflows (Temporal), as the release slice needs them. */
export interface ReleaseWorkflows {
  /** Starts (or finds running) the release's workflow. */
  start(releaseId: string): Promise<void>;
  /** Runs the action as the workflow's Update `updateId`; answers the release as the Update left it. */
  act(releaseId: string, action: ReleaseActionName, input: ReleaseActionInput, updateId: string): Promise<Release>;
}

export type ReleaseActionCommands = Record<
  ReleaseActionName,
  (caller: Caller, id: string, args: ReleaseActionArgs) => Promise<Release>
>;

export interface ReleaseCommands extends ReleaseActionCommands, ReleaseStarter<Release> {
  startRelease(caller: Caller, featureId: string, reason: string | null): Promise<Release>;
}

export interface ReleaseCommandDeps extends CommandDeps {
  views: { release(id: string): Release | null; feature(id: string): Feature | null };
  workflows: ReleaseWorkflows;
  logger: { error(details: object, message: string): void };
  /** How long a release start waits for the workflow's first step to show (default 5 s). */
  startWaitMs?: number;
  /** How long an action waits for the read model to reach the Update's version (default 10 s). */
  actionWaitMs?: number;
}

export function createReleaseCommands(deps: ReleaseCommandDeps): ReleaseCommands {
  const { store, views, logger } = deps;
  const startWaitMs = deps.startWaitMs ?? 5_000;
  const actionWaitMs = deps.actionWaitMs ?? 10_000;
  const executor = storeExecutor(store);

  /**
   * Whether the feature's read model shows what the release's stored events do to it (featureEffects):
   * the definitions its rollouts stored, and, once it ended, no lock.
   * The workflow applies them right after the release events, in its next activity.
   */
  function featureShows(release: Release): boolean {
    const feature = views.feature(release.featureId);
    if (feature === null) return false;
    if (release.status !== "IN_PROGRESS") return feature.activeReleaseId !== release.id;
    const latest = rolledOutFeatureDefinitions(release);
    return [...latest].every(([environment, definition]) =>
      jsonEqual(feature.environments.find((e) => e.environment === environment)?.definition, definition),
    );
  }

  async function begin(
    caller: Caller,
    feature: Feature,
    project: Project,
    change: Pick<ReleaseStartRequest, "trigger" | "inputs" | "description" | "reason">,
  ): Promise<Release> {
    const pipeline = await loadPipeline(store, caller, releasePipelineId(feature));
    const started = await startRelease(
      executor,
      {
        feature,
        project,
        pipeline,
        ...change,
        actor: actorOf(caller),
        now: deps.now().toISOString(),
        metadata: callerMetadata(caller, project.id),
      },
      {
        onLockNotReturned: (error, releaseId) =>
          logger.error({ err: error, releaseId }, "could not give back the feature's release lock"),
      },
    );
    const releaseId = started.release.id;
    await startWorkflow(releaseId);
    if (started.position !== null) await deps.projections.waitFor(started.position);
    const shown = await waitUntil(
      deps.projections,
      () => {
        const release = views.release(releaseId);
        return release !== null && (release.version > 1 || release.status !== "IN_PROGRESS") && featureShows(release)
          ? release
          : null;
      },
      startWaitMs,
    );
    return shown ?? fromView(views.release(releaseId), "release", releaseId);
  }

  async function startWorkflow(releaseId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.workflows.start(releaseId);
        return;
      } catch (error) {
        if (attempt >= 3) {
          // ReleaseStarted is stored: the worker's reconcile loop starts the workflow at its next sweep.
          logger.error({ err: error, releaseId }, "could not start the release's workflow");
          throw new DomainError(
            "INTERNAL",
            `release ${releaseId} is stored but its workflow could not start yet; the worker starts it within its reconcile interval (default 1 min)`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  /**
   * The action's Temporal Update id. A retried request is the same Update (applied once, same answer) when
   * it carries the same `Idempotency-Key`, or, without one, the same `X-Request-Id`; with neither, every
   * request is a new Update. The id is scoped to the token, the release, the action and its phase guard.
   */
  function updateIdFor(caller: Caller, releaseId: string, action: ReleaseActionName, args: ReleaseActionArgs) {
    const { idempotencyKey, requestId } = caller.request;
    const key = idempotencyKey !== null ? `key:${idempotencyKey}` : requestId !== null ? `request:${requestId}` : null;
    if (key === null) return newId();
    return createHash("sha256")
      .update([caller.auth.tokenId, releaseId, action, String(args.phaseIndex ?? ""), key].join("\u0000"))
      .digest("hex");
  }

  async function act(caller: Caller, id: string, action: ReleaseActionName, args: ReleaseActionArgs) {
    let release = views.release(id);
    if (release === null) {
      // Perhaps stored by another process and not projected here yet.
      await caughtUp(deps, null);
      release = views.release(id);
    }
    if (release === null || !canSeeProject(caller.auth, release.projectId)) {
      throw new DomainError("NOT_FOUND", `release ${id} not found`);
    }
    const input: ReleaseActionInput = {
      actor: actorOf(caller),
      phaseIndex: args.phaseIndex ?? null,
      comment: args.comment ?? null,
      reason: args.reason ?? null,
      correlationId: caller.request.correlationId,
    };
    if (release.status !== "IN_PROGRESS") {
      // The workflow has ended with the release: the decider gives the answer it would have given (it
      // refuses every action on an ended release).
      decideRelease(toCommand(action, input, deps.now().toISOString()), release);
      throw new DomainError("INTERNAL", `the release decider accepted ${action} on a ${release.status} release`);
    }
    let updated: Release;
    try {
      updated = await deps.workflows.act(id, action, input, updateIdFor(caller, id, action, args));
    } catch (error) {
      if (!isDomainError(error)) logger.error({ err: error, releaseId: id, action }, "release action failed");
      throw error;
    }
    const shown = await waitUntil(
      deps.projections,
      () => {
        const current = views.release(id);
        return current !== null && current.version >= updated.version && featureShows(current) ? current : null;
      },
      actionWaitMs,
    );
    return shown ?? updated;
  }

  const actions = Object.fromEntries(
    RELEASE_ACTIONS.map((action) => [
      action,
      (caller: Caller, id: string, args: ReleaseActionArgs) => act(caller, id, action, args),
    ]),
  ) as ReleaseActionCommands;

  return {
    ...actions,
    async startRelease(caller, featureId, reason) {
      const feature = await loadFeature(store, caller, featureId);
      const project = await loadProject(store, caller, feature.projectId);
      return begin(caller, feature, project, { trigger: "START", inputs: null, reason });
    },
    startFromUpdate(caller, feature, project, input: UpdateFeatureInput) {
      return begin(caller, feature, project, {
        trigger: "UPDATE",
        inputs: input.environments,
        description: input.description,
        reason: null,
      });
    },
  };
}

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

/** Remembers which request an Idempotency-Key named (docs/decisions/0035). */
export interface IdempotencyGuard {
  /**
   * Records that `key` (of token `tokenId`) names `request`, or checks that it already did. Throws
   * DomainError CONFLICT when the key was used for a different request.
   */
  claim(tokenId: string, key: string, request: { operation: string; arguments: Record<string, unknown> }): void;
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
  /** Where Idempotency-Keys are remembered (services/api/idempotency.ts); unset: no mismatch check. */
  idempotency?: IdempotencyGuard;
}

export function createReleaseCommands(deps: ReleaseCommandDeps): ReleaseCommands {
  const { store, views, logger } = deps;
  const startWaitMs = deps.startWaitMs ?? 5_000;
  const actionWaitMs = deps.actionWaitMs ?? 10_000;
  const executor = storeExecutor(store);
  const idempotency = deps.idempotency;

  /** One Idempotency-Key, one request: the same key with another action, release or note is CONFLICT. */
  function claimIdempotencyKey(caller: Caller, releaseId: string, action: ReleaseActionName, args: ReleaseActionArgs) {
    const key = caller.request.idempotencyKey;
    if (key === null || idempotency === undefined) return;
    idempotency.claim(caller.auth.tokenId, key, { operation: action, arguments: { id: releaseId, ...args } });
  }

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
    const shows = (environment: string, definition: unknown): boolean =>
      jsonEqual(feature.environments.find((e) => e.environment === environment)?.definition, definition);
    // After a rollback to a phase, what it reverted is back (to a kept phase's definition, or `before`).
    const reverted = release.actions.at(-1)?.kind === "ROLLBACK_TO_PHASE" ? release.before : [];
    return (
      [...latest].every(([environment, definition]) => shows(environment, definition)) &&
      reverted.every(({ environment, definition }) => latest.has(environment) || shows(environment, definition))
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
    const running = await startWorkflow(releaseId);
    if (started.position !== null) await deps.projections.waitFor(started.position);
    // Without a workflow yet there is no first step to wait for: the release as stored is the answer.
    if (!running) return fromView(views.release(releaseId), "release", releaseId);
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

  /**
   * Starts the release's workflow; when Temporal does not answer (down, frozen: the call has a deadline),
   * the release is stored all the same and is answered as started — the worker's reconcile loop starts
   * its workflow within seconds of Temporal answering again (PRODUCT.md "Faults").
   */
  async function startWorkflow(releaseId: string): Promise<boolean> {
    try {
      await deps.workflows.start(releaseId);
      return true;
    } catch (error) {
      logger.error(
        { err: error, releaseId },
        "could not start the release's workflow yet; the worker's reconcile loop starts it once Temporal answers",
      );
      return false;
    }
  }

  /**
   * The action's Temporal Update id. A retried request is the same Update (applied once, same answer) when
   * it carries the same `Idempotency-Key`, or, without one, the same `X-Request-Id`; with neither, every
   * request is a new Update. A key's id is scoped to the token and the release (one key names one request:
   * 0035); a request id's to the token, the release, the action and its phase guard.
   */
  function updateIdFor(caller: Caller, releaseId: string, action: ReleaseActionName, args: ReleaseActionArgs) {
    const { idempotencyKey, requestId } = caller.request;
    if (idempotencyKey !== null) {
      // The key alone (with the token and the release) names the Update: never applied twice, even
      // after a restart forgot which request the key named (claimIdempotencyKey).
      return createHash("sha256")
        .update([caller.auth.tokenId, releaseId, `key:${idempotencyKey}`].join("\u0000"))
        .digest("hex");
    }
    if (requestId === null) return newId();
    return createHash("sha256")
      .update(
        [caller.auth.tokenId, releaseId, action, String(args.phaseIndex ?? ""), `request:${requestId}`].join("\u0000"),
      )
      .digest("hex");
  }

  async function act(caller: Caller, id: string, action: ReleaseActionName, args: ReleaseActionArgs) {
    claimIdempotencyKey(caller, id, action, args);
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
    const updateId = updateIdFor(caller, id, action, args);
    try {
      updated = await deps.workflows.act(id, action, input, updateId);
    } catch (error) {
      if (!(isDomainError(error) && error.code === "NOT_FOUND")) {
        if (!isDomainError(error)) logger.error({ err: error, releaseId: id, action }, "release action failed");
        throw error;
      }
      // The release is IN_PROGRESS but its workflow is not running (its start failed while Temporal was
      // down, or it was terminated): start it now rather than answer a misleading NOT_FOUND, then act.
      if (!(await startWorkflow(id))) {
        throw new DomainError(
          "INTERNAL",
          `release ${id}'s workflow is not running and Temporal does not answer; retry with the same Idempotency-Key`,
        );
      }
      updated = await deps.workflows.act(id, action, input, updateId);
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

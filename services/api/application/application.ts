// The application services behind the GraphQL mutations. Every write goes through a decider and the
// command handler (load → decide → append with the expected revision), or, for a running release, through
// the release workflow's Updates. A refusal is thrown before anything is appended, so a failed mutation
// writes nothing. Each mutation then waits for the projection runner to apply what it appended
// (read-your-writes) and answers from the read models.

import { createHash } from "node:crypto";
import type { Client } from "@temporalio/client";
import type { AuthInfo, RequestInfo } from "../../../schema/context.ts";
import { type ReleaseActionName, runReleaseAction, startReleaseWorkflow } from "../../../workflows/client.ts";
import { toCommand } from "../../../workflows/release-messages.workflow.ts";
import type { Decider, DomainEvent } from "../../core/decider.ts";
import { DomainError, isDomainError } from "../../core/errors.ts";
import { streams } from "../../core/event.ts";
import {
  type Actor,
  type Definition,
  type EnvironmentDefinition,
  type FeatureKind,
  jsonEqual,
  type Role,
  type SegmentOperator,
  type SelfApproval,
} from "../../core/model.ts";
import { type CommandMetadata, handleCommand, loadStream } from "../../event-store/command-handler.ts";
import type { EventStore } from "../../event-store/port.ts";
import {
  changedDefinitions,
  definitionsIn,
  type EnvironmentDefinitionInput,
  normalizeDefinitions,
} from "../../feature/definition.ts";
import { type Feature, type FeatureCommand, featureDecider } from "../../feature/feature.ts";
import { type PhaseInput, type Pipeline, pipelineDecider } from "../../pipeline/pipeline.ts";
import type { Logger } from "../../platform/logger.ts";
import { type Project, type ProjectCommand, projectDecider, type SegmentInput } from "../../project/project.ts";
import type { ReadModels } from "../../projections/read-models.ts";
import type { ProjectionRunner } from "../../projections/runner.ts";
import {
  decide as decideRelease,
  decideStart,
  type Release,
  type ReleaseCommand,
  type ReleaseState,
  releaseDecider,
  type StartRelease,
} from "../../release/release.ts";
import { tokenDecider } from "../../token/token.ts";
import { featureIdFor, hashSecret, newId, newTokenSecret, releaseIdFor, tokenIdFor } from "../ids.ts";
import { environmentUsers, segmentUsers } from "./usage.ts";

/** Who a mutation is by. */
export interface Caller {
  auth: AuthInfo;
  request: RequestInfo;
}

export interface CreateProjectInput {
  name: string;
  environments: string[];
  segments?: { key: string; attribute: string; operator: SegmentOperator; values: string[] }[] | null;
}

export interface CreateApiTokenInput {
  name: string;
  projectId?: string | null;
  role: Role;
}

export interface CreatedApiToken {
  name: string;
  role: Role;
  projectId: string | null;
  secret: string;
}

export interface CreatePipelineInput {
  projectId: string;
  name: string;
  description?: string | null;
  selfApproval?: SelfApproval | null;
  phases: PhaseInput[];
}

export interface UpdatePipelineInput {
  name?: string | null;
  description?: string | null;
  selfApproval?: SelfApproval | null;
  phases?: PhaseInput[] | null;
}

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

export interface ReleaseActionArgs {
  phaseIndex?: number | null;
  comment?: string | null;
  reason?: string | null;
}

export interface ApiApplication {
  createProject(caller: Caller, input: CreateProjectInput): Promise<Project>;
  createApiToken(caller: Caller, input: CreateApiTokenInput): Promise<CreatedApiToken>;
  createPipeline(caller: Caller, input: CreatePipelineInput): Promise<Pipeline>;
  updatePipeline(caller: Caller, id: string, input: UpdatePipelineInput): Promise<Pipeline>;
  publishPipeline(caller: Caller, id: string): Promise<Pipeline>;
  clonePipeline(caller: Caller, id: string, name: string | null): Promise<Pipeline>;
  deletePipeline(caller: Caller, id: string): Promise<Pipeline>;
  createFeature(caller: Caller, input: CreateFeatureInput): Promise<Feature>;
  attachPipeline(caller: Caller, featureId: string, pipelineId: string): Promise<Feature>;
  detachPipeline(caller: Caller, featureId: string): Promise<Feature>;
  /** Without a pipeline: the Feature, changed at once. With one: the Release it started. */
  updateFeature(caller: Caller, id: string, input: UpdateFeatureInput): Promise<Feature | Release>;
  startRelease(caller: Caller, featureId: string, reason: string | null): Promise<Release>;
  releaseAction(caller: Caller, id: string, action: ReleaseActionName, args: ReleaseActionArgs): Promise<Release>;
  // Edit and retire (decisions 0024-0026). `reason` is stored in each event beside the actor.
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
  archiveFeature(caller: Caller, id: string, reason: string | null): Promise<Feature>;
  unarchiveFeature(caller: Caller, id: string, reason: string | null): Promise<Feature>;
  /** Answers the feature as it was when deleted. */
  deleteFeature(caller: Caller, id: string, reason: string | null): Promise<Feature>;
  renamePipeline(
    caller: Caller,
    id: string,
    name: string,
    description: string | null | undefined,
    reason: string | null,
  ): Promise<Pipeline>;
}

export interface ApplicationDeps {
  store: EventStore;
  readModels: ReadModels;
  runner: Pick<ProjectionRunner, "waitFor" | "onEvent">;
  temporal: { client: Client; taskQueue?: string };
  logger: Logger;
  now?: () => Date;
  /** How long a release start waits for the workflow's first step to show (default 5 s). */
  releaseStartWaitMs?: number;
  /** How long an action waits for the read model to reach the Update's version (default 10 s). */
  actionWaitMs?: number;
}

const ACTION_VERBS: Record<ReleaseActionName, string> = {
  approve: "approve",
  pause: "pause",
  unpause: "unpause",
  skip: "skip",
  abort: "abort",
  fullRollout: "roll out fully",
};

/** The release decider restricted to its start: the API stores ReleaseStarted; the workflow takes every later step. */
const startDecider: Decider<ReleaseState, StartRelease, DomainEvent> = {
  initialState: releaseDecider.initialState,
  evolve: (state, event) => releaseDecider.evolve(state, event as Parameters<typeof releaseDecider.evolve>[1]),
  decide: (command, state) => decideStart(command, state),
};

export function createApiApplication(deps: ApplicationDeps): ApiApplication {
  const { store, readModels, runner, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const releaseStartWaitMs = deps.releaseStartWaitMs ?? 5_000;
  const actionWaitMs = deps.actionWaitMs ?? 10_000;

  const actorOf = (caller: Caller): Actor => ({ name: caller.auth.name, role: caller.auth.role });
  const metadata = (caller: Caller, projectId: string | null, at: string): CommandMetadata => ({
    actor: caller.auth.name,
    occurredAt: at,
    correlationId: caller.request.correlationId,
    causationId: null,
    projectId,
  });
  const canSee = (caller: Caller, projectId: string | null): boolean =>
    caller.auth.projectId === null || caller.auth.projectId === projectId;

  /** Read-your-writes: the read models have applied `position` (or, for a no-op, everything stored so far). */
  async function caughtUp(position: string | null): Promise<void> {
    const target = position ?? (await store.headPosition());
    if (target !== null) await runner.waitFor(target);
  }

  /** Resolves with `check()`'s value once it is not null, re-checking after each projected event; null at the deadline. */
  function waitUntil<T>(check: () => T | null, timeoutMs: number): Promise<T | null> {
    const first = check();
    if (first !== null) return Promise.resolve(first);
    return new Promise((resolve) => {
      const finish = (value: T | null): void => {
        clearTimeout(timer);
        off();
        resolve(value);
      };
      const off = runner.onEvent(() => {
        const value = check();
        if (value !== null) finish(value);
      });
      const timer = setTimeout(() => finish(check()), timeoutMs);
    });
  }

  async function loadProject(caller: Caller, id: string): Promise<Project> {
    const { state } = await loadStream(store, projectDecider, streams.project(id));
    if (state === null || !canSee(caller, state.id)) throw new DomainError("NOT_FOUND", `project ${id} not found`);
    return state;
  }

  async function loadPipeline(caller: Caller, id: string): Promise<Pipeline> {
    const { state } = await loadStream(store, pipelineDecider, streams.pipeline(id));
    if (state === null || !canSee(caller, state.projectId)) {
      throw new DomainError("NOT_FOUND", `pipeline ${id} not found`);
    }
    return state;
  }

  async function loadFeature(caller: Caller, id: string): Promise<Feature> {
    const { state } = await loadStream(store, featureDecider, streams.feature(id));
    if (state === null || state.deletedAt !== null || !canSee(caller, state.projectId)) {
      throw new DomainError("NOT_FOUND", `feature ${id} not found`);
    }
    return state;
  }

  /**
   * Whether the feature's read model shows the release's effects up to `release`'s state: whole environments
   * rolled out store the new definition, and an ended release no longer holds the lock. The workflow applies
   * them right after the release events, in its next activity.
   */
  function featureShows(release: Release): boolean {
    const feature = readModels.feature(release.featureId);
    if (feature === null) return false;
    if (release.status !== "IN_PROGRESS") return feature.activeReleaseId !== release.id;
    const latest = new Map<string, Definition>();
    for (const phase of release.rolledOut) {
      const whole = new Set(phase.targets.filter((t) => t.segment === null).map((t) => t.environment));
      for (const entry of phase.definitions)
        if (whole.has(entry.environment)) latest.set(entry.environment, entry.definition);
    }
    return [...latest].every(([environment, definition]) =>
      jsonEqual(feature.environments.find((e) => e.environment === environment)?.definition, definition),
    );
  }

  function fromReadModel<T>(value: T | null, kind: string, id: string): T {
    if (value === null) throw new DomainError("INTERNAL", `${kind} ${id} is missing from the read models`);
    return value;
  }

  async function runPipeline(
    caller: Caller,
    id: string,
    projectId: string,
    command: Parameters<typeof pipelineDecider.decide>[0],
  ): Promise<Pipeline> {
    const result = await handleCommand(store, pipelineDecider, {
      stream: streams.pipeline(id),
      command,
      metadata: metadata(caller, projectId, command.now),
    });
    await caughtUp(result.position);
    return fromReadModel(readModels.pipeline(id), "pipeline", id);
  }

  async function runProject(caller: Caller, project: Project, command: ProjectCommand): Promise<Project> {
    const result = await handleCommand(store, projectDecider, {
      stream: streams.project(project.id),
      command,
      metadata: metadata(caller, project.id, command.now),
    });
    await caughtUp(result.position);
    return fromReadModel(readModels.project(project.id), "project", project.id);
  }

  async function runFeature(caller: Caller, id: string, projectId: string, command: FeatureCommand) {
    const result = await handleCommand(store, featureDecider, {
      stream: streams.feature(id),
      command,
      metadata: metadata(caller, projectId, command.now),
    });
    return result;
  }

  // ---- releases ---------------------------------------------------------------------------------

  /**
   * Starts a release of `feature` over its attached pipeline: (1) the feature's lock (FeatureReleaseStarted,
   * RELEASE_IN_PROGRESS when one is active), (2) ReleaseStarted on a new release stream, (3) the release's
   * workflow, (4) a bounded wait until the read model shows the workflow's first step.
   */
  async function beginRelease(
    caller: Caller,
    feature: Feature,
    options: {
      trigger: "UPDATE" | "START";
      /** The change as inputs (UPDATE), applied over the definitions current when the lock is taken. */
      inputs: EnvironmentDefinitionInput[] | null;
      description?: string | null;
      reason: string | null;
    },
  ): Promise<Release> {
    if (feature.pipelineId === null) {
      throw new DomainError("INVALID_STATE", `feature ${feature.key} has no pipeline attached: attach one to release`);
    }
    const project = await loadProject(caller, feature.projectId);
    const pipeline = await loadPipeline(caller, feature.pipelineId);
    // The feature's next release: racing starts compute the same id (see releaseIdFor).
    const releaseId = releaseIdFor(feature.id, feature.releaseIds.length + 1);
    const at = now().toISOString();
    const changeOver = (base: readonly EnvironmentDefinition[]): EnvironmentDefinition[] =>
      options.inputs === null ? [...base] : normalizeDefinitions(project, feature.kind, options.inputs, base);
    const startCommand = (before: EnvironmentDefinition[]): StartRelease => ({
      type: "StartRelease",
      data: {
        releaseId,
        featureId: feature.id,
        featureKey: feature.key,
        projectId: project.id,
        pipelineId: pipeline.id,
        pipelineVersion: pipeline.version,
        pipelineName: pipeline.name,
        phases: pipeline.phases,
        selfApproval: pipeline.selfApproval,
        environments: project.environments,
        before,
        change: changeOver(before),
        trigger: options.trigger,
        reason: options.reason,
      },
      actor: actorOf(caller),
      now: at,
    });
    // Everything that can refuse is checked before the first write: the change, the start, the lock.
    // The feature's definitions in the project's environments now (one it gained later: disabled).
    const current = (stored: readonly EnvironmentDefinition[]) => definitionsIn(project.environments, stored);
    const lockCommand: FeatureCommand = {
      type: "BeginRelease",
      data: { releaseId, pipeline, description: options.description, environments: project.environments },
      actor: actorOf(caller),
      now: at,
    };
    decideStart(startCommand(current(feature.environments)), null);
    featureDecider.decide(lockCommand, feature);

    const lock = await runFeature(caller, feature.id, feature.projectId, lockCommand);
    const locked = lock.state;
    if (locked === null) throw new DomainError("INTERNAL", `feature ${feature.id} vanished while starting a release`);

    let started: Awaited<ReturnType<typeof handleCommand<ReleaseState, StartRelease, DomainEvent>>>;
    try {
      started = await handleCommand(store, startDecider, {
        stream: streams.release(releaseId),
        command: startCommand(current(locked.environments)),
        metadata: metadata(caller, project.id, at),
      });
    } catch (error) {
      if (isDomainError(error) && error.code === "CONFLICT") {
        // The release stream exists: a racing start of this feature stored this very release first. The
        // lock is that release's (same id), so it stays; this start is the one refused.
        throw new DomainError(
          "RELEASE_IN_PROGRESS",
          `feature ${feature.key} has release ${releaseId} in progress (started concurrently): cannot start another until it completes or is aborted`,
        );
      }
      // Give the lock back, so the feature is not stuck behind a release that never existed.
      await releaseLock(caller, feature, releaseId).catch((unlockError: unknown) =>
        logger.error({ err: unlockError, releaseId }, "could not give back the feature's release lock"),
      );
      throw error;
    }

    await startWorkflow(releaseId);
    if (started.position !== null) await runner.waitFor(started.position);
    const shown = await waitUntil(() => {
      const release = readModels.release(releaseId);
      return release !== null && (release.version > 1 || release.status !== "IN_PROGRESS") && featureShows(release)
        ? release
        : null;
    }, releaseStartWaitMs);
    return shown ?? fromReadModel(readModels.release(releaseId), "release", releaseId);
  }

  async function releaseLock(caller: Caller, feature: Feature, releaseId: string): Promise<void> {
    await runFeature(caller, feature.id, feature.projectId, {
      type: "EndRelease",
      data: { releaseId, status: "ABORTED" },
      actor: actorOf(caller),
      now: now().toISOString(),
    });
  }

  async function startWorkflow(releaseId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await startReleaseWorkflow(deps.temporal.client, releaseId, { taskQueue: deps.temporal.taskQueue });
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

  return {
    async createProject(caller, input) {
      if (caller.auth.projectId !== null) {
        throw new DomainError(
          "FORBIDDEN",
          `token "${caller.auth.name}" is bound to a project: it cannot create projects`,
        );
      }
      const id = newId();
      const at = now().toISOString();
      const result = await handleCommand(store, projectDecider, {
        stream: streams.project(id),
        command: {
          type: "CreateProject",
          data: { projectId: id, name: input.name, environments: input.environments, segments: input.segments },
          actor: actorOf(caller),
          now: at,
        },
        metadata: metadata(caller, id, at),
      });
      await caughtUp(result.position);
      return fromReadModel(readModels.project(id), "project", id);
    },

    async createApiToken(caller, input) {
      const scope = caller.auth.projectId;
      const projectId = input.projectId ?? scope;
      if (scope !== null && projectId !== scope) throw new DomainError("NOT_FOUND", `project ${projectId} not found`);
      const projectExists =
        projectId === null
          ? false
          : (await loadStream(store, projectDecider, streams.project(projectId))).state !== null;
      const secret = newTokenSecret();
      // The id derives from the name: a taken name meets the existing stream (CONFLICT, nothing written).
      const tokenId = tokenIdFor(input.name);
      const at = now().toISOString();
      const result = await handleCommand(store, tokenDecider, {
        stream: streams.token(tokenId),
        command: {
          type: "CreateApiToken",
          data: {
            tokenId,
            name: input.name,
            role: input.role,
            projectId,
            secretHash: hashSecret(secret),
            projectExists,
          },
          actor: actorOf(caller),
          now: at,
        },
        metadata: metadata(caller, projectId, at),
      }).catch((error: unknown) => {
        if (isDomainError(error) && error.code === "CONFLICT") {
          throw new DomainError(
            "CONFLICT",
            `an API token named "${input.name.trim()}" already exists: token names are unique (a name is who acted and who approved)`,
          );
        }
        throw error;
      });
      await caughtUp(result.position);
      const token = fromReadModel(readModels.token(tokenId), "token", tokenId);
      return { name: token.name, role: token.role, projectId: token.projectId, secret };
    },

    async createPipeline(caller, input) {
      const project = await loadProject(caller, input.projectId);
      const id = newId();
      return runPipeline(caller, id, project.id, {
        type: "CreatePipeline",
        data: {
          pipelineId: id,
          project,
          name: input.name,
          description: input.description,
          selfApproval: input.selfApproval,
          phases: input.phases,
        },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },

    async updatePipeline(caller, id, input) {
      const pipeline = await loadPipeline(caller, id);
      const project = await loadProject(caller, pipeline.projectId);
      return runPipeline(caller, id, project.id, {
        type: "UpdatePipeline",
        data: { project, ...input },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },

    async publishPipeline(caller, id) {
      const pipeline = await loadPipeline(caller, id);
      return runPipeline(caller, id, pipeline.projectId, {
        type: "PublishPipeline",
        data: {},
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },

    async clonePipeline(caller, id, name) {
      const source = await loadPipeline(caller, id);
      const cloneId = newId();
      return runPipeline(caller, cloneId, source.projectId, {
        type: "ClonePipeline",
        data: { pipelineId: cloneId, source, name },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },

    async deletePipeline(caller, id) {
      const pipeline = await loadPipeline(caller, id);
      // The attachments as the read models know them, after everything stored so far is applied.
      await caughtUp(null);
      const attachedFeatureIds = readModels.featuresWithPipeline(id, true).map((feature) => feature.id);
      return runPipeline(caller, id, pipeline.projectId, {
        type: "DeletePipeline",
        data: { attachedFeatureIds },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },

    async createFeature(caller, input) {
      const project = await loadProject(caller, input.projectId);
      const pipeline =
        input.pipelineId === undefined || input.pipelineId === null
          ? null
          : await loadPipeline(caller, input.pipelineId);
      const id = featureIdFor(project.id, input.key);
      const result = await runFeature(caller, id, project.id, {
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
        actor: actorOf(caller),
        now: now().toISOString(),
      });
      await caughtUp(result.position);
      return fromReadModel(readModels.feature(id), "feature", id);
    },

    async attachPipeline(caller, featureId, pipelineId) {
      const feature = await loadFeature(caller, featureId);
      const pipeline = await loadPipeline(caller, pipelineId);
      const result = await runFeature(caller, feature.id, feature.projectId, {
        type: "AttachPipeline",
        data: { pipeline },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
      await caughtUp(result.position);
      return fromReadModel(readModels.feature(feature.id), "feature", feature.id);
    },

    async detachPipeline(caller, featureId) {
      const feature = await loadFeature(caller, featureId);
      const result = await runFeature(caller, feature.id, feature.projectId, {
        type: "DetachPipeline",
        data: {},
        actor: actorOf(caller),
        now: now().toISOString(),
      });
      await caughtUp(result.position);
      return fromReadModel(readModels.feature(feature.id), "feature", feature.id);
    },

    async updateFeature(caller, id, input) {
      const feature = await loadFeature(caller, id);
      if (feature.pipelineId === null) {
        const project = await loadProject(caller, feature.projectId);
        const result = await runFeature(caller, feature.id, feature.projectId, {
          type: "UpdateFeature",
          data: { project, description: input.description, environments: input.environments },
          actor: actorOf(caller),
          now: now().toISOString(),
        });
        await caughtUp(result.position);
        return fromReadModel(readModels.feature(feature.id), "feature", feature.id);
      }
      if (feature.activeReleaseId !== null) {
        throw new DomainError(
          "RELEASE_IN_PROGRESS",
          `feature ${feature.key} has release ${feature.activeReleaseId} in progress: cannot update it until it completes or is aborted`,
        );
      }
      if (feature.archivedAt !== null) {
        throw new DomainError("IMMUTABLE", `feature ${feature.key} is archived: cannot update it (unarchive it first)`);
      }
      const project = await loadProject(caller, feature.projectId);
      const current = definitionsIn(project.environments, feature.environments);
      const change = normalizeDefinitions(project, feature.kind, input.environments, current);
      const descriptionChanges = input.description !== undefined && (input.description ?? null) !== feature.description;
      if (changedDefinitions(current, change).length === 0 && !descriptionChanges) {
        // Nothing to release: the feature as it is.
        await caughtUp(null);
        return fromReadModel(readModels.feature(feature.id), "feature", feature.id);
      }
      return beginRelease(caller, feature, {
        trigger: "UPDATE",
        inputs: input.environments,
        description: input.description,
        reason: null,
      });
    },

    async startRelease(caller, featureId, reason) {
      const feature = await loadFeature(caller, featureId);
      return beginRelease(caller, feature, { trigger: "START", inputs: null, reason });
    },

    async releaseAction(caller, id, action, args) {
      let release = readModels.release(id);
      if (release === null) {
        // Perhaps stored by another process and not projected here yet.
        await caughtUp(null);
        release = readModels.release(id);
      }
      if (release === null || !canSee(caller, release.projectId)) {
        throw new DomainError("NOT_FOUND", `release ${id} not found`);
      }
      const input = {
        actor: actorOf(caller),
        phaseIndex: args.phaseIndex ?? null,
        comment: args.comment ?? null,
        reason: args.reason ?? null,
        correlationId: caller.request.correlationId,
      };
      if (release.status !== "IN_PROGRESS") {
        // The workflow has ended with the release: the decider gives the answer it would have given.
        const command: ReleaseCommand = toCommand(action, input, now().toISOString());
        decideRelease(command, release);
        throw new DomainError("INVALID_STATE", `cannot ${ACTION_VERBS[action]}: the release is ${release.status}`);
      }
      let updated: Release;
      try {
        updated = await runReleaseAction(deps.temporal.client, id, action, input, {
          updateId: updateIdFor(caller, id, action, args),
        });
      } catch (error) {
        if (isDomainError(error)) throw error;
        logger.error({ err: error, releaseId: id, action }, "release action failed");
        throw error;
      }
      const shown = await waitUntil(() => {
        const current = readModels.release(id);
        return current !== null && current.version >= updated.version && featureShows(current) ? current : null;
      }, actionWaitMs);
      return shown ?? updated;
    },

    // ---- edit and retire ----------------------------------------------------------------------

    async updateProject(caller, id, input, reason) {
      const project = await loadProject(caller, id);
      if (input.name === undefined || input.name === null) {
        await caughtUp(null);
        return fromReadModel(readModels.project(project.id), "project", project.id);
      }
      return runProject(caller, project, {
        type: "RenameProject",
        data: { name: input.name, reason },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },

    async addEnvironment(caller, projectId, name, position, reason) {
      const project = await loadProject(caller, projectId);
      return runProject(caller, project, {
        type: "AddEnvironment",
        data: { name, position, reason },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },

    async removeEnvironment(caller, projectId, name, reason) {
      const project = await loadProject(caller, projectId);
      // What uses it, as the read models know it once everything stored so far is applied.
      await caughtUp(null);
      return runProject(caller, project, {
        type: "RemoveEnvironment",
        data: { name, usedBy: environmentUsers(readModels, project.id, name), reason },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },

    async upsertSegment(caller, projectId, input, reason) {
      const project = await loadProject(caller, projectId);
      return runProject(caller, project, {
        type: "UpsertSegment",
        data: { segment: input, reason },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },

    async deleteSegment(caller, projectId, key, reason) {
      const project = await loadProject(caller, projectId);
      await caughtUp(null);
      return runProject(caller, project, {
        type: "DeleteSegment",
        data: { key, usedBy: segmentUsers(readModels, project.id, key), reason },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },

    async archiveFeature(caller, id, reason) {
      const feature = await loadFeature(caller, id);
      const result = await runFeature(caller, feature.id, feature.projectId, {
        type: "ArchiveFeature",
        data: { reason },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
      await caughtUp(result.position);
      return fromReadModel(readModels.feature(feature.id), "feature", feature.id);
    },

    async unarchiveFeature(caller, id, reason) {
      const feature = await loadFeature(caller, id);
      const result = await runFeature(caller, feature.id, feature.projectId, {
        type: "UnarchiveFeature",
        data: { reason },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
      await caughtUp(result.position);
      return fromReadModel(readModels.feature(feature.id), "feature", feature.id);
    },

    async deleteFeature(caller, id, reason) {
      const feature = await loadFeature(caller, id);
      const result = await runFeature(caller, feature.id, feature.projectId, {
        type: "DeleteFeature",
        data: { reason },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
      await caughtUp(result.position);
      // Gone from the read models: the answer is the feature as the deletion left it.
      return fromReadModel(result.state, "feature", feature.id);
    },

    async renamePipeline(caller, id, name, description, reason) {
      const pipeline = await loadPipeline(caller, id);
      return runPipeline(caller, id, pipeline.projectId, {
        type: "RenamePipeline",
        data: { name, description, reason },
        actor: actorOf(caller),
        now: now().toISOString(),
      });
    },
  };
}

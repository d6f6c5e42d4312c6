// Starting a release — the one place it is written, used by the API, the simulation, the workflow tests'
// seed helper and the benchmarks: (1) the feature's lock (FeatureReleaseStarted; the feature decider
// refuses a second active release), (2) ReleaseStarted on the new `release-<featureId>.<n>` stream,
// (3) if (2) fails and the stream shows it was not stored, the lock given back (stored after all — a lost
// reply — the release stands; unknown, the lock stays and reconcile frees it if the release never appears). Starting the release's workflow is the caller's next step
// (the worker's reconcile loop heals a release whose workflow never started).

import type { DomainEvent } from "../core/decider.ts";
import { DomainError, isDomainError } from "../core/errors.ts";
import { releaseIdFor } from "../core/ids.ts";
import type { Actor, EnvironmentDefinition } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import type { CommandExecutor, CommandMetadata } from "../event-store/command-handler.ts";
import { definitionsIn, type EnvironmentDefinitionInput, normalizeDefinitions } from "../feature/definition.ts";
import { type BeginRelease, type Feature, featureDecider, releasePipelineId } from "../feature/feature.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { Project } from "../project/project.ts";
import type { ReleaseEvent } from "./events.ts";
import { decideStart, type Release, type ReleaseState, releaseDecider, type StartRelease } from "./release.ts";

export interface ReleaseStartRequest {
  /** The feature as loaded; the lock is taken on its stream as it is when the command runs. */
  feature: Feature;
  project: Project;
  /** The attached pipeline, as loaded (the feature decider refuses one that is no longer attached). */
  pipeline: Pipeline;
  trigger: "UPDATE" | "START";
  /** UPDATE: the change as inputs, applied over the definitions current when the lock is taken; START: null. */
  inputs: EnvironmentDefinitionInput[] | null;
  /** Changes with the release's start, when given. */
  description?: string | null;
  reason: string | null;
  actor: Actor;
  /** When the release starts (ISO instant). */
  now: string;
  /** Every appended event's metadata (its occurredAt is `now`). */
  metadata: Omit<CommandMetadata, "occurredAt">;
}

export interface StartedRelease {
  release: Release;
  /** The feature with its lock taken. */
  feature: Feature;
  /** Position of ReleaseStarted (null when the executor does not know it). */
  position: string | null;
  /** Every event appended, feature's first. */
  events: DomainEvent[];
}

/** The release decider restricted to its start: the starter stores ReleaseStarted; the workflow takes every later step. */
const startDecider = {
  initialState: releaseDecider.initialState,
  evolve: releaseDecider.evolve,
  decide: (command: StartRelease, state: ReleaseState) => decideStart(command, state),
};

/** Reads the release stream without writing (decides nothing). */
const probeDecider = {
  initialState: releaseDecider.initialState,
  evolve: releaseDecider.evolve,
  decide: (_command: null, _state: ReleaseState): ReleaseEvent[] => [],
};

/** The feature's next release id: `<featureId>.<n>`, so racing starts compute the same id (see releaseIdFor). */
export const nextReleaseId = (feature: Feature): string => releaseIdFor(feature.id, feature.releaseIds.length + 1);

export async function startRelease(
  executor: CommandExecutor,
  request: ReleaseStartRequest,
  options: { onLockNotReturned?: (error: unknown, releaseId: string) => void } = {},
): Promise<StartedRelease> {
  const { feature, project, pipeline, actor, now } = request;
  releasePipelineId(feature);
  const releaseId = nextReleaseId(feature);
  const metadata: CommandMetadata = { ...request.metadata, occurredAt: now };
  const startCommand = (before: readonly EnvironmentDefinition[]): StartRelease => ({
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
      before: [...before],
      change:
        request.inputs === null ? [...before] : normalizeDefinitions(project, feature.kind, request.inputs, before),
      trigger: request.trigger,
      reason: request.reason,
      // The pipeline's promotion windows, as of the start (like its phases).
      ...(pipeline.windows !== undefined && pipeline.windows.length > 0 && { windows: pipeline.windows }),
    },
    actor,
    now,
  });
  const lock: BeginRelease = {
    type: "BeginRelease",
    data: {
      releaseId,
      pipeline,
      ...(request.description !== undefined && { description: request.description }),
      // The feature gains (disabled) the environments the project added since it last stored them.
      environments: project.environments,
    },
    actor,
    now,
  };
  // Everything that can refuse is checked before the first write: the change, the start, the lock.
  // The definitions in the project's environments now (one it gained since: disabled, decision 0024).
  const current = (stored: readonly EnvironmentDefinition[]) => definitionsIn(project.environments, stored);
  featureDecider.decide(lock, feature);
  decideStart(startCommand(current(feature.environments)), null);

  const locked = await executor.execute(featureDecider, streams.feature(feature.id), lock, metadata);
  if (locked.state === null) {
    throw new DomainError("INTERNAL", `feature ${feature.id} vanished while starting a release`);
  }
  let started: Awaited<ReturnType<typeof executor.execute<ReleaseState, StartRelease, DomainEvent>>>;
  try {
    started = await executor.execute(
      startDecider,
      streams.release(releaseId),
      startCommand(current(locked.state.environments)),
      metadata,
    );
  } catch (error) {
    if (isDomainError(error) && error.code === "CONFLICT") {
      // The release stream exists: a racing start of this feature stored this very release first. The
      // lock is that release's (same id), so it stays; this start is the one refused.
      throw new DomainError(
        "RELEASE_IN_PROGRESS",
        `feature ${feature.key} has release ${releaseId} in progress (started concurrently): cannot start another until it completes or is aborted`,
      );
    }
    // Was it stored after all (the write went through, its reply was lost)? Then the release exists and
    // its lock must stay: giving it back would leave the release's rollouts refused for good.
    let stored: ReleaseState | undefined;
    try {
      stored = (await executor.execute(probeDecider, streams.release(releaseId), null, metadata)).state;
    } catch {
      // Unknown: keep the lock. If the release was not stored, the worker's reconcile loop gives the lock
      // of a release that does not exist back within a minute.
      throw error;
    }
    if (stored !== null) {
      return { release: stored, feature: locked.state, position: null, events: [...locked.events] };
    }
    // Not stored: give the lock back, so the feature is not stuck behind a release that never existed.
    await executor
      .execute(
        featureDecider,
        streams.feature(feature.id),
        { type: "EndRelease", data: { releaseId, status: "ABORTED" }, actor, now },
        metadata,
      )
      .catch((unlockError: unknown) => options.onLockNotReturned?.(unlockError, releaseId));
    throw error;
  }
  if (started.state === null) throw new DomainError("INTERNAL", `release ${releaseId} was not started`);
  return {
    release: started.state,
    feature: locked.state,
    position: started.position,
    events: [...locked.events, ...started.events],
  };
}

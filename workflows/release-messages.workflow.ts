// The messages a release workflow answers: one Update and one Signal per action, and a query.
// Shared by the workflow (bundled, deterministic) and the client helpers, so it imports nothing but
// @temporalio/workflow's definition functions and the pure release domain.

import { defineQuery, defineSignal, defineUpdate } from "@temporalio/workflow";
import type { ReleaseActionInput, ReleaseActionName } from "../services/release/actions.ts";
import type { Release, ReleaseState } from "../services/release/release.ts";

export {
  ACTION_KINDS,
  parseActionInput,
  RELEASE_ACTIONS,
  type ReleaseActionInput,
  type ReleaseActionName,
  toCommand,
} from "../services/release/actions.ts";

// Names equal the constants' names, so `temporal workflow update --name approveRelease` and the code agree.
export const approveRelease = defineUpdate<Release, [ReleaseActionInput]>("approveRelease");
export const pauseRelease = defineUpdate<Release, [ReleaseActionInput]>("pauseRelease");
export const unpauseRelease = defineUpdate<Release, [ReleaseActionInput]>("unpauseRelease");
export const skipPhase = defineUpdate<Release, [ReleaseActionInput]>("skipPhase");
export const abortRelease = defineUpdate<Release, [ReleaseActionInput]>("abortRelease");
export const fullRollout = defineUpdate<Release, [ReleaseActionInput]>("fullRollout");
export const rollbackToPhase = defineUpdate<Release, [ReleaseActionInput]>("rollbackToPhase");
export const breakGlass = defineUpdate<Release, [ReleaseActionInput]>("breakGlass");

export const approveReleaseSignal = defineSignal<[ReleaseActionInput]>("approveReleaseSignal");
export const pauseReleaseSignal = defineSignal<[ReleaseActionInput]>("pauseReleaseSignal");
export const unpauseReleaseSignal = defineSignal<[ReleaseActionInput]>("unpauseReleaseSignal");
export const skipPhaseSignal = defineSignal<[ReleaseActionInput]>("skipPhaseSignal");
export const abortReleaseSignal = defineSignal<[ReleaseActionInput]>("abortReleaseSignal");
export const fullRolloutSignal = defineSignal<[ReleaseActionInput]>("fullRolloutSignal");
export const rollbackToPhaseSignal = defineSignal<[ReleaseActionInput]>("rollbackToPhaseSignal");
export const breakGlassSignal = defineSignal<[ReleaseActionInput]>("breakGlassSignal");
/** The project's freeze changed (sent by the worker's governance follower): read it again and tick. */
export const freezeChangedSignal = defineSignal("freezeChangedSignal");

/** The release as the workflow holds it (null until it has loaded the stream). */
export const releaseState = defineQuery<ReleaseState>("releaseState");

export const releaseUpdates = {
  approve: approveRelease,
  pause: pauseRelease,
  unpause: unpauseRelease,
  skip: skipPhase,
  abort: abortRelease,
  fullRollout,
  rollbackToPhase,
  breakGlass,
} as const satisfies Record<ReleaseActionName, unknown>;

export const releaseSignals = {
  approve: approveReleaseSignal,
  pause: pauseReleaseSignal,
  unpause: unpauseReleaseSignal,
  skip: skipPhaseSignal,
  abort: abortReleaseSignal,
  fullRollout: fullRolloutSignal,
  rollbackToPhase: rollbackToPhaseSignal,
  breakGlass: breakGlassSignal,
} as const satisfies Record<ReleaseActionName, unknown>;

export const releaseWorkflowId = (releaseId: string): string => `release-${releaseId}`;

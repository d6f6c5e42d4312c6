// What the API (and scripts, tests, the bench) call to drive release workflows. Errors come back as
// DomainErrors with the contract's code, so a GraphQL resolver maps them like any other.

import {
  type Client,
  type WorkflowHandle,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from "@temporalio/client";
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from "@temporalio/common";
import { DomainError, ERROR_CODES, type ErrorCode } from "../services/core/errors.ts";
import { decide, type Release } from "../services/release/release.ts";
import type { ReleaseWorkflowOptions, releaseWorkflow } from "./release.workflow.ts";
import {
  type ReleaseActionInput,
  type ReleaseActionName,
  releaseSignals,
  releaseUpdates,
  releaseWorkflowId,
  toCommand,
} from "./release-messages.workflow.ts";

export {
  RELEASE_ACTIONS,
  type ReleaseActionInput,
  type ReleaseActionName,
  releaseWorkflowId,
} from "./release-messages.workflow.ts";

export const RELEASE_TASK_QUEUE = "releases";
export const RELEASE_WORKFLOW_TYPE = "releaseWorkflow";

/**
 * Every call to Temporal has a deadline: a frozen or partitioned server (the connection stays open and
 * nothing answers) must give the caller an answer, not hold it. A start is short (the release is stored
 * already: reconcile starts it later); an action waits for the workflow to store its events.
 */
export const TEMPORAL_DEADLINES_MS = { start: 5_000, action: 15_000, query: 5_000, signal: 5_000 } as const;

function withDeadline<T>(client: Client, deadlineMs: number, call: () => Promise<T>): Promise<T> {
  return client.withDeadline(Date.now() + deadlineMs, call);
}

export interface StartReleaseOptions {
  taskQueue?: string;
  /** Default TEMPORAL_DEADLINES_MS.start. */
  deadlineMs?: number;
  /** For tests: e.g. force continue-as-new after a few events. */
  workflowOptions?: ReleaseWorkflowOptions;
}

export type ReleaseWorkflowHandle = WorkflowHandle<typeof releaseWorkflow>;

/**
 * Starts the release's workflow, after the API stored `FeatureReleaseStarted` (the feature's lock) and
 * `ReleaseStarted`. Idempotent: a retried or reconciling start while the workflow runs returns the
 * running one (conflict policy USE_EXISTING). Reuse policy ALLOW_DUPLICATE_FAILED_ONLY: a release whose
 * workflow completed never runs again; one whose workflow failed or was terminated can be restarted
 * by reconcile, which is safe because the workflow rebuilds its state from the release stream.
 */
export async function startReleaseWorkflow(
  client: Client,
  releaseId: string,
  options: StartReleaseOptions = {},
): Promise<ReleaseWorkflowHandle> {
  const workflowId = releaseWorkflowId(releaseId);
  try {
    return await withDeadline(client, options.deadlineMs ?? TEMPORAL_DEADLINES_MS.start, () =>
      client.workflow.start<typeof releaseWorkflow>(RELEASE_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: options.taskQueue ?? RELEASE_TASK_QUEUE,
        args: [{ releaseId, ...(options.workflowOptions && { options: options.workflowOptions }) }],
        workflowIdConflictPolicy: "USE_EXISTING",
        workflowIdReusePolicy: "ALLOW_DUPLICATE_FAILED_ONLY",
      }),
    );
  } catch (error) {
    // The release's workflow already completed: starting it again is a no-op.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(workflowId);
    throw error;
  }
}

const isErrorCode = (value: unknown): value is ErrorCode => ERROR_CODES.some((code) => code === value);

/** The DomainError an ApplicationFailure from the release workflow stands for (its `type` is the code). */
export function domainErrorFromFailure(failure: ApplicationFailure): DomainError {
  const code = isErrorCode(failure.type) ? failure.type : "INTERNAL";
  const detail = failure.details?.[0] as { field?: unknown } | undefined;
  return new DomainError(code, failure.message, typeof detail?.field === "string" ? detail.field : undefined);
}

/**
 * Applies an action through the workflow's Update and returns the release once the action's events
 * are stored. `updateId` must derive from the request (e.g. the request id): a retry with the same id
 * is applied once and answers the same. Throws DomainError with the contract's code when the action
 * does not apply (INVALID_STATE, FORBIDDEN, SELF_APPROVAL_FORBIDDEN, VALIDATION, NOT_FOUND).
 */
export async function runReleaseAction(
  client: Client,
  releaseId: string,
  action: ReleaseActionName,
  input: ReleaseActionInput,
  options: { updateId: string; deadlineMs?: number },
): Promise<Release> {
  const handle = client.workflow.getHandle<typeof releaseWorkflow>(releaseWorkflowId(releaseId));
  const deadlineMs = options.deadlineMs ?? TEMPORAL_DEADLINES_MS.action;
  try {
    return await withDeadline(client, deadlineMs, () =>
      handle.executeUpdate(releaseUpdates[action], { args: [input], updateId: options.updateId }),
    );
  } catch (error) {
    throw await withDeadline(client, TEMPORAL_DEADLINES_MS.query, () =>
      actionError(handle, action, input, options.updateId, error),
    ).catch((unanswered: unknown) => (isDeadline(unanswered) ? notAnswered(options.updateId) : unanswered));
  }
}

/** A gRPC deadline or cancellation: Temporal did not answer in time. */
function isDeadline(error: unknown): boolean {
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  // grpc status DEADLINE_EXCEEDED (4), CANCELLED (1), UNAVAILABLE (14).
  return code === 4 || code === 1 || code === 14;
}

const notAnswered = (updateId: string): DomainError =>
  new DomainError(
    "INTERNAL",
    `the release's workflow did not answer in time (Temporal unreachable or no worker running); retry with the same Idempotency-Key (update ${updateId})`,
  );

async function actionError(
  handle: ReleaseWorkflowHandle,
  action: ReleaseActionName,
  input: ReleaseActionInput,
  updateId: string,
  error: unknown,
): Promise<unknown> {
  if (error instanceof WorkflowUpdateFailedError) {
    return error.cause instanceof ApplicationFailure
      ? domainErrorFromFailure(error.cause)
      : new DomainError("INTERNAL", error.cause?.message ?? error.message);
  }
  if (isDeadline(error)) {
    // Nobody answered in time (Temporal frozen or down, or no worker running). Whether it applied is
    // unknown: a retry with the same update id is safe and returns the outcome once a worker runs.
    return notAnswered(updateId);
  }
  if (!(error instanceof WorkflowNotFoundError)) return error;
  // No running workflow: either there never was one, or the release has ended and its workflow with it.
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (describeError) {
    if (describeError instanceof WorkflowNotFoundError) {
      return new DomainError("NOT_FOUND", `release ${handle.workflowId.replace(/^release-/, "")} not found`);
    }
    throw describeError;
  }
  if (status !== "COMPLETED") {
    return new DomainError("INTERNAL", `the release's workflow ended with status ${status}`);
  }
  const final = await handle.result();
  // The same decider answers as the workflow would have: e.g. "cannot approve: the release is COMPLETED".
  try {
    decide(toCommand(action, input, new Date().toISOString()), final);
  } catch (decided) {
    return decided;
  }
  return new DomainError("INVALID_STATE", `the release is ${final.status} (update ${updateId})`);
}

/** Sends an action as a Signal (no answer: one that does not apply is stored as ReleaseSignalRejected). */
export async function signalReleaseAction(
  client: Client,
  releaseId: string,
  action: ReleaseActionName,
  input: ReleaseActionInput,
  options: { deadlineMs?: number } = {},
): Promise<void> {
  await withDeadline(client, options.deadlineMs ?? TEMPORAL_DEADLINES_MS.signal, () =>
    client.workflow.getHandle(releaseWorkflowId(releaseId)).signal(releaseSignals[action], input),
  );
}

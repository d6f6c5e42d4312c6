// The worker's governance follower: follows the projects' freezes and the releases in progress in the
// event log, and once live
//   - on a freeze or unfreeze, signals every release in progress of the project (`freezeChangedSignal`):
//     their workflows read the freeze again at once (without the signal, a FROZEN phase reads it every 5 minutes);
//   - on a freeze with an `until`, starts the freeze's end workflow (`freeze-end-<projectId>-<since>`,
//     idempotent like the webhook deliveries), which stores its end when `until` passes.
// At start it reads the log from the beginning and starts the end workflow of every freeze still on.

import type { Client } from "@temporalio/client";
import { WorkflowExecutionAlreadyStartedError } from "@temporalio/common";
import { streamId, streams } from "../services/core/streams.ts";
import type { EventStore, RecordedEvent } from "../services/event-store/port.ts";
import type { Logger } from "../services/platform/logger.ts";
import type { ProjectEvent } from "../services/project/events.ts";
import { evolveProject, type Project } from "../services/project/project.ts";
import type { FreezeEndInput, freezeEndWorkflow } from "./governance.workflow.ts";
import { freezeChangedSignal, releaseWorkflowId } from "./release-messages.workflow.ts";

export const freezeEndWorkflowId = (projectId: string, since: string): string => `freeze-end-${projectId}-${since}`;

export async function startFreezeEndWorkflow(client: Client, input: FreezeEndInput, taskQueue: string): Promise<void> {
  try {
    await client.workflow.start<typeof freezeEndWorkflow>("freezeEndWorkflow", {
      workflowId: freezeEndWorkflowId(input.projectId, input.since),
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: "USE_EXISTING",
      workflowIdReusePolicy: "REJECT_DUPLICATE",
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export interface GovernanceFollower {
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export function startGovernanceFollower(
  client: Client,
  store: EventStore,
  options: { taskQueue: string; logger?: Logger },
): GovernanceFollower {
  const log = options.logger?.child({ component: "governance-follower" });
  const projects = new Map<string, Project>();
  const releasesOf = new Map<string, Set<string>>();
  const projectOfRelease = new Map<string, string>();
  let live = false;
  const work = new Set<Promise<unknown>>();

  const track = (promise: Promise<unknown>): void => {
    work.add(promise);
    void promise.finally(() => work.delete(promise));
  };

  const scheduleEnd = (project: Project): void => {
    const freeze = project.freeze ?? null;
    if (freeze === null || freeze.until === null) return;
    const input = { projectId: project.id, since: freeze.since, until: freeze.until };
    track(
      startFreezeEndWorkflow(client, input, options.taskQueue).catch((error: unknown) =>
        log?.error(
          { err: error, projectId: project.id },
          "could not start the freeze's end workflow; it starts at the next worker start",
        ),
      ),
    );
  };

  const notify = (projectId: string): void => {
    for (const releaseId of releasesOf.get(projectId) ?? []) {
      track(
        client.workflow
          .getHandle(releaseWorkflowId(releaseId))
          .signal(freezeChangedSignal)
          .catch((error: unknown) =>
            log?.warn(
              { err: error, releaseId },
              "could not tell a release of its project's freeze; a FROZEN phase reads it within 5 minutes",
            ),
          ),
      );
    }
  };

  const onEvent = (event: RecordedEvent): void => {
    const releaseId = streamId(event.stream, "release");
    if (releaseId !== null) {
      if (event.type === "ReleaseStarted") {
        const projectId = String((event.data as { projectId: string }).projectId);
        projectOfRelease.set(releaseId, projectId);
        const set = releasesOf.get(projectId) ?? new Set<string>();
        releasesOf.set(projectId, set);
        set.add(releaseId);
      } else {
        const projectId = projectOfRelease.get(releaseId);
        projectOfRelease.delete(releaseId);
        if (projectId !== undefined) releasesOf.get(projectId)?.delete(releaseId);
      }
      return;
    }
    const projectId = streamId(event.stream, "project");
    if (projectId === null) return;
    const next = evolveProject(projects.get(projectId) ?? null, event as unknown as ProjectEvent);
    if (next === null) return;
    projects.set(projectId, next);
    if (!live || event.type === "ProjectCreated") return;
    notify(projectId);
    if (event.type === "ProjectFrozen") scheduleEnd(next);
  };

  let caughtUp: () => void = () => {};
  let failed: (error: Error) => void = () => {};
  const history = new Promise<void>((resolve, reject) => {
    caughtUp = resolve;
    failed = reject;
  });
  const subscription = store.subscribeToAll({
    filter: {
      streamPrefixes: [streams.project(""), streams.release("")],
      eventTypes: [
        "ProjectCreated",
        "ProjectFrozen",
        "ProjectUnfrozen",
        "ReleaseStarted",
        "ReleaseCompleted",
        "ReleaseAborted",
      ],
    },
    onEvent,
    onCaughtUp: () => {
      live = true;
      for (const project of projects.values()) scheduleEnd(project);
      caughtUp();
    },
    onError: (error) => {
      log?.error({ err: error }, "the governance follower's subscription stopped; it resumes at the next worker start");
      failed(error);
    },
  });

  return {
    ready: history.then(() => Promise.all([...work]).then(() => undefined)),
    async close() {
      await subscription.close();
      await Promise.all([...work]);
    },
  };
}

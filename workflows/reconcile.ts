// At worker start: (re)start the workflow of every release the store says is IN_PROGRESS. The API stores
// ReleaseStarted before it starts the workflow; if it dies in between, this heals the release. Starting
// is idempotent (USE_EXISTING), so running it on every worker start is safe.

import type { Client } from "@temporalio/client";
import type { EventStore } from "../services/event-store/port.ts";
import type { Logger } from "../services/platform/logger.ts";
import { startReleaseWorkflow } from "./client.ts";

const RELEASE_PREFIX = "release-";

/** The ids of releases whose stream has ReleaseStarted and neither ReleaseCompleted nor ReleaseAborted. */
export async function inProgressReleaseIds(store: EventStore): Promise<string[]> {
  const open = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const subscription = store.subscribeToAll({
      filter: {
        streamPrefixes: [RELEASE_PREFIX],
        eventTypes: ["ReleaseStarted", "ReleaseCompleted", "ReleaseAborted"],
      },
      onEvent: (event) => {
        const id = event.stream.slice(RELEASE_PREFIX.length);
        if (event.type === "ReleaseStarted") open.add(id);
        else open.delete(id);
      },
      onCaughtUp: () => {
        if (settled) return;
        settled = true;
        subscription.close().then(resolve, reject);
      },
      onError: (error) => {
        if (settled) return;
        settled = true;
        reject(error);
      },
    });
  });
  return [...open];
}

export interface ReconcileOptions {
  taskQueue?: string;
  logger?: Logger;
  /** Where the in-progress release ids come from (default: a scan of the store's release events). */
  releaseIds?: () => Promise<string[]>;
}

export async function reconcileReleases(
  client: Client,
  store: EventStore,
  options: ReconcileOptions = {},
): Promise<{ releaseIds: string[] }> {
  const releaseIds = await (options.releaseIds ?? (() => inProgressReleaseIds(store)))();
  for (const releaseId of releaseIds) {
    await startReleaseWorkflow(client, releaseId, { taskQueue: options.taskQueue });
  }
  options.logger?.info({ releases: releaseIds.length }, "in-progress releases reconciled with their workflows");
  return { releaseIds };
}

// (Re)start the workflow of every release the store says is IN_PROGRESS. The API stores ReleaseStarted
// before it starts the workflow; if it dies in between (or Temporal is unreachable then), this heals the
// release. Starting is idempotent (USE_EXISTING), so running it again is safe. The worker runs it at start
// and then every minute (startReconcileLoop); reconcileReleases is the one-shot form.

import type { Client } from "@temporalio/client";
import { streamId, streams } from "../services/core/streams.ts";
import type { EventStore } from "../services/event-store/port.ts";
import type { Logger } from "../services/platform/logger.ts";
import { startReleaseWorkflow } from "./client.ts";

const RELEASE_PREFIX = streams.release("");

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
        const id = streamId(event.stream, "release");
        if (id === null) return;
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

export interface ReconcileLoopOptions {
  taskQueue?: string;
  logger?: Logger;
  /** How often releases whose workflow is not known to run are started again (default 60 s). */
  intervalMs?: number;
}

export interface ReconcileLoop {
  /**
   * Resolves after the first sweep: every release in progress at start has its workflow (or the failure to
   * start it is logged, and the next sweep tries again).
   */
  readonly ready: Promise<void>;
  /** Starts the workflow of every release not yet known to have one; what the timer runs. */
  sweep(): Promise<{ started: string[]; failed: string[] }>;
  /** Release ids in progress whose workflow this loop has not started yet. */
  pending(): string[];
  close(): Promise<void>;
}

/**
 * Reconcile at start, then every `intervalMs`, without a restart: a release whose workflow start failed
 * (the API died, or Temporal was down, after ReleaseStarted was stored) heals within one interval.
 *
 * Cheap: one catch-up subscription to the release streams' start and end events (no read models) keeps
 * the set of in-progress releases whose workflow this process has not started yet; a sweep starts only
 * those (USE_EXISTING: a running workflow is left as it is) and forgets each once started, so a quiet
 * installation makes no Temporal call at all, and each new release costs one start call.
 */
export function startReconcileLoop(
  client: Client,
  store: EventStore,
  options: ReconcileLoopOptions = {},
): ReconcileLoop {
  const intervalMs = options.intervalMs ?? 60_000;
  const log = options.logger;
  const pending = new Set<string>();
  let caughtUp: () => void = () => {};
  let failedEarly: (error: Error) => void = () => {};
  const live = new Promise<void>((resolve, reject) => {
    caughtUp = resolve;
    failedEarly = reject;
  });
  const subscription = store.subscribeToAll({
    filter: { streamPrefixes: [RELEASE_PREFIX], eventTypes: ["ReleaseStarted", "ReleaseCompleted", "ReleaseAborted"] },
    onEvent: (event) => {
      const id = streamId(event.stream, "release");
      if (id === null) return;
      if (event.type === "ReleaseStarted") pending.add(id);
      else pending.delete(id);
    },
    onCaughtUp: () => caughtUp(),
    onError: (error) => {
      log?.error(
        { err: error },
        "the reconcile loop's subscription stopped; in-progress releases heal at the next worker start",
      );
      failedEarly(error);
    },
  });

  let running: Promise<{ started: string[]; failed: string[] }> | null = null;
  async function sweepOnce(): Promise<{ started: string[]; failed: string[] }> {
    const started: string[] = [];
    const failed: string[] = [];
    for (const releaseId of [...pending]) {
      try {
        await startReleaseWorkflow(client, releaseId, { taskQueue: options.taskQueue });
        // Ended meanwhile, or started: either way nothing more to do for it.
        pending.delete(releaseId);
        started.push(releaseId);
      } catch (error) {
        failed.push(releaseId);
        log?.warn({ err: error, releaseId }, "could not start the release's workflow; the next sweep tries again");
      }
    }
    if (started.length > 0 || failed.length > 0) {
      log?.info(
        { started: started.length, failed: failed.length },
        "in-progress releases reconciled with their workflows",
      );
    }
    return { started, failed };
  }
  const sweep = (): Promise<{ started: string[]; failed: string[] }> => {
    // One sweep at a time: the timer skips a tick while the previous sweep still runs.
    running ??= sweepOnce().finally(() => {
      running = null;
    });
    return running;
  };

  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const ready = live.then(async () => {
    await sweep();
    if (!closed) {
      timer = setInterval(() => {
        sweep().catch((error: unknown) => log?.error({ err: error }, "reconcile sweep failed"));
      }, intervalMs);
      timer.unref();
    }
  });
  return {
    ready,
    sweep,
    pending: () => [...pending],
    async close() {
      closed = true;
      if (timer !== null) clearInterval(timer);
      await subscription.close();
      await running?.catch(() => {});
    },
  };
}

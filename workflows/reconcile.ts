// (Re)start the workflow of every release the store says is IN_PROGRESS. The API stores ReleaseStarted
// before it starts the workflow; if it dies in between (or Temporal is unreachable then), this heals the
// release. Starting is idempotent (USE_EXISTING), so running it again is safe. The worker runs it at start
// and then every minute (startReconcileLoop); reconcileReleases is the one-shot form.

import type { Client } from "@temporalio/client";
import { SYSTEM_ACTOR } from "../services/core/model.ts";
import { streamId, streams } from "../services/core/streams.ts";
import { handleCommand } from "../services/event-store/command-handler.ts";
import type { EventStore } from "../services/event-store/port.ts";
import { featureDecider } from "../services/feature/feature.ts";
import type { Logger } from "../services/platform/logger.ts";
import { RELEASE_WORKFLOW_TYPE, releaseWorkflowId, startReleaseWorkflow } from "./client.ts";

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

/**
 * The workflow ids of every running release workflow (one visibility query, paged). Visibility lags a
 * little: a workflow started a moment ago may be missing, and starting it again is a no-op (USE_EXISTING).
 */
export async function runningReleaseWorkflowIds(client: Client): Promise<Set<string>> {
  const ids = new Set<string>();
  const query = `WorkflowType = '${RELEASE_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
  await client.withDeadline(Date.now() + 10_000, async () => {
    for await (const execution of client.workflow.list({ query })) ids.add(execution.workflowId);
  });
  return ids;
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
  /**
   * How often releases whose workflow never started (Temporal was unreachable when the API stored them)
   * are tried again (default 5 s, at most intervalMs): costs nothing while there are none, and starts
   * them within seconds of Temporal answering again.
   */
  pendingIntervalMs?: number;
  /**
   * A feature lock (FeatureReleaseStarted) whose release stream still has no ReleaseStarted this long
   * after the lock is given back (default 20 s): the process that took it died between the two appends.
   */
  orphanLockGraceMs?: number;
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
 * Reconcile at start, then every `intervalMs` (never-started releases every `pendingIntervalMs`), without a restart: a release whose workflow start failed
 * (the API died, or Temporal was down, after ReleaseStarted was stored) heals within one interval.
 *
 * Cheap: one catch-up subscription to the release streams' start and end events (no read models) keeps
 * the set of in-progress releases, and of those whose workflow this process has not started yet; a sweep
 * starts the latter (USE_EXISTING: a running workflow is left as it is), then lists the running release
 * workflows once (one visibility query) and starts again every in-progress release missing from it — its
 * workflow failed, timed out or was terminated — which rebuilds from the release stream. A quiet
 * installation (no release in progress) makes no Temporal call at all.
 */
export function startReconcileLoop(
  client: Client,
  store: EventStore,
  options: ReconcileLoopOptions = {},
): ReconcileLoop {
  const intervalMs = options.intervalMs ?? 30_000;
  const pendingIntervalMs = Math.min(options.pendingIntervalMs ?? 5_000, intervalMs);
  let lastFullCheck = 0;
  const log = options.logger;
  const pending = new Set<string>();
  /** Every release whose stream says IN_PROGRESS (started by this loop or not). */
  const open = new Set<string>();
  let caughtUp: () => void = () => {};
  let failedEarly: (error: Error) => void = () => {};
  const live = new Promise<void>((resolve, reject) => {
    caughtUp = resolve;
    failedEarly = reject;
  });
  const orphanLockGraceMs = options.orphanLockGraceMs ?? 20_000;
  /** Feature locks held, by feature id: the release, since when, and the project (for the unlock's metadata). */
  const locks = new Map<string, { releaseId: string; since: number; projectId: string | null }>();
  const subscription = store.subscribeToAll({
    filter: {
      streamPrefixes: [RELEASE_PREFIX, streams.feature("")],
      eventTypes: [
        "ReleaseStarted",
        "ReleaseCompleted",
        "ReleaseAborted",
        "FeatureReleaseStarted",
        "FeatureReleaseEnded",
      ],
    },
    onEvent: (event) => {
      if (event.type === "FeatureReleaseStarted" || event.type === "FeatureReleaseEnded") {
        const featureId = streamId(event.stream, "feature");
        const releaseId = (event.data as { releaseId?: unknown }).releaseId;
        if (featureId === null || typeof releaseId !== "string") return;
        if (event.type === "FeatureReleaseStarted") {
          const since = Date.parse(event.metadata.occurredAt);
          locks.set(featureId, {
            releaseId,
            since: Number.isNaN(since) ? Date.now() : Math.min(since, Date.now()),
            projectId: event.metadata.projectId,
          });
        } else if (locks.get(featureId)?.releaseId === releaseId) {
          locks.delete(featureId);
        }
        return;
      }
      const id = streamId(event.stream, "release");
      if (id === null) return;
      if (event.type === "ReleaseStarted") {
        pending.add(id);
        open.add(id);
      } else {
        pending.delete(id);
        open.delete(id);
      }
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
  async function sweepOnce(full: boolean): Promise<{ started: string[]; failed: string[] }> {
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
    // Releases whose workflow was started once: one whose run later failed, was terminated (from the
    // Temporal CLI, say) or timed out is no longer running. One list call finds the running ones.
    const startedNow = new Set(started);
    const once = [...open].filter((id) => !pending.has(id) && !startedNow.has(id));
    if (full) lastFullCheck = Date.now();
    if (full && once.length > 0) {
      let running: Set<string> | null = null;
      try {
        running = await runningReleaseWorkflowIds(client);
      } catch (error) {
        log?.warn({ err: error }, "could not list the running release workflows; the next sweep tries again");
      }
      for (const releaseId of running === null ? [] : once) {
        if (running?.has(releaseWorkflowId(releaseId))) continue;
        if (!open.has(releaseId)) continue; // ended meanwhile
        try {
          await startReleaseWorkflow(client, releaseId, { taskQueue: options.taskQueue });
          started.push(releaseId);
          log?.warn({ releaseId }, "the release's workflow was not running (failed or terminated); started it again");
        } catch (error) {
          failed.push(releaseId);
          log?.warn({ err: error, releaseId }, "could not restart the release's workflow; the next sweep tries again");
        }
      }
    }
    if (full) await freeOrphanLocks();
    if (started.length > 0 || failed.length > 0) {
      log?.info(
        { started: started.length, failed: failed.length },
        "in-progress releases reconciled with their workflows",
      );
    }
    return { started, failed };
  }
  /**
   * Gives back every lock whose release does not exist: taken more than orphanLockGraceMs ago, its
   * release not in progress here, and its stream (read to be sure) empty. EndRelease on a lock that has
   * moved on stores nothing, so a race with a new start is harmless.
   */
  async function freeOrphanLocks(): Promise<void> {
    const now = Date.now();
    for (const [featureId, lock] of [...locks]) {
      if (open.has(lock.releaseId) || now - lock.since < orphanLockGraceMs) continue;
      try {
        const stored = await store.readStream(streams.release(lock.releaseId), { maxCount: 1 });
        if (stored.length > 0) continue; // it exists (ended or in progress): not an orphan
        const at = new Date().toISOString();
        await handleCommand(store, featureDecider, {
          stream: streams.feature(featureId),
          command: {
            type: "EndRelease",
            data: { releaseId: lock.releaseId, status: "ABORTED" },
            actor: SYSTEM_ACTOR,
            now: at,
          },
          metadata: {
            actor: SYSTEM_ACTOR.name,
            occurredAt: at,
            correlationId: `reconcile-${lock.releaseId}`,
            causationId: null,
            projectId: lock.projectId,
          },
        });
        log?.warn(
          { featureId, releaseId: lock.releaseId },
          "gave back a feature's release lock: its release was never stored (a start died between the lock and ReleaseStarted)",
        );
      } catch (error) {
        log?.warn(
          { err: error, featureId },
          "could not give back an orphaned release lock; the next sweep tries again",
        );
      }
    }
  }

  const sweepWith = (full: boolean): Promise<{ started: string[]; failed: string[] }> => {
    // One sweep at a time: the timer skips a tick while the previous sweep still runs.
    running ??= sweepOnce(full).finally(() => {
      running = null;
    });
    return running;
  };
  const sweep = (): Promise<{ started: string[]; failed: string[] }> => sweepWith(true);

  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const ready = live.then(async () => {
    await sweep();
    if (!closed) {
      timer = setInterval(() => {
        const full = Date.now() - lastFullCheck >= intervalMs - pendingIntervalMs / 2;
        if (!full && pending.size === 0) return;
        sweepWith(full).catch((error: unknown) => log?.error({ err: error }, "reconcile sweep failed"));
      }, pendingIntervalMs);
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

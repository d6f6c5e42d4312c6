// The projection runner: one catch-up subscription to the whole log (history from the start, then live)
// feeds the read models and the audit index, then fans each event out to listeners (the GraphQL
// subscriptions). Because it reads the store's subscription — not the process's own writes — an API
// process sees mutations made by any other process on the same store. Each projection resumes from its
// own checkpoint (persisted ones: the read models' committed position, the audit index's last row), and the
// read models are committed — rows and checkpoint in one transaction — every few hundred thousand events
// while catching up and after each burst once live (docs/decisions/0042).
//
// Read-your-writes: a mutation gets the position of its last appended event from the command handler and
// awaits `waitFor(position)` before it reads the read models.

import type { AuditIndex } from "../audit/audit-index.ts";
import { DomainError } from "../core/errors.ts";
import type { EventMetadata, EventStore, RecordedEvent, StoredEvent, Subscription } from "../event-store/port.ts";
import { type AppliedChange, freeze, type ReadModels } from "./read-models.ts";

export type ProjectionListener = (event: RecordedEvent, readModels: ReadModels, change: AppliedChange) => void;

export interface StartProjectionsOptions {
  store: EventStore;
  readModels: ReadModels;
  /** Optional: the audit index to feed (skipped for events it already holds, when file-backed). */
  audit?: AuditIndex | null;
  /**
   * While catching up, commit the read models (rows and checkpoint, one transaction) once this many events
   * are applied (default 262,144: an entity changed by several events of one commit is written once; a
   * cold build of 1M events, read models alone, took 7.3 s at 524,288, 8.0 at 262,144, 8.9 at 131,072), or once 50,000
   * entities wait to be written, whichever comes first. Once live, each burst of events is committed as
   * soon as it is applied.
   */
  commitEvery?: number;
  /** Default timeout of `waitFor`, ms (default 10,000). */
  waitTimeoutMs?: number;
  /** Called when a listener throws (default: a process warning). The runner goes on. */
  onListenerError?: (error: unknown, event: RecordedEvent) => void;
}

export interface ProjectionStatus {
  caughtUp: boolean;
  position: string | null;
  /** Where the read models' committed rows are: a restart resumes after it. */
  checkpoint: string | null;
  events: number;
  error: Error | null;
  closed: boolean;
}

export interface ProjectionRunner {
  readonly readModels: ReadModels;
  readonly audit: AuditIndex | null;
  /** Resolves once the history present at start is applied (and the audit index is indexed). */
  readonly ready: Promise<void>;
  /** Listens to every event applied from now on, after the read models and the audit index have it. */
  onEvent(listener: ProjectionListener): () => void;
  /**
   * Resolves once an event at or after `position` is applied. Rejects with INTERNAL after `timeoutMs`,
   * with VALIDATION when `position` is not a position of this store, or when the runner stops.
   */
  waitFor(position: string, timeoutMs?: number): Promise<void>;
  status(): ProjectionStatus;
  close(): Promise<void>;
}

/**
 * Events per read while catching up on history. Small pages measured faster than large ones: fewer
 * events of the page in flight when the young generation is collected, so less to copy.
 */
const CATCH_UP_PAGE = 256;

/** Changed entities kept in memory before a commit while catching up, at most. */
const MAX_CHANGED = 50_000;

/** A StoredEvent as listeners get every event: with its metadata parsed. */
const toRecordedEvent = ({ metadataJson, ...rest }: StoredEvent): RecordedEvent => ({
  ...rest,
  metadata: JSON.parse(metadataJson) as EventMetadata,
});

interface Waiter {
  position: string;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export function startProjections(options: StartProjectionsOptions): ProjectionRunner {
  const { store, readModels } = options;
  const audit = options.audit ?? null;
  const defaultTimeout = options.waitTimeoutMs ?? 10_000;
  const commitEvery = Math.max(1, options.commitEvery ?? 262_144);
  const commitDue = (): boolean => readModels.pending >= commitEvery || readModels.changed >= MAX_CHANGED;
  const compare = (a: string, b: string) => store.comparePositions(a, b);
  const listeners = new Set<ProjectionListener>();
  let waiters: Waiter[] = [];
  let caughtUp = false;
  let closed = false;
  let failure: Error | null = null;
  let flushScheduled = false;
  let commitScheduled = false;

  // Where each projection already is: the read models at their committed checkpoint, the audit index after
  // its last stored row (null for a fresh one). The subscription starts at the earlier of the two.
  let readModelsFrom = readModels.position;
  // Known once the audit index is open (a file-backed one resumes where it was).
  let auditFrom: string | null = null;
  const startAfter = (): string | undefined => {
    if (audit === null) return readModelsFrom ?? undefined;
    if (readModelsFrom === null || auditFrom === null) return undefined;
    return compare(readModelsFrom, auditFrom) <= 0 ? readModelsFrom : auditFrom;
  };
  let resolveReady: () => void = () => {};
  let rejectReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A caller that never awaits `ready` must not see an unhandled rejection.
  ready.catch(() => {});

  const reportListenerError =
    options.onListenerError ??
    ((error: unknown, event: RecordedEvent) =>
      process.emitWarning(
        `projection listener failed on ${event.type} at ${event.position}: ${error instanceof Error ? error.message : String(error)}`,
        { code: "PROJECTION_LISTENER" },
      ));

  const flushLater = (): void => {
    if (flushScheduled || audit === null) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      if (!closed) audit.flush();
    });
  };

  // Live events are committed in bursts: whatever arrived before the next turn of the event loop.
  const commitLater = (): void => {
    if (commitScheduled) return;
    commitScheduled = true;
    setImmediate(() => {
      commitScheduled = false;
      if (!closed) commitReadModels();
    });
  };

  const commitReadModels = (): void => {
    try {
      readModels.commit();
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
  };

  const settleWaiters = (position: string): void => {
    const still: Waiter[] = [];
    for (const waiter of waiters) {
      let reached: boolean;
      try {
        reached = compare(position, waiter.position) >= 0;
      } catch (error) {
        clearTimeout(waiter.timer);
        waiter.reject(error as Error);
        continue;
      }
      if (reached) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      } else still.push(waiter);
    }
    waiters = still;
  };

  const failAll = (error: Error): void => {
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    waiters = [];
  };

  const onEvent = (event: RecordedEvent | StoredEvent): void => {
    let change: AppliedChange | null = null;
    if (readModelsFrom === null || compare(event.position, readModelsFrom) > 0) {
      readModelsFrom = null;
      change = readModels.apply(event);
      if (caughtUp) commitLater();
    }
    if (audit !== null && (auditFrom === null || compare(event.position, auditFrom) > 0)) {
      auditFrom = null;
      audit.add(event);
      if (caughtUp) flushLater();
    }
    if (change === null) return;
    if (waiters.length > 0) settleWaiters(event.position);
    if (listeners.size > 0) {
      freeze(change.before);
      freeze(change.after);
      const recorded = "metadataJson" in event ? toRecordedEvent(event) : event;
      for (const listener of listeners) {
        try {
          listener(recorded, readModels, change);
        } catch (error) {
          reportListenerError(error, recorded);
        }
      }
    }
  };

  const fail = (error: Error): void => {
    failure = error;
    rejectReady(error);
    failAll(new DomainError("INTERNAL", `projections stopped: ${error.message}`));
  };

  // History first, read in pages (no per-event hand-off: the bulk of a rebuild goes fastest this way),
  // then the catch-up subscription from where the pages ended: it delivers whatever was appended in the
  // meantime, says when it is caught up, and stays live. No gap, no duplicate: each starts strictly
  // after the last position the previous one delivered.
  let subscription: Subscription | null = null;
  const started = (async () => {
    if (audit !== null) {
      await audit.opened;
      auditFrom = audit.lastPosition;
    }
    let position = startAfter();
    // Where the store offers it, history comes with metadata as JSON text: the read models do not need
    // it, and the audit index hands it to its worker as it is.
    const readAllStored = store.readAllStored?.bind(store);
    const readPage = (options: { after?: string; maxCount: number }) =>
      readAllStored === undefined ? store.readAll(options) : readAllStored(options);
    for (;;) {
      if (closed) return;
      const page = await readPage({
        ...(position === undefined ? {} : { after: position }),
        maxCount: CATCH_UP_PAGE,
      });
      for (const event of page) onEvent(event);
      if (commitDue()) readModels.commit();
      const last = page[page.length - 1];
      if (last !== undefined) position = last.position;
      if (page.length < CATCH_UP_PAGE) break;
    }
    if (closed) return;
    subscription = store.subscribeToAll({
      ...(position === undefined ? {} : { after: position }),
      onEvent: (event) => {
        onEvent(event);
        if (!caughtUp && commitDue()) commitReadModels();
      },
      onCaughtUp: () => {
        try {
          readModels.finishBulkLoad();
        } catch (error) {
          fail(error instanceof Error ? error : new Error(String(error)));
        }
        commitReadModels();
        // Ready once the audit index has indexed the history too (and built what a bulk load deferred).
        (audit === null ? Promise.resolve() : audit.finishBulkLoad()).then(() => {
          caughtUp = true;
          resolveReady();
        }, rejectReady);
      },
      onError: fail,
    });
  })().catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));

  return {
    readModels,
    audit,
    ready,
    onEvent(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    waitFor(position, timeoutMs = defaultTimeout) {
      if (closed) return Promise.reject(new DomainError("INTERNAL", "projections are closed"));
      if (failure !== null)
        return Promise.reject(new DomainError("INTERNAL", `projections stopped: ${failure.message}`));
      const current = readModels.position;
      try {
        if (current !== null && compare(current, position) >= 0) return Promise.resolve();
        // Validate the position now rather than on the next event.
        compare(position, position);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          position,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters = waiters.filter((w) => w !== waiter);
            reject(
              new DomainError(
                "INTERNAL",
                `read models did not reach position ${position} within ${timeoutMs} ms (at ${readModels.position ?? "start"})`,
              ),
            );
          }, timeoutMs),
        };
        waiters.push(waiter);
      });
    },
    status() {
      return {
        caughtUp,
        position: readModels.position,
        checkpoint: readModels.checkpoint,
        events: readModels.eventCount,
        error: failure,
        closed,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await started;
      await (subscription as Subscription | null)?.close();
      failAll(new DomainError("INTERNAL", "projections are closed"));
      rejectReady(new Error("projections closed before catching up"));
      listeners.clear();
      if (failure === null) readModels.commit();
      audit?.flush();
    },
  };
}

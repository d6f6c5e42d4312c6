// The GraphQL subscriptions' sources, all fed by the projection runner's `onEvent` — itself fed by the
// event store's catch-up subscription — so an API process sees every change, whichever process made it.
// A listener runs synchronously right after the read models applied the event, so `change.after` is the
// entity exactly as that event left it: each subscriber gets every state, in order.

import { type AuditEvent, type AuditFilter, type AuditIndex, compileAuditFilter } from "../audit/audit-index.ts";
import { type AuthInfo, canSeeProject } from "../core/caller.ts";
import { DomainError, validation } from "../core/errors.ts";
import type { EventStore } from "../event-store/port.ts";
import type { ReadModels } from "../projections/read-models.ts";
import type { ProjectionListener, ProjectionRunner } from "../projections/runner.ts";
import type { Release } from "../release/release.ts";

export interface LiveFeed {
  /** The release's current state, then every change; completes after COMPLETED or ABORTED. */
  releaseUpdated(auth: AuthInfo | null, id: string): Promise<AsyncIterable<Release>>;
  featureReleases(auth: AuthInfo | null, featureId: string): Promise<AsyncIterable<Release>>;
  approvalRequested(auth: AuthInfo | null, projectId: string): Promise<AsyncIterable<Release>>;
  /** With `after`: first what was stored after that position, then live — no gap, no duplicate. */
  auditEvents(auth: AuthInfo | null, filter: AuditFilter, after: string | null): Promise<AsyncIterable<AuditEvent>>;
  /** Open subscriptions (for metrics and tests). */
  readonly openCount: number;
  /** Open subscriptions of one token. */
  openCountOf(tokenId: string): number;
  /** Ends every open subscription of `tokenId` with UNAUTHENTICATED (revoked or expired). */
  endToken(tokenId: string, reason: string): void;
  /** Ends every open subscription (server shutdown). */
  closeAll(): void;
}

export interface LiveFeedDeps {
  runner: Pick<ProjectionRunner, "onEvent" | "waitFor">;
  readModels: ReadModels;
  audit: AuditIndex;
  store: EventStore;
  /** Items a slow subscriber may fall behind before it is ended with RATE_LIMITED (default 1,000). */
  maxBuffered?: number;
  /** Open subscriptions a token may hold at once; more answer RATE_LIMITED (default 100). */
  maxPerToken?: number;
  /** Wall-clock time, for token expiry (default: the system clock). */
  now?: () => Date;
  /** How often open subscriptions are checked for expired tokens (default 1 s). */
  expirySweepMs?: number;
}

export const DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN = 100;
export const DEFAULT_MAX_BUFFERED = 1_000;

/** The error a subscriber gets when it falls behind: the server does not buffer without bound. */
export const slowSubscriberError = (max: number): DomainError =>
  new DomainError(
    "RATE_LIMITED",
    `subscriber too slow: ${max} events waited undelivered, so the subscription ended; subscribe again (auditEvents: with after)`,
  );

/** A push-to-pull queue: the listener pushes, the GraphQL executor pulls. */
class LiveQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  readonly #waiting: ((result: IteratorResult<T> | Promise<never>) => void)[] = [];
  #done = false;
  #error: Error | null = null;
  readonly #onClose: () => void;
  readonly #max: number;

  constructor(max: number, onClose: () => void) {
    this.#max = max;
    this.#onClose = onClose;
  }

  /** Whether it has ended (its client left, it completed or failed): producers stop. */
  get done(): boolean {
    return this.#done;
  }

  push(item: T): void {
    if (this.#done) return;
    const waiter = this.#waiting.shift();
    if (waiter) {
      waiter({ value: item, done: false });
      return;
    }
    if (this.#items.length >= this.#max) {
      this.fail(slowSubscriberError(this.#max));
      return;
    }
    this.#items.push(item);
  }

  /** Ends after the items already queued. */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#onClose();
    this.#notifyDrained();
    const error = this.#error;
    for (const waiter of this.#waiting.splice(0)) {
      if (error !== null) {
        this.#error = null;
        waiter(Promise.reject(error) as never);
      } else waiter({ value: undefined, done: true });
    }
  }

  fail(error: Error): void {
    if (this.#done) return;
    this.#error = error;
    this.#items.length = 0;
    this.end();
    // A pending next() gets the error, not a quiet end.
  }

  readonly #drainWaiters: { level: number; resolve: () => void }[] = [];

  /** Resolves once at most `level` items wait undelivered, or it has ended. */
  drained(level: number): Promise<void> {
    if (this.#done || this.#items.length <= level) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push({ level, resolve }));
  }

  #notifyDrained(): void {
    for (let i = this.#drainWaiters.length - 1; i >= 0; i--) {
      const waiter = this.#drainWaiters[i];
      if (waiter !== undefined && (this.#done || this.#items.length <= waiter.level)) {
        this.#drainWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#drainWaiters.length > 0) queueMicrotask(() => this.#notifyDrained());
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.#error !== null) {
      const error = this.#error;
      this.#error = null;
      return Promise.reject(error);
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.#items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.#items.length = 0;
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export function createLiveFeed(deps: LiveFeedDeps): LiveFeed {
  const { runner, audit, store } = deps;
  const max = deps.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  const maxPerToken = deps.maxPerToken ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN;
  /** A replay's page: at most half the buffer, so a page always fits once the one before is half read. */
  const replayPage = Math.max(1, Math.min(500, Math.floor(max / 2)));
  const now = deps.now ?? (() => new Date());
  const open = new Set<LiveQueue<unknown>>();
  /** Token id → its open subscriptions (and when the token expires). */
  const byToken = new Map<string, { queues: Set<LiveQueue<unknown>>; expiresAt: number | null }>();

  const endToken = (tokenId: string, reason: string): void => {
    const entry = byToken.get(tokenId);
    if (entry === undefined) return;
    for (const queue of [...entry.queues]) queue.fail(new DomainError("UNAUTHENTICATED", reason));
  };

  // A revoked token's subscriptions end as its revocation is projected (on every API process).
  runner.onEvent((event, _models, change) => {
    if (event.type === "ApiTokenRevoked" && change.kind === "token") endToken(change.id, "the API token was revoked");
  });
  // An expired token's end within a sweep (1 s by default); only while some subscription is open.
  let sweep: ReturnType<typeof setInterval> | null = null;
  const sweepExpired = (): void => {
    const at = now().getTime();
    for (const [tokenId, entry] of byToken) {
      if (entry.expiresAt !== null && entry.expiresAt <= at) endToken(tokenId, "the API token expired");
    }
  };

  function listen<T>(caller: AuthInfo | null, listener: (queue: LiveQueue<T>) => ProjectionListener): LiveQueue<T> {
    const auth = caller;
    if (auth === null) throw new DomainError("UNAUTHENTICATED", "A valid API token is required.");
    let entry = byToken.get(auth.tokenId);
    if (entry !== undefined && entry.queues.size >= maxPerToken) {
      throw new DomainError(
        "RATE_LIMITED",
        `token "${auth.name}" already has ${maxPerToken} open subscriptions (the most a token may hold); end one first`,
      );
    }
    if (entry === undefined) {
      entry = { queues: new Set(), expiresAt: auth.expiresAt ? Date.parse(auth.expiresAt) : null };
      byToken.set(auth.tokenId, entry);
    }
    const tokenEntry = entry;
    let off: () => void = () => {};
    const queue: LiveQueue<T> = new LiveQueue<T>(max, () => {
      off();
      open.delete(queue as LiveQueue<unknown>);
      tokenEntry.queues.delete(queue as LiveQueue<unknown>);
      if (tokenEntry.queues.size === 0 && byToken.get(auth.tokenId) === tokenEntry) byToken.delete(auth.tokenId);
      if (open.size === 0 && sweep !== null) {
        clearInterval(sweep);
        sweep = null;
      }
    });
    open.add(queue as LiveQueue<unknown>);
    tokenEntry.queues.add(queue as LiveQueue<unknown>);
    if (sweep === null) {
      sweep = setInterval(sweepExpired, deps.expirySweepMs ?? 1_000);
      sweep.unref();
    }
    off = runner.onEvent(listener(queue));
    return queue;
  }

  /** The entity when `auth` may see its project, else null. */
  const visible = <T extends { projectId: string }>(auth: AuthInfo | null, entity: T | null): T | null =>
    entity !== null && canSeeProject(auth, entity.projectId) ? entity : null;

  const isTerminal = (release: Release): boolean => release.status !== "IN_PROGRESS";

  /**
   * `find()`, or — when it finds nothing — `find()` again once this process has projected everything
   * stored so far: the entity may have been created through another API process a moment ago.
   */
  async function findCaughtUp<T>(find: () => T | null): Promise<T | null> {
    const found = find();
    if (found !== null) return found;
    const head = await store.headPosition();
    if (head !== null) await runner.waitFor(head);
    return find();
  }

  return {
    async releaseUpdated(auth, id) {
      if ((await findCaughtUp(() => visible(auth, deps.readModels.release(id)))) === null) {
        throw new DomainError("NOT_FOUND", `release ${id} not found`);
      }
      const queue = listen<Release>(auth, (q) => (_event, _models, change) => {
        if (change.kind !== "release" || change.id !== id || change.after === null) return;
        const release = change.after as Release;
        q.push(release);
        if (isTerminal(release)) q.end();
      });
      // Read after the listener is registered, in the same tick: no event can fall in between.
      const current = deps.readModels.release(id);
      if (current !== null) {
        queue.push(current);
        if (isTerminal(current)) queue.end();
      }
      return queue;
    },

    async featureReleases(auth, featureId) {
      if ((await findCaughtUp(() => visible(auth, deps.readModels.feature(featureId)))) === null) {
        throw new DomainError("NOT_FOUND", `feature ${featureId} not found`);
      }
      return listen<Release>(auth, (q) => (_event, _models, change) => {
        if (change.kind !== "release" || change.after === null) return;
        const release = change.after as Release;
        if (release.featureId === featureId) q.push(release);
      });
    },

    async approvalRequested(auth, projectId) {
      if (
        (await findCaughtUp(() => (canSeeProject(auth, projectId) ? deps.readModels.project(projectId) : null))) ===
        null
      ) {
        throw new DomainError("NOT_FOUND", `project ${projectId} not found`);
      }
      return listen<Release>(auth, (q) => (event, _models, change) => {
        if (event.type !== "ReleaseApprovalRequested" || change.kind !== "release" || change.after === null) return;
        const release = change.after as Release;
        if (release.projectId === projectId) q.push(release);
      });
    },

    async auditEvents(auth, filter, after) {
      const matches = compileAuditFilter(filter);
      const visible = (event: AuditEvent): boolean => canSeeProject(auth, event.projectId) && matches(event);
      if (after !== null) {
        try {
          store.comparePositions(after, after);
        } catch {
          throw validation("after", `"${after}" is not a position of this event store`);
        }
        if ((await audit.event(after)) === null) throw validation("after", `unknown position "${after}"`);
      }
      // Live first, into a buffer; then the replay from the audit index; then the buffer, skipping what the
      // replay already sent (an event applied while a page was read is in both).
      let replaying = after !== null;
      const buffered: AuditEvent[] = [];
      let lastSent: string | null = after;
      const send = (q: LiveQueue<AuditEvent>, event: AuditEvent): void => {
        if (lastSent !== null && store.comparePositions(event.position, lastSent) <= 0) return;
        lastSent = event.position;
        q.push(event);
      };
      const queue = listen<AuditEvent>(auth, (q) => (event) => {
        const node = audit.toAuditEvent(event);
        if (!visible(node)) return;
        if (!replaying) send(q, node);
        // What arrives during the replay waits, up to the same bound as an undelivered queue.
        else if (buffered.length >= max) q.fail(slowSubscriberError(max));
        else buffered.push(node);
      });
      if (after !== null) {
        (async () => {
          let cursor: string | null = after;
          for (;;) {
            // The client left (or the subscription failed): the replay stops with it.
            if (queue.done) return;
            const page = await audit.query({ filter, order: "ASC", first: replayPage, after: cursor });
            if (queue.done) return;
            for (const edge of page.edges) if (canSeeProject(auth, edge.node.projectId)) send(queue, edge.node);
            // Paged no faster than the client takes them: the next page waits until it fits the buffer.
            await queue.drained(max - replayPage);
            if (!page.pageInfo.hasNextPage || page.pageInfo.endCursor === null) break;
            cursor = page.pageInfo.endCursor;
          }
          // Synchronously from here: no event can be applied between the drain and going live.
          for (const node of buffered.splice(0)) send(queue, node);
          replaying = false;
        })().catch((error: unknown) => queue.fail(error instanceof Error ? error : new Error(String(error))));
      }
      return queue;
    },

    get openCount() {
      return open.size;
    },

    openCountOf(tokenId) {
      return byToken.get(tokenId)?.queues.size ?? 0;
    },

    endToken,

    closeAll() {
      for (const queue of [...open]) queue.end();
      if (sweep !== null) clearInterval(sweep);
      sweep = null;
    },
  };
}

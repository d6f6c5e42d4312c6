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
  /** Ends every open subscription (server shutdown). */
  closeAll(): void;
}

export interface LiveFeedDeps {
  runner: Pick<ProjectionRunner, "onEvent" | "waitFor">;
  readModels: ReadModels;
  audit: AuditIndex;
  store: EventStore;
  /** Items a slow subscriber may fall behind before it is ended with an error (default 10,000). */
  maxBuffered?: number;
}

/** A push-to-pull queue: the listener pushes, the GraphQL executor pulls. */
class LiveQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  readonly #waiting: ((result: IteratorResult<T>) => void)[] = [];
  #done = false;
  #error: Error | null = null;
  readonly #onClose: () => void;
  readonly #max: number;

  constructor(max: number, onClose: () => void) {
    this.#max = max;
    this.#onClose = onClose;
  }

  push(item: T): void {
    if (this.#done) return;
    const waiter = this.#waiting.shift();
    if (waiter) {
      waiter({ value: item, done: false });
      return;
    }
    if (this.#items.length >= this.#max) {
      this.fail(new DomainError("INTERNAL", "subscriber fell too far behind; subscribe again"));
      return;
    }
    this.#items.push(item);
  }

  /** Ends after the items already queued. */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#onClose();
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  fail(error: Error): void {
    if (this.#done) return;
    this.#error = error;
    this.#items.length = 0;
    this.end();
  }

  next(): Promise<IteratorResult<T>> {
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
  const max = deps.maxBuffered ?? 10_000;
  const open = new Set<LiveQueue<unknown>>();

  function listen<T>(listener: (queue: LiveQueue<T>) => ProjectionListener): LiveQueue<T> {
    let off: () => void = () => {};
    const queue: LiveQueue<T> = new LiveQueue<T>(max, () => {
      off();
      open.delete(queue as LiveQueue<unknown>);
    });
    open.add(queue as LiveQueue<unknown>);
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
      const queue = listen<Release>((q) => (_event, _models, change) => {
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
      return listen<Release>((q) => (_event, _models, change) => {
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
      return listen<Release>((q) => (event, _models, change) => {
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
      const queue = listen<AuditEvent>((q) => (event) => {
        const node = audit.toAuditEvent(event);
        if (!visible(node)) return;
        if (replaying) buffered.push(node);
        else send(q, node);
      });
      if (after !== null) {
        (async () => {
          let cursor: string | null = after;
          for (;;) {
            const page = await audit.query({ filter, order: "ASC", first: 500, after: cursor });
            for (const edge of page.edges) if (canSeeProject(auth, edge.node.projectId)) send(queue, edge.node);
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

    closeAll() {
      for (const queue of [...open]) queue.end();
    },
  };
}

// The audit log index (auditLog, Feature.history, the time → position lookup of as-of queries): an index
// over every stored event, fed by the projection runner in log order. See docs/decisions/0006-audit-index.md.
//
// - It indexes, it does not copy: a row holds the event's seq, position and filter columns. A page's
//   events are read back from the log by position (one read per run of consecutive events), so the log
//   stays the one place an event's data lives and a million-event index takes about 130 MB of disk.
// - The index lives in a worker thread (audit-worker.ts, audit-table.ts: a SQLite database with persisted
//   indexes, a file or in memory): indexing runs on the second core while the main thread applies events
//   to the read models. A file-backed index resumes after its last row: each batch is one transaction,
//   so the last row is its checkpoint. `add` only numbers the event's stream and type and copies its
//   metadata JSON into a buffer (as stored, for a StoredEvent: nobody parses it on this thread); batches
//   are transferred, not copied, and the worker works out project, actor and time. Queries are answered
//   in posting order, so a query sees every event added before it (read-your-writes with `runner.waitFor`).
// - Keyset pagination on a local monotonic `seq`, never OFFSET: a deep page costs what the first costs.
//   Cursors are the events' global positions (opaque to clients, usable in featureAsOf & co.).

import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { DomainError, validation } from "../core/errors.ts";
import { streams } from "../core/streams.ts";
import type { EventStore, RecordedEvent, StoredEvent } from "../event-store/port.ts";
import { actorOf, dataFeatureOf, dataProjectOf, eventTimeOf, placementOf, projectOf } from "./audit-event.ts";
import {
  AUDIT_INDEX_VERSION,
  type AuditLayout,
  type EventBatch,
  IDS_PER_EVENT,
  LOCAL_NAMES_MAX,
  type TableFilter,
  type TableRow,
} from "./audit-table.ts";
import type { AuditMessage, AuditReply, AuditRequest } from "./audit-worker.ts";

/** The contract's AuditFilter. */
export interface AuditFilter {
  projectId?: string | null;
  entityId?: string | null;
  types?: readonly string[] | null;
  actor?: string | null;
  /** Inclusive lower bound on the event's time (ISO-8601). */
  from?: string | null;
  /** Inclusive upper bound on the event's time (ISO-8601). */
  to?: string | null;
}

export type SortOrder = "ASC" | "DESC";

/** The contract's AuditEvent. */
export interface AuditEvent {
  /** The event's id in the store. */
  id: string;
  position: string;
  type: string;
  stream: string;
  entityId: string;
  /** null only for events outside any project (an API token not bound to a project). */
  projectId: string | null;
  actor: string;
  at: string;
  data: unknown;
}

export interface AuditEdge {
  cursor: string;
  node: AuditEvent;
}

export interface AuditConnection {
  edges: AuditEdge[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface AuditQuery {
  filter?: AuditFilter | null;
  /** Default DESC (newest first), as the contract's default. */
  order?: SortOrder | null;
  /** 1..500, default 50. */
  first?: number | null;
  /** A cursor from an earlier page (an event's position). */
  after?: string | null;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export { AUDIT_INDEX_VERSION, type AuditLayout };

/**
 * The audit index's file in a directory (a projection slot): named by the layout's version, so a build
 * with another layout never opens this one's file (it builds its own from the log).
 */
export const auditIndexFile = (dir: string): string => join(dir, `audit-v${AUDIT_INDEX_VERSION}.sqlite`);

export interface AuditIndexOptions {
  /** The log the index is built from: pages read their events' payloads back from it. */
  store: EventStore;
  /**
   * File path of the index's database (see `auditIndexFile`), or `:memory:` (default). A file resumes
   * after its last row when reopened; a file of another schema version is emptied and rebuilt.
   */
  path?: string;
  /** Events handed to the worker per batch (default 8192: a post costs about as much whatever its size). */
  batchSize?: number;
  /** Sizes of the index's pieces (tests: small ones, to cross many segments and blocks). */
  layout?: AuditLayout;
  /** Names numbered locally before the numbering starts over (default LOCAL_NAMES_MAX; tests: few). */
  localNamesMax?: number;
}

/** Batches (of `batchSize`) handed to the worker and not yet indexed before `add` waits for it. */
const BATCHES_IN_FLIGHT = 8;
/** The worker's V8 heap bounds (its live data: caches of bounded size, the batch and the page at hand). */
const WORKER_OLD_SPACE_MB = 128;
const WORKER_YOUNG_SPACE_MB = 16;
/** How long `add` waits at most for a worker that makes no progress before it stops waiting. */
const STALL_MS = 10_000;

const RELEASE_STREAM_PREFIX = streams.release("");

const NEWLINE = 0x0a;
const OPEN_BRACKET = 0x5b;
const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;
const NONE = -1;

/**
 * Text written piece by piece as UTF-8 into a buffer that grows as needed, then handed over whole: the
 * pieces' strings die young instead of waiting for the batch in the heap.
 */
class Utf8Text {
  #bytes: Buffer;
  #length = 0;
  readonly #separator: number;
  readonly #open: number;
  readonly #close: number;

  /** Pieces joined by the `separator` byte; `open` and `close` (bytes, or NONE) around the whole. */
  constructor(capacity: number, separator: number, open = NONE, close = NONE) {
    this.#bytes = Buffer.allocUnsafeSlow(capacity);
    this.#separator = separator;
    this.#open = open;
    this.#close = close;
  }

  append(text: string): void {
    let bytes = this.#bytes;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; one byte before the piece, one for `close`.
    const needed = this.#length + 3 * text.length + 2;
    if (needed > bytes.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(needed, 2 * bytes.length));
      bytes.copy(larger, 0, 0, this.#length);
      bytes = larger;
      this.#bytes = larger;
    }
    if (this.#length > 0) bytes[this.#length++] = this.#separator;
    else if (this.#open !== NONE) bytes[this.#length++] = this.#open;
    this.#length += bytes.write(text, this.#length, "utf8");
  }

  /** The text so far (closed), in its own buffer to transfer; the next piece starts a new text. */
  take(): Uint8Array {
    const bytes = this.#bytes;
    let length = this.#length;
    if (length === 0 && this.#open !== NONE) bytes[length++] = this.#open;
    if (this.#close !== NONE) bytes[length++] = this.#close;
    this.#bytes = Buffer.allocUnsafeSlow(bytes.length);
    this.#length = 0;
    return bytes.subarray(0, length);
  }
}

export const AUDIT_PAGE_MAX = 500;
export const AUDIT_PAGE_DEFAULT = 50;

const parseFilterTime = (field: string, value: unknown): number => {
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw validation(field, `"${String(value)}" is not an ISO-8601 date-time`);
  return ms;
};

const checkFirst = (first: number | null | undefined): number => {
  if (first === undefined || first === null) return AUDIT_PAGE_DEFAULT;
  if (!Number.isInteger(first) || first < 1 || first > AUDIT_PAGE_MAX) {
    throw validation("first", `must be an integer between 1 and ${AUDIT_PAGE_MAX} (got ${String(first)})`);
  }
  return first;
};

/** An event as the contract's AuditEvent, from the event alone (the live path, and every page). */
export function toAuditEvent(event: RecordedEvent): AuditEvent {
  const placement = placementOf(event.stream);
  return {
    id: event.id,
    position: event.position,
    type: event.type,
    stream: event.stream,
    entityId: placement.entityId,
    projectId: projectOf(event.metadata, dataProjectOf(event.data), placement),
    actor: actorOf(event.metadata),
    at: new Date(eventTimeOf(event.metadata, event.recordedAt)).toISOString(),
    data: event.data ?? null,
  };
}

/**
 * A filter as a predicate over audit events: the same meaning as `query`'s filter, for the live path
 * (the `auditEvents` subscription tests each new event with it). VALIDATION for a bad time.
 */
export function compileAuditFilter(filter: AuditFilter | null | undefined): (event: AuditEvent) => boolean {
  if (!filter) return () => true;
  const from = filter.from ? parseFilterTime("filter.from", filter.from) : null;
  const to = filter.to ? parseFilterTime("filter.to", filter.to) : null;
  const types = filter.types && filter.types.length > 0 ? new Set(filter.types) : null;
  const { projectId, entityId, actor } = filter;
  return (event) => {
    if (projectId && event.projectId !== projectId) return false;
    if (entityId && event.entityId !== entityId) return false;
    if (types && !types.has(event.type)) return false;
    if (actor && event.actor !== actor) return false;
    if (from === null && to === null) return true;
    const at = Date.parse(event.at);
    return (from === null || at >= from) && (to === null || at <= to);
  };
}

/** What the main thread keeps per stream: its local number and whether a release's feature was sent. */
interface LocalStream {
  local: number;
  release: boolean;
  featureSent: boolean;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class AuditIndex {
  readonly #store: EventStore;
  readonly #worker: Worker;
  readonly #batchSize: number;
  /**
   * Strings handed to the worker get local numbers (the worker keeps the name dictionary): stream names,
   * event types, and the project and feature ids found in events' data. Bounded: past LOCAL_NAMES_MAX
   * names the numbering starts over (the next batch says so), so nothing here grows with the log.
   */
  readonly #localIds = new Map<string, number>();
  /** The next batch starts a new local numbering. */
  #resetNext = false;
  /** Event type → its local number: a few dozen entries, looked up for every event. */
  readonly #typeIds = new Map<string, number>();
  /** A project id found in events' data → its local number (few entries, looked up often). */
  readonly #projectIds = new Map<string, number>();
  readonly #streams = new Map<string, LocalStream>();
  // The batch being filled.
  #newNames: string[] = [];
  #ids: Int32Array;
  readonly #positions: Utf8Text;
  readonly #recordedAt: Utf8Text;
  /** The events' metadata, as a JSON array. */
  readonly #metadata: Utf8Text;
  #pendingCount = 0;
  /** Events handed to the worker, and (shared, [0]) how many it has indexed: the back-pressure. */
  #posted = 0;
  readonly #progress = new Int32Array(new SharedArrayBuffer(4));
  readonly #maxInFlight: number;
  readonly #localNamesMax: number;
  #stalled = false;
  #stalledAt = 0;
  readonly #requests = new Map<number, Pending>();
  #nextId = 1;
  #lastPosition: string | null = null;
  #count = 0;
  #failure: Error | null = null;
  #closed = false;
  /** Resolves once the index's database is open (`lastPosition` and `count` are then known). */
  readonly opened: Promise<void>;
  /** Resolves once `close()` has finished (database closed, worker ended). */
  readonly whenClosed: Promise<void>;
  #resolveClosed: (done: Promise<void>) => void = () => {};

  constructor(options: AuditIndexOptions) {
    this.#store = options.store;
    this.#batchSize = options.batchSize ?? 8192;
    this.#maxInFlight = BATCHES_IN_FLIGHT * this.#batchSize;
    this.#localNamesMax = options.localNamesMax ?? LOCAL_NAMES_MAX;
    this.#ids = new Int32Array(this.#batchSize * IDS_PER_EVENT);
    this.#positions = new Utf8Text(this.#batchSize * 24, NEWLINE);
    this.#recordedAt = new Utf8Text(this.#batchSize * 25, NEWLINE);
    this.#metadata = new Utf8Text(this.#batchSize * 256, COMMA, OPEN_BRACKET, CLOSE_BRACKET);
    this.#worker = new Worker(new URL("./audit-worker.ts", import.meta.url), {
      workerData: { path: options.path ?? ":memory:", progress: this.#progress, layout: options.layout },
      // Its live data is small and bounded (caches, a batch, a page): a bounded heap is collected sooner
      // instead of growing with the garbage of parsing the events it indexes.
      resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_SPACE_MB },
    });
    // Idle, the worker does not keep the process alive; a request in flight does (see #request).
    this.#worker.unref();
    this.opened = new Promise<void>((resolve, reject) => {
      this.#worker.on("message", (reply: AuditReply) => {
        if (reply.t === "opened") {
          this.#lastPosition = reply.lastPosition;
          this.#count = reply.count;
          resolve();
        } else if (reply.t === "failed") {
          this.#fail(new Error(`audit index: ${reply.message}`));
          reject(this.#failure);
        } else this.#settle(reply);
      });
      this.#worker.on("error", (error) => {
        this.#fail(error);
        reject(error);
      });
      this.#worker.on("exit", () => {
        if (!this.#closed) this.#fail(new Error("audit index worker exited"));
        reject(this.#failure ?? new Error("audit index closed"));
      });
    });
    this.opened.catch(() => {});
    this.whenClosed = new Promise<void>((resolve) => {
      this.#resolveClosed = (done) => {
        done.then(resolve, () => resolve());
      };
    });
  }

  #fail(error: Error): void {
    if (this.#failure !== null) return;
    this.#failure = error;
    for (const pending of this.#requests.values()) pending.reject(new DomainError("INTERNAL", error.message));
    this.#requests.clear();
  }

  #settle(reply: Extract<AuditReply, { t: "res" }>): void {
    const pending = this.#requests.get(reply.id);
    if (pending === undefined) return;
    this.#requests.delete(reply.id);
    if (this.#requests.size === 0) this.#worker.unref();
    if (reply.ok) pending.resolve(reply.value);
    else if (reply.unknownCursor) pending.reject(validation("after", reply.message));
    else pending.reject(new DomainError("INTERNAL", `audit index: ${reply.message}`));
  }

  #assertUsable(): void {
    if (this.#closed) throw new DomainError("INTERNAL", "audit index is closed");
    if (this.#failure !== null) throw new DomainError("INTERNAL", `audit index failed: ${this.#failure.message}`);
  }

  #request<T>(request: AuditRequest): Promise<T> {
    if (request.op !== "close") this.#assertUsable();
    this.flush();
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#requests.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.ref();
      this.#worker.postMessage({ t: "req", id, request } satisfies AuditMessage);
    });
  }

  /** Position of the last event added (null when empty). For a file-backed index, valid once `opened`. */
  get lastPosition(): string | null {
    return this.#lastPosition;
  }

  /** Events handed to the worker and not yet indexed: at most BATCHES_IN_FLIGHT batches (and one more). */
  get backlog(): number {
    return this.#posted - Atomics.load(this.#progress, 0);
  }

  /** Number of events held (added). For a file-backed index, valid once `opened`. */
  get count(): number {
    return this.#count;
  }

  #localId(name: string): number {
    let id = this.#localIds.get(name);
    if (id === undefined) {
      id = this.#localIds.size;
      this.#localIds.set(name, id);
      this.#newNames.push(name);
    }
    return id;
  }

  #projectLocalId(projectId: string): number {
    let id = this.#projectIds.get(projectId);
    if (id === undefined) {
      id = this.#localId(projectId);
      this.#projectIds.set(projectId, id);
    }
    return id;
  }

  /**
   * Adds one event (events must come in global order, each once). Handed to the worker in batches: this
   * thread only numbers the event's stream and type and passes its metadata on as JSON text — as stored,
   * for a StoredEvent (`readAllStored`), so nobody parses it here — and the worker works out the rest.
   */
  add(event: RecordedEvent | StoredEvent): void {
    if (this.#closed || this.#failure !== null) this.#assertUsable();
    if (this.#localIds.size >= this.#localNamesMax) this.#restartNumbering();
    let stream = this.#streams.get(event.stream);
    if (stream === undefined) {
      const release = event.stream.startsWith(RELEASE_STREAM_PREFIX);
      stream = { local: this.#localId(event.stream), release, featureSent: false };
      this.#streams.set(event.stream, stream);
    }
    let type = this.#typeIds.get(event.type);
    if (type === undefined) {
      type = this.#localId(event.type);
      this.#typeIds.set(event.type, type);
    }
    const { data } = event;
    const dataProject = dataProjectOf(data);
    let feature = -1;
    if (stream.release && !stream.featureSent) {
      // A release's events belong to its feature's history: ReleaseStarted names the feature.
      const featureId = dataFeatureOf(data);
      if (featureId !== null) {
        feature = this.#localId(featureId);
        stream.featureSent = true;
      }
    }
    const i = this.#pendingCount * IDS_PER_EVENT;
    const ids = this.#ids;
    ids[i] = stream.local;
    ids[i + 1] = type;
    ids[i + 2] = dataProject === null ? -1 : this.#projectLocalId(dataProject);
    ids[i + 3] = feature;
    this.#positions.append(event.position);
    this.#recordedAt.append(event.recordedAt);
    this.#metadata.append("metadataJson" in event ? event.metadataJson : (JSON.stringify(event.metadata) ?? "null"));
    this.#lastPosition = event.position;
    this.#count++;
    if (++this.#pendingCount >= this.#batchSize) this.flush();
  }

  /** Starts the local numbering over, from the next batch on. */
  #restartNumbering(): void {
    this.flush();
    this.#forgetNumbering();
    this.#resetNext = true;
  }

  #forgetNumbering(): void {
    this.#localIds.clear();
    this.#typeIds.clear();
    this.#projectIds.clear();
    this.#streams.clear();
    this.#newNames = [];
  }

  /** Hands the buffered events to the worker. */
  flush(): void {
    const count = this.#pendingCount;
    // (Names are numbered only for an event being added: no event, nothing to hand over.)
    if (count === 0 || this.#failure !== null) return;
    const batch: EventBatch = {
      names: this.#newNames,
      reset: this.#resetNext,
      ids: count === this.#batchSize ? this.#ids : this.#ids.slice(0, count * IDS_PER_EVENT),
      positions: this.#positions.take(),
      recordedAt: this.#recordedAt.take(),
      metadata: this.#metadata.take(),
    };
    this.#newNames = [];
    this.#resetNext = false;
    this.#pendingCount = 0;
    if (count === this.#batchSize) this.#ids = new Int32Array(this.#batchSize * IDS_PER_EVENT);
    this.#worker.postMessage({ t: "add", batch } satisfies AuditMessage, [
      batch.ids.buffer as ArrayBuffer,
      batch.positions.buffer as ArrayBuffer,
      batch.recordedAt.buffer as ArrayBuffer,
      batch.metadata.buffer as ArrayBuffer,
    ]);
    this.#posted += count;
    if (this.#posted - Atomics.load(this.#progress, 0) > this.#maxInFlight) this.#waitForWorker();
  }

  /**
   * Back-pressure: while a rebuild hands over batches faster than the worker indexes them, this thread
   * waits (blocked: `add` is synchronous) until at most BATCHES_IN_FLIGHT batches are queued, so the
   * queue's memory stays bounded whatever the length of the log. A worker that makes no progress for
   * STALL_MS is not waited for again until it does (its failure is reported by its events).
   */
  #waitForWorker(): void {
    const deadline = performance.now() + STALL_MS;
    let handled = Atomics.load(this.#progress, 0);
    if (this.#stalled) {
      if (handled === this.#stalledAt) return;
      this.#stalled = false;
    }
    while (this.#posted - handled > this.#maxInFlight) {
      const left = deadline - performance.now();
      if (left <= 0 || this.#closed) {
        this.#stalled = true;
        this.#stalledAt = handled;
        return;
      }
      Atomics.wait(this.#progress, 0, handled, left);
      handled = Atomics.load(this.#progress, 0);
    }
  }

  /** Resolves once the worker has indexed everything added so far (and built any deferred index). */
  async finishBulkLoad(): Promise<void> {
    await this.#request({ op: "finishBulkLoad" });
  }

  /** Resolves once the worker has indexed everything added so far. */
  async sync(): Promise<void> {
    await this.#request({ op: "sync" });
  }

  /**
   * One page of the audit log, newest first unless `order: "ASC"`. VALIDATION for `first` outside
   * 1..500, a bad order or time, or an unknown cursor.
   */
  async query(args: AuditQuery = {}): Promise<AuditConnection> {
    const first = checkFirst(args.first);
    const order: SortOrder = args.order ?? "DESC";
    if (order !== "ASC" && order !== "DESC") throw validation("order", `must be ASC or DESC (got ${String(order)})`);
    const filter = args.filter ?? {};
    const tableFilter: TableFilter = {
      projectId: filter.projectId ?? null,
      entityId: filter.entityId ?? null,
      types: filter.types ?? null,
      actor: filter.actor ?? null,
      fromMs: filter.from ? parseFilterTime("filter.from", filter.from) : null,
      toMs: filter.to ? parseFilterTime("filter.to", filter.to) : null,
    };
    const after = args.after ?? null;
    if (after === "") throw validation("after", 'unknown cursor ""');
    const rows = await this.#request<TableRow[]>({
      op: "query",
      query: { filter: tableFilter, order, limit: first + 1, after },
    });
    return this.#page(rows, first);
  }

  /**
   * Feature.history: the feature's own events and the events of its releases, newest first. For any other
   * entity id: that entity's own events. VALIDATION for a bad `first` or an unknown cursor.
   */
  async historyOf(entityId: string, page: PageArgs = {}): Promise<AuditConnection> {
    const first = checkFirst(page.first);
    const after = page.after ?? null;
    if (after === "") throw validation("after", 'unknown cursor ""');
    const rows = await this.#request<TableRow[]>({ op: "history", entityId, after, limit: first + 1 });
    return this.#page(rows, first);
  }

  /** The audit event at `position`, or null when the index has none there. */
  async event(position: string): Promise<AuditEvent | null> {
    const row = await this.#request<TableRow | null>({ op: "row", position });
    if (row === null) return null;
    const { edges } = await this.#page([row], 1);
    return edges[0]?.node ?? null;
  }

  /**
   * The position of the latest event at or before `time` (by event time; ties: the later in the log), or
   * null when every event is later. Turns an `at` into a `position`.
   */
  async positionAt(time: string): Promise<string | null> {
    const ms = parseFilterTime("at", time);
    return this.#request<string | null>({ op: "positionAt", ms });
  }

  /** Reads the rows' events back from the log — one read per run of consecutive events — and builds the page. */
  async #page(rows: TableRow[], first: number): Promise<AuditConnection> {
    const hasNextPage = rows.length > first;
    const page = hasNextPage ? rows.slice(0, first) : rows;
    const ascending = [...page].sort((a, b) => a.seq - b.seq);
    const runs: { before: string | null; count: number; start: number }[] = [];
    let previous = Number.NaN;
    for (const row of ascending) {
      const run = runs[runs.length - 1];
      if (run !== undefined && row.seq === previous + 1) run.count++;
      else runs.push({ before: row.before, count: 1, start: row.seq });
      previous = row.seq;
    }
    const bySeq = new Map<number, RecordedEvent>();
    await Promise.all(
      runs.map(async (run) => {
        const events = await this.#store.readAll({
          ...(run.before === null ? {} : { after: run.before }),
          maxCount: run.count,
        });
        events.forEach((event, i) => {
          bySeq.set(run.start + i, event);
        });
      }),
    );
    const edges: AuditEdge[] = page.map((row) => {
      const event = bySeq.get(row.seq);
      if (event === undefined || event.position !== row.position) {
        throw new DomainError("INTERNAL", `the event at position ${row.position} is missing from the event store`);
      }
      return {
        cursor: row.position,
        node: {
          ...toAuditEvent(event),
          entityId: row.entityId,
          projectId: row.projectId,
          actor: row.actor,
          at: new Date(row.at).toISOString(),
        },
      };
    });
    return { edges, pageInfo: { hasNextPage, endCursor: page[page.length - 1]?.position ?? null } };
  }

  /** An event as an audit event node, without storing it: for the live path (subscriptions). */
  toAuditEvent(event: RecordedEvent): AuditEvent {
    return toAuditEvent(event);
  }

  /** Drops every row (for a rebuild from the log). */
  async clear(): Promise<void> {
    const cleared = this.#request({ op: "clear" });
    // The worker forgets the local numbers when it clears: events added from now on are numbered afresh.
    this.#forgetNumbering();
    this.#resetNext = false;
    this.#lastPosition = null;
    this.#count = 0;
    await cleared;
  }

  /**
   * Writes what is buffered, closes the database and ends the worker; `whenClosed` resolves when done.
   * Returns at once (no need to await): queries made after it fail.
   */
  close(): void {
    if (this.#closed) return;
    const worker = this.#worker;
    if (this.#failure !== null) {
      this.#closed = true;
      this.#resolveClosed(worker.terminate().then(() => undefined));
      return;
    }
    this.flush();
    const done = this.opened
      .then(() => this.#request({ op: "close" }))
      .catch(() => undefined)
      .then(() => worker.terminate())
      .then(() => undefined);
    this.#closed = true;
    this.#resolveClosed(done);
  }
}

export const createAuditIndex = (options: AuditIndexOptions): AuditIndex => {
  if (options.path !== undefined && (typeof options.path !== "string" || options.path === "")) {
    throw new DomainError("VALIDATION", "path: the audit index needs a file path or :memory:", "path");
  }
  return new AuditIndex(options);
};

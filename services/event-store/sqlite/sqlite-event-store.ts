// Embedded event store on node:sqlite (built into Node 24): one `events` table whose INTEGER PRIMARY KEY is
// the global position. SQLite serialises writers, so positions become visible in commit order and a reader
// that has seen position p has seen every position below it — the property catch-up subscriptions need.
// See docs/decisions/0002-embedded-event-store.md.

import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { DomainError, validation } from "../../core/errors.ts";
import type {
  AppendResult,
  EventMetadata,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StoredEvent,
  SubscribeOptions,
  Subscription,
} from "../port.ts";
import {
  asError,
  assertEventsToAppend,
  assertExpectedRevision,
  assertFromRevision,
  assertMaxCount,
  assertStreamName,
  compileFilter,
  conflict,
  expectedRevisionMatches,
  reportUnhandled,
  toJson,
} from "../shared.ts";

export interface SqliteEventStoreOptions {
  /** File path, or `:memory:` (one private database per store instance; for tests). */
  path: string;
  /**
   * `FULL` (default): an acknowledged append survives power loss. `NORMAL`: survives a process crash but the
   * last transactions may be lost on power loss (SQLite WAL semantics). See the decision note.
   */
  synchronous?: "FULL" | "NORMAL";
  /** How often live subscriptions look for appends made by other processes (ms, default 50). */
  pollIntervalMs?: number;
  /** How long an append waits for another process's write lock before failing (ms, default 5000). */
  busyTimeoutMs?: number;
}

const SCHEMA_VERSION = 1;
const POSITION_DIGITS = 20;
const PAGE_SIZE = 512;
const MAX_SQLITE_INTEGER = 9_223_372_036_854_775_807n;

/** The events table. Exported so bench/store.ts's raw reference inserts into exactly this shape. */
export const EVENTS_TABLE_SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY,
  stream      TEXT    NOT NULL,
  revision    INTEGER NOT NULL,
  id          TEXT    NOT NULL UNIQUE,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL,
  recorded_at TEXT    NOT NULL,
  UNIQUE (stream, revision)
) STRICT;
`;

/**
 * A row as the read statements return it: an array (`setReturnArrays`), not an object with named keys,
 * and plain numbers (`setReadBigInts(false)`): the cheapest shape node:sqlite can hand over. The
 * statements select exactly these columns, in this order.
 */
type EventRow = [
  position: number,
  stream: string,
  revision: number,
  id: string,
  type: string,
  data: string,
  metadata: string,
  recordedAt: string,
];

const ROW_COLUMNS = "position, stream, revision, id, type, data, metadata, recorded_at";
const POSITION = 0;
const STREAM = 1;
const REVISION = 2;
const ID = 3;
const TYPE = 4;
const DATA = 5;
const METADATA = 6;
const RECORDED_AT = 7;

interface IdRow {
  position: number;
  stream: string;
  revision: number;
}

const ZEROS = "0".repeat(POSITION_DIGITS);

/** Zero-padded 20-digit decimal: string order is numeric order. */
export const formatSqlitePosition = (position: number | bigint): string => {
  const digits = String(position);
  return digits.length >= POSITION_DIGITS ? digits : ZEROS.slice(digits.length) + digits;
};

const parsePosition = (position: string, field: string): number => {
  if (typeof position !== "string" || !/^\d{1,20}$/.test(position)) {
    throw validation(field, `"${String(position)}" is not a position of the embedded event store`);
  }
  const value = BigInt(position);
  // Rowids never get near 2^53; a larger position is simply past the end of the log.
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
};

/** Revisions as bigints, made once: most events sit near the start of their stream. */
const REVISIONS: readonly bigint[] = Array.from({ length: 4096 }, (_, i) => BigInt(i));

const toRevision = (revision: number): bigint => REVISIONS[revision] ?? BigInt(revision);

const toRecorded = (row: EventRow): RecordedEvent => ({
  id: row[ID],
  stream: row[STREAM],
  revision: toRevision(row[REVISION]),
  position: formatSqlitePosition(row[POSITION]),
  type: row[TYPE],
  data: JSON.parse(row[DATA]),
  metadata: JSON.parse(row[METADATA]) as EventMetadata,
  recordedAt: row[RECORDED_AT],
});

/** A row as a StoredEvent: metadata stays JSON text. */
const toStored = (row: EventRow): StoredEvent => ({
  id: row[ID],
  stream: row[STREAM],
  revision: toRevision(row[REVISION]),
  position: formatSqlitePosition(row[POSITION]),
  type: row[TYPE],
  data: JSON.parse(row[DATA]),
  metadataJson: row[METADATA],
  recordedAt: row[RECORDED_AT],
});

/** Rows to recorded events, in a preallocated array (the read paths return thousands at a time). */
const toRecordedAll = (rows: readonly EventRow[]): RecordedEvent[] => {
  const events = new Array<RecordedEvent>(rows.length);
  for (let i = 0; i < rows.length; i++) events[i] = toRecorded(rows[i] as EventRow);
  return events;
};

/** A read statement that returns rows as `EventRow` arrays with numbers, not objects with bigints. */
const prepareRows = (db: DatabaseSync, sql: string): StatementSync => {
  const statement = db.prepare(sql);
  statement.setReturnArrays(true);
  statement.setReadBigInts(false);
  return statement;
};

const isUniqueIdViolation = (error: unknown): boolean =>
  error instanceof Error && /UNIQUE constraint failed: events\.id/.test(error.message);

// In-process wake-ups: every store instance on the same file hears about appends made by the others at
// once; other processes are noticed by polling `PRAGMA data_version`.
const wakersByFile = new Map<string, Set<() => void>>();

/** Marks the subscription whose handler is running, so `close()` called from inside a handler cannot deadlock. */
const delivering = new AsyncLocalStorage<SqliteSubscription>();

class SqliteSubscription implements Subscription {
  readonly #store: SqliteEventStore;
  readonly #options: SubscribeOptions;
  readonly #match: (stream: string, type: string) => boolean;
  #after: number;
  #closed = false;
  #pending = false;
  #wake: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(store: SqliteEventStore, options: SubscribeOptions) {
    this.#store = store;
    this.#options = options;
    this.#match = compileFilter(options.filter);
    this.#after = options.after === undefined ? 0 : parsePosition(options.after, "after");
    this.done = this.#run();
  }

  notify(): void {
    this.#pending = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.notify();
    // Called from inside this subscription's own handler: the loop cannot finish before the handler does.
    if (delivering.getStore() === this) return;
    await this.done;
  }

  async #run(): Promise<void> {
    // Start on a later tick so `subscribeToAll` returns before the first delivery.
    await Promise.resolve();
    let caughtUp = false;
    try {
      while (!this.#closed) {
        this.#pending = false;
        const rows = this.#store.readRowsAfter(this.#after, PAGE_SIZE);
        for (const row of rows) {
          if (this.#closed) return;
          this.#after = row[POSITION];
          if (this.#match(row[STREAM], row[TYPE])) {
            const event = toRecorded(row);
            // A synchronous handler is not awaited: a microtask hop per event is most of a catch-up's cost.
            const handled = delivering.run(this, () => this.#options.onEvent(event));
            if (handled !== undefined) await handled;
          }
        }
        if (rows.length < PAGE_SIZE && !this.#closed) {
          if (!caughtUp) {
            caughtUp = true;
            this.#options.onCaughtUp?.();
          }
          if (!this.#pending && !this.#closed) await new Promise<void>((wake) => (this.#wake = wake));
        } else {
          // A full page: more history to deliver. Let the event loop run (timers, I/O, a close()) between
          // pages, as synchronous handlers are not awaited one by one.
          await yieldToEventLoop();
        }
      }
    } catch (error) {
      if (this.#closed) return;
      this.#closed = true;
      if (this.#options.onError) this.#options.onError(asError(error));
      else reportUnhandled(error, "event store subscription stopped");
    } finally {
      this.#closed = true;
      this.#store.forget(this);
    }
  }
}

export class SqliteEventStore implements EventStore {
  readonly #db: DatabaseSync;
  readonly #fileKey: string;
  readonly #pollIntervalMs: number;
  readonly #subscriptions = new Set<SqliteSubscription>();
  readonly #wakeAll = (): void => {
    for (const subscription of this.#subscriptions) subscription.notify();
  };
  #poller: NodeJS.Timeout | undefined;
  #dataVersion = 0;
  #closed = false;

  readonly #begin: StatementSync;
  readonly #commit: StatementSync;
  readonly #rollback: StatementSync;
  readonly #streamHead: StatementSync;
  readonly #insert: StatementSync;
  readonly #byId: StatementSync;
  readonly #streamForwards: StatementSync;
  readonly #streamBackwards: StatementSync;
  readonly #allForwards: StatementSync;
  readonly #allBackwards: StatementSync;
  readonly #headPosition: StatementSync;
  readonly #dataVersionStmt: StatementSync;
  readonly #ping: StatementSync;

  constructor(options: SqliteEventStoreOptions) {
    const memory = options.path === ":memory:";
    this.#fileKey = memory ? `:memory:${randomUUID()}` : resolve(options.path);
    this.#pollIntervalMs = options.pollIntervalMs ?? 50;
    const db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    this.#db = db;
    try {
      if (!memory) db.exec("PRAGMA journal_mode = WAL");
      db.exec(`PRAGMA synchronous = ${options.synchronous === "NORMAL" ? "NORMAL" : "FULL"}`);
      this.#migrate();
    } catch (error) {
      db.close();
      throw error;
    }

    this.#begin = db.prepare("BEGIN IMMEDIATE");
    this.#commit = db.prepare("COMMIT");
    this.#rollback = db.prepare("ROLLBACK");
    this.#streamHead = db.prepare("SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1");
    this.#insert = db.prepare(
      "INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.#byId = db.prepare("SELECT position, stream, revision FROM events WHERE id = ?");
    this.#streamForwards = prepareRows(
      db,
      `SELECT ${ROW_COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`,
    );
    this.#streamBackwards = prepareRows(
      db,
      `SELECT ${ROW_COLUMNS} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
    );
    this.#allForwards = prepareRows(
      db,
      `SELECT ${ROW_COLUMNS} FROM events WHERE position > ? ORDER BY position ASC LIMIT ?`,
    );
    this.#allBackwards = prepareRows(
      db,
      `SELECT ${ROW_COLUMNS} FROM events WHERE position < ? ORDER BY position DESC LIMIT ?`,
    );
    this.#headPosition = db.prepare("SELECT max(position) AS position FROM events");
    this.#dataVersionStmt = db.prepare("PRAGMA data_version");
    this.#ping = db.prepare("SELECT 1 AS ok");
  }

  #migrate(): void {
    const version = Number((this.#db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new Error(`events database has schema version ${version}; this build supports ${SCHEMA_VERSION}`);
    }
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#db.exec(EVENTS_TABLE_SCHEMA);
      this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("event store is closed");
  }

  async append(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    return this.appendSync(stream, events, expected);
  }

  /** The whole append runs synchronously inside one write transaction (no await while the lock is held). */
  appendSync(stream: string, events: readonly EventToAppend[], expected: ExpectedRevision): AppendResult {
    this.#assertOpen();
    assertStreamName(stream);
    assertExpectedRevision(expected);
    assertEventsToAppend(events);
    const count = events.length;
    const rows = new Array<string>(count * 2);
    for (let i = 0; i < count; i++) {
      const event = events[i] as EventToAppend;
      rows[i * 2] = toJson(event.data ?? null, `events[${i}].data`);
      rows[i * 2 + 1] = toJson(event.metadata, `events[${i}].metadata`);
    }
    const recordedAt = new Date().toISOString();

    this.#begin.run();
    let actual: bigint | null = null;
    let result: AppendResult;
    try {
      const head = this.#streamHead.get(stream) as { revision: number } | undefined;
      actual = head === undefined ? null : BigInt(head.revision);
      if (!expectedRevisionMatches(expected, actual)) {
        const original = this.#idempotentResult(stream, events, expected);
        this.#rollback.run();
        if (original !== undefined) return original;
        throw conflict(stream, expected, actual);
      }
      let revision = head === undefined ? 0 : head.revision + 1;
      let position: number | bigint = 0;
      for (let i = 0; i < count; i++) {
        const event = events[i] as EventToAppend;
        position = this.#insert.run(
          stream,
          revision++,
          event.id.toLowerCase(),
          event.type,
          rows[i * 2] as string,
          rows[i * 2 + 1] as string,
          recordedAt,
        ).lastInsertRowid;
      }
      this.#commit.run();
      result = { nextExpectedRevision: BigInt(revision - 1), position: formatSqlitePosition(position) };
    } catch (error) {
      if (this.#db.isTransaction) this.#rollback.run();
      if (!isUniqueIdViolation(error)) throw error;
      // Some id of the batch is already stored: a retry of an earlier append, or a conflicting reuse.
      const original = this.#idempotentResult(stream, events, expected);
      if (original !== undefined) return original;
      throw conflict(stream, expected, actual, "some event ids of this append are already stored elsewhere");
    }
    const wakers = wakersByFile.get(this.#fileKey);
    if (wakers !== undefined) for (const wake of wakers) wake();
    return result;
  }

  /**
   * EventStoreDB's idempotency: when every id of the batch is already stored, in order, contiguously, on this
   * stream, and at the place `expected` points to, the append already happened; return its original result.
   */
  #idempotentResult(
    stream: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): AppendResult | undefined {
    let first: IdRow | undefined;
    let last: IdRow | undefined;
    for (let i = 0; i < events.length; i++) {
      const row = this.#byId.get((events[i] as EventToAppend).id.toLowerCase()) as IdRow | undefined;
      if (row === undefined || row.stream !== stream) return undefined;
      if (first === undefined) first = row;
      else if (row.revision !== first.revision + i) return undefined;
      last = row;
    }
    if (first === undefined || last === undefined) return undefined;
    if (expected === "no_stream" && first.revision !== 0) return undefined;
    if (typeof expected === "bigint" && BigInt(first.revision) !== expected + 1n) return undefined;
    return { nextExpectedRevision: BigInt(last.revision), position: formatSqlitePosition(last.position) };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.#assertOpen();
    assertStreamName(stream);
    assertFromRevision(options.fromRevision);
    assertMaxCount(options.maxCount);
    const limit = options.maxCount ?? -1;
    if (limit === 0) return [];
    const backwards = options.direction === "backwards";
    let from = options.fromRevision;
    if (from !== undefined && from > MAX_SQLITE_INTEGER) {
      if (!backwards) return [];
      from = undefined;
    }
    const rows = backwards
      ? this.#streamBackwards.all(stream, from ?? MAX_SQLITE_INTEGER, limit)
      : this.#streamForwards.all(stream, from ?? 0, limit);
    return toRecordedAll(rows as unknown as EventRow[]);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.#assertOpen();
    assertMaxCount(options.maxCount);
    const limit = options.maxCount ?? -1;
    if (limit === 0) return [];
    const rows =
      options.direction === "backwards"
        ? this.#allBackwards.all(
            options.after === undefined ? Number.MAX_SAFE_INTEGER : parsePosition(options.after, "after"),
            limit,
          )
        : this.#allForwards.all(options.after === undefined ? 0 : parsePosition(options.after, "after"), limit);
    return toRecordedAll(rows as unknown as EventRow[]);
  }

  async readAllStored(options: { after?: string; maxCount?: number } = {}): Promise<StoredEvent[]> {
    this.#assertOpen();
    assertMaxCount(options.maxCount);
    const limit = options.maxCount ?? -1;
    if (limit === 0) return [];
    const rows = this.#allForwards.all(
      options.after === undefined ? 0 : parsePosition(options.after, "after"),
      limit,
    ) as unknown as EventRow[];
    const events = new Array<StoredEvent>(rows.length);
    for (let i = 0; i < rows.length; i++) events[i] = toStored(rows[i] as EventRow);
    return events;
  }

  /** For subscriptions: raw rows strictly after `position`, in order. */
  readRowsAfter(position: number, limit: number): EventRow[] {
    if (this.#closed) return [];
    return this.#allForwards.all(position, limit) as unknown as EventRow[];
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    this.#assertOpen();
    if (typeof options.onEvent !== "function") throw validation("onEvent", "must be a function");
    const subscription = new SqliteSubscription(this, options);
    if (this.#subscriptions.size === 0) this.#startWatching();
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** Called by a subscription when its loop ends. */
  forget(subscription: SqliteSubscription): void {
    this.#subscriptions.delete(subscription);
    if (this.#subscriptions.size === 0) this.#stopWatching();
  }

  #startWatching(): void {
    let wakers = wakersByFile.get(this.#fileKey);
    if (wakers === undefined) {
      wakers = new Set();
      wakersByFile.set(this.#fileKey, wakers);
    }
    wakers.add(this.#wakeAll);
    this.#dataVersion = this.#readDataVersion();
    this.#poller = setInterval(() => {
      if (this.#closed) return;
      const version = this.#readDataVersion();
      if (version !== this.#dataVersion) {
        this.#dataVersion = version;
        this.#wakeAll();
      }
    }, this.#pollIntervalMs);
    this.#poller.unref();
  }

  #stopWatching(): void {
    if (this.#poller !== undefined) clearInterval(this.#poller);
    this.#poller = undefined;
    const wakers = wakersByFile.get(this.#fileKey);
    wakers?.delete(this.#wakeAll);
    if (wakers?.size === 0) wakersByFile.delete(this.#fileKey);
  }

  /** Changes whenever another connection (in this or another process) commits to the file. */
  #readDataVersion(): number {
    return Number((this.#dataVersionStmt.get() as { data_version: number }).data_version);
  }

  /** The connection's journal mode and synchronous level (0 OFF, 1 NORMAL, 2 FULL), for checks and diagnostics. */
  settings(): { journalMode: string; synchronous: number } {
    this.#assertOpen();
    const journal = this.#db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    const synchronous = this.#db.prepare("PRAGMA synchronous").get() as { synchronous: number };
    return { journalMode: journal.journal_mode, synchronous: Number(synchronous.synchronous) };
  }

  comparePositions(a: string, b: string): number {
    const left = parsePosition(a, "position");
    const right = parsePosition(b, "position");
    return left < right ? -1 : left > right ? 1 : 0;
  }

  async headPosition(): Promise<string | null> {
    this.#assertOpen();
    const row = this.#headPosition.get() as { position: number | null };
    return row.position === null ? null : formatSqlitePosition(row.position);
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    this.#ping.get();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    this.#closed = true;
    this.#stopWatching();
    this.#db.close();
  }
}

export const createSqliteEventStore = (options: SqliteEventStoreOptions): SqliteEventStore => {
  if (typeof options.path !== "string" || options.path.length === 0) {
    throw new DomainError("VALIDATION", "path: the embedded event store needs a file path or :memory:", "path");
  }
  return new SqliteEventStore(options);
};

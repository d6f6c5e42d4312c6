// The audit log index: an index over the stored events, in log order, in a node:sqlite table with an index
// per filter of the contract's AuditFilter. Fed by the projection runner; queried by `auditLog` and
// `Feature.history`. See docs/decisions/0006-audit-index.md.
//
// - It indexes, it does not copy: a row holds the event's seq, position and filter columns (small integers
//   from a name dictionary, and the time in epoch ms). A page's payloads (id, type, stream, data) are read
//   back from the log by position — the log stays the one place an event's data lives, a million-event
//   index stays around a hundred bytes per event instead of a kilobyte, and a rebuild writes little.
// - Keyset pagination on the local monotonic `seq` (the order in which the runner applied events = global
//   order), never OFFSET, so a deep page costs what the first costs. Cursors are the events' global
//   positions (opaque to clients, and usable in featureAsOf & co.); a cursor is found by binary search over
//   seq with the store's position comparator.
// - Writes are buffered and flushed in one transaction per batch; every read flushes first, so what the
//   runner has applied is visible to the next query (read-your-writes holds with `runner.waitFor`).
// - An empty index is bulk-loaded without its secondary indexes, which are built once when the runner has
//   caught up (`finishBulkLoad`): building an index over a million rows at once is several times cheaper
//   than maintaining it row by row.

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { DomainError, isDomainError, validation } from "../core/errors.ts";
import { type EntityKind, streams } from "../core/event.ts";
import type { EventStore, RecordedEvent } from "../event-store/port.ts";

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

export interface AuditIndexOptions {
  /** The log the index is built from: pages read their events' payloads back from it. */
  store: EventStore;
  /** File path, or `:memory:` (default). */
  path?: string;
  /** Rows buffered before a write transaction is forced (default 4000). */
  batchSize?: number;
}

export const AUDIT_PAGE_MAX = 500;
export const AUDIT_PAGE_DEFAULT = 50;

const SCHEMA_VERSION = 4;

const TABLES = `
CREATE TABLE IF NOT EXISTS audit_names (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS audit_events (
  seq      INTEGER PRIMARY KEY,
  position TEXT    NOT NULL,
  type     INTEGER NOT NULL,
  entity   INTEGER NOT NULL,
  project  INTEGER,
  history  INTEGER NOT NULL,
  actor    INTEGER NOT NULL,
  at       INTEGER NOT NULL
) STRICT;
`;

// A secondary index holds the rowid, so (column) is (column, seq): an equality filter plus `seq < ?`
// ORDER BY seq is one index range scan. `history` is the entity whose history an event belongs to (a
// release's events belong to its feature); the entity filter uses it too (history = H AND entity = E),
// which spares a sixth index.
const INDEXES = `
CREATE INDEX IF NOT EXISTS audit_project ON audit_events (project);
CREATE INDEX IF NOT EXISTS audit_history ON audit_events (history);
CREATE INDEX IF NOT EXISTS audit_type ON audit_events (type);
CREATE INDEX IF NOT EXISTS audit_actor ON audit_events (actor);
CREATE INDEX IF NOT EXISTS audit_at ON audit_events (at);
`;

const DROP_INDEXES = ["audit_project", "audit_history", "audit_type", "audit_actor", "audit_at"]
  .map((name) => `DROP INDEX IF EXISTS ${name};`)
  .join(" ");

interface IndexRow {
  seq: number;
  position: string;
  entity: number;
  project: number | null;
  actor: number;
  at: number;
}

const FIELDS_PER_ROW = 8;

const KIND_BY_PREFIX = new Map<string, EntityKind>(
  (Object.keys(streams) as EntityKind[]).map((kind) => [streams[kind]("").slice(0, -1), kind]),
);

const parseFilterTime = (field: string, value: unknown): number => {
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw validation(field, `"${String(value)}" is not an ISO-8601 date-time`);
  return ms;
};

const eventTime = (event: RecordedEvent): number => {
  const occurred = event.metadata?.occurredAt;
  let ms = typeof occurred === "string" ? Date.parse(occurred) : Number.NaN;
  if (Number.isNaN(ms)) ms = Date.parse(event.recordedAt);
  return Number.isNaN(ms) ? 0 : ms;
};

const checkFirst = (first: number | null | undefined): number => {
  if (first === undefined || first === null) return AUDIT_PAGE_DEFAULT;
  if (!Number.isInteger(first) || first < 1 || first > AUDIT_PAGE_MAX) {
    throw validation("first", `must be an integer between 1 and ${AUDIT_PAGE_MAX} (got ${String(first)})`);
  }
  return first;
};

const stringOf = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

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

export class AuditIndex {
  readonly #db: DatabaseSync;
  readonly #store: EventStore;
  readonly #batchSize: number;
  /** Flat row values waiting for the next write transaction. */
  #pending: (string | number | null)[] = [];
  #pendingCount = 0;
  /** Names added since the last flush: [id, name, id, name, …]. */
  #pendingNames: (string | number)[] = [];
  readonly #nameIds = new Map<string, number>();
  readonly #names: string[] = [""];
  /** stream → its entity's name id and kind. */
  readonly #streamInfo = new Map<string, { entity: number; kind: EntityKind | null }>();
  /** entity name id → history name id (a release → its feature). */
  readonly #historyOf = new Map<number, number>();
  /** entity name id → project name id, for events whose metadata lacks the project. */
  readonly #projectOf = new Map<number, number>();
  /** Recently served cursors → seq: the next page usually starts at the last page's end. */
  readonly #cursorSeq = new Map<string, number>();
  #lastPosition: string | null;
  #lastSeq: number;
  #indexed: boolean;
  readonly #statements = new Map<string, StatementSync>();
  readonly #insert: StatementSync;
  readonly #insertName: StatementSync;
  readonly #atSeq: StatementSync;
  readonly #positionOf: StatementSync;
  readonly #positionAt: StatementSync;
  #closed = false;

  constructor(options: AuditIndexOptions) {
    const path = options.path ?? ":memory:";
    this.#store = options.store;
    this.#batchSize = options.batchSize ?? 4000;
    const db = new DatabaseSync(path);
    this.#db = db;
    try {
      if (path !== ":memory:") {
        db.exec("PRAGMA journal_mode = WAL");
        // A projection: losing the last transactions on power loss only means re-reading them from the log.
        db.exec("PRAGMA synchronous = NORMAL");
      } else {
        // Nothing to recover in memory: a failed batch means rebuilding from the log anyway.
        db.exec("PRAGMA journal_mode = OFF");
      }
      db.exec("PRAGMA temp_store = MEMORY");
      // Room to sort while the indexes are built after a bulk load.
      db.exec("PRAGMA cache_size = -131072");
      this.#migrate();
    } catch (error) {
      db.close();
      throw error;
    }
    for (const row of db.prepare("SELECT id, name FROM audit_names ORDER BY id").all() as {
      id: number;
      name: string;
    }[]) {
      this.#names[row.id] = row.name;
      this.#nameIds.set(row.name, row.id);
    }
    const head = db.prepare("SELECT position, seq FROM audit_events ORDER BY seq DESC LIMIT 1").get() as
      | { position: string; seq: number }
      | undefined;
    this.#lastPosition = head?.position ?? null;
    this.#lastSeq = head?.seq ?? 0;
    this.#indexed = head !== undefined;
    if (this.#indexed) {
      db.exec(INDEXES);
      for (const row of db
        .prepare("SELECT entity, max(history) AS history FROM audit_events WHERE history <> entity GROUP BY entity")
        .all() as { entity: number; history: number }[]) {
        this.#historyOf.set(row.entity, row.history);
      }
      for (const row of db
        .prepare("SELECT entity, max(project) AS project FROM audit_events WHERE project IS NOT NULL GROUP BY entity")
        .all() as { entity: number; project: number }[]) {
        this.#projectOf.set(row.entity, row.project);
      }
    }
    this.#insert = db.prepare(
      "INSERT INTO audit_events (seq, position, type, entity, project, history, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.#insertName = db.prepare("INSERT INTO audit_names (id, name) VALUES (?, ?)");
    this.#atSeq = db.prepare("SELECT seq, position FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT 1");
    this.#positionOf = db.prepare("SELECT position FROM audit_events WHERE seq = ?");
    this.#positionAt = db.prepare("SELECT position FROM audit_events WHERE at <= ? ORDER BY at DESC, seq DESC LIMIT 1");
  }

  #migrate(): void {
    const version = Number((this.#db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new Error(`audit index has schema version ${version}; this build supports ${SCHEMA_VERSION}`);
    }
    // A projection: an older layout is dropped and rebuilt from the log, never migrated in place.
    this.#db.exec(
      "DROP TABLE IF EXISTS audit_events; DROP TABLE IF EXISTS audit_payloads; DROP TABLE IF EXISTS audit_names;",
    );
    this.#db.exec(TABLES);
    this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }

  /** Position of the last event held (stored or buffered), or null when empty. */
  get lastPosition(): string | null {
    return this.#lastPosition;
  }

  /** Number of events held. */
  get count(): number {
    return this.#lastSeq;
  }

  #nameId(name: string): number {
    let id = this.#nameIds.get(name);
    if (id === undefined) {
      id = this.#names.length;
      this.#names.push(name);
      this.#nameIds.set(name, id);
      this.#pendingNames.push(id, name);
    }
    return id;
  }

  #stream(stream: string): { entity: number; kind: EntityKind | null } {
    let info = this.#streamInfo.get(stream);
    if (info === undefined) {
      const dash = stream.indexOf("-");
      const kind = (dash < 0 ? undefined : KIND_BY_PREFIX.get(stream.slice(0, dash))) ?? null;
      info = { entity: this.#nameId(kind === null ? stream : stream.slice(dash + 1)), kind };
      this.#streamInfo.set(stream, info);
    }
    return info;
  }

  /** Adds one event (in global order). Buffered: written with the next batch, or before the next read. */
  add(event: RecordedEvent): void {
    this.#assertOpen();
    const { entity, kind } = this.#stream(event.stream);
    const data = event.data as Record<string, unknown> | null;
    let project = this.#projectOf.get(entity);
    if (project === undefined) {
      const name =
        stringOf(event.metadata?.projectId) ??
        (data !== null && typeof data === "object" ? stringOf(data.projectId) : null) ??
        (kind === "project" ? this.#names[entity] : null);
      if (name !== null && name !== undefined) {
        project = this.#nameId(name);
        this.#projectOf.set(entity, project);
      }
    }
    let history = this.#historyOf.get(entity);
    if (history === undefined) {
      history = entity;
      // A release's events belong to its feature's history (Feature.history).
      const featureId =
        kind === "release" && data !== null && typeof data === "object" ? stringOf(data.featureId) : null;
      if (featureId !== null) {
        history = this.#nameId(featureId);
        this.#historyOf.set(entity, history);
      }
    }
    this.#pending.push(
      ++this.#lastSeq,
      event.position,
      this.#nameId(event.type),
      entity,
      project ?? null,
      history,
      this.#nameId(stringOf(event.metadata?.actor) ?? "system"),
      eventTime(event),
    );
    this.#pendingCount++;
    this.#lastPosition = event.position;
    if (this.#pendingCount >= this.#batchSize) this.flush();
  }

  /** Writes buffered events in one transaction. */
  flush(): void {
    if (this.#closed || (this.#pendingCount === 0 && this.#pendingNames.length === 0)) return;
    const rows = this.#pending;
    const names = this.#pendingNames;
    const insert = this.#insert;
    this.#pending = [];
    this.#pendingNames = [];
    this.#pendingCount = 0;
    this.#db.exec("BEGIN");
    try {
      for (let i = 0; i < names.length; i += 2) this.#insertName.run(names[i] as number, names[i + 1] as string);
      for (let i = 0; i < rows.length; i += FIELDS_PER_ROW) {
        insert.run(
          rows[i] as number,
          rows[i + 1] as string,
          rows[i + 2] as number,
          rows[i + 3] as number,
          rows[i + 4] as number | null,
          rows[i + 5] as number,
          rows[i + 6] as number,
          rows[i + 7] as number,
        );
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /**
   * Ends a bulk load: flushes and builds the secondary indexes if they were deferred. The runner calls
   * it once caught up; any read calls it too, so queries never run unindexed.
   */
  finishBulkLoad(): void {
    this.flush();
    if (this.#indexed || this.#closed) return;
    this.#db.exec(INDEXES);
    this.#indexed = true;
  }

  #ready(): void {
    this.#assertOpen();
    if (!this.#indexed) this.finishBulkLoad();
    else this.flush();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("audit index is closed");
  }

  /** seq of the event at `cursor`: binary search over seq in position order. VALIDATION when no event has it. */
  #seqOfCursor(cursor: string, field: string): number {
    const cached = this.#cursorSeq.get(cursor);
    if (cached !== undefined) return cached;
    const unknown = () => validation(field, `unknown cursor "${String(cursor)}"`);
    if (typeof cursor !== "string" || cursor === "") throw unknown();
    let lo = 1;
    let hi = this.#lastSeq;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.#atSeq.get(mid) as { seq: number; position: string } | undefined;
      if (row === undefined) {
        hi = mid - 1;
        continue;
      }
      let order: number;
      try {
        order = this.#store.comparePositions(cursor, row.position);
      } catch (error) {
        if (isDomainError(error)) throw unknown();
        throw error;
      }
      if (order === 0) {
        this.#remember(cursor, row.seq);
        return row.seq;
      }
      if (order < 0) hi = mid - 1;
      else lo = row.seq + 1;
    }
    throw unknown();
  }

  #remember(cursor: string, seq: number): void {
    if (this.#cursorSeq.size >= 4096) {
      const oldest = this.#cursorSeq.keys().next().value;
      if (oldest !== undefined) this.#cursorSeq.delete(oldest);
    }
    this.#cursorSeq.set(cursor, seq);
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
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
    const from = filter.from ? parseFilterTime("filter.from", filter.from) : null;
    const to = filter.to ? parseFilterTime("filter.to", filter.to) : null;
    this.#ready();
    const after = args.after === undefined || args.after === null ? null : this.#seqOfCursor(args.after, "after");
    const where: string[] = [];
    const params: number[] = [];
    // A name never stored matches nothing: answer without a query.
    const none: AuditConnection = { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
    if (filter.projectId) {
      const id = this.#nameIds.get(filter.projectId);
      if (id === undefined) return none;
      where.push("project = ?");
      params.push(id);
    }
    if (filter.entityId) {
      const id = this.#nameIds.get(filter.entityId);
      if (id === undefined) return none;
      where.push("history = ? AND entity = ?");
      params.push(this.#historyOf.get(id) ?? id, id);
    }
    if (filter.types && filter.types.length > 0) {
      const ids = [...new Set(filter.types)].flatMap((type) => {
        const id = this.#nameIds.get(type);
        return id === undefined ? [] : [id];
      });
      if (ids.length === 0) return none;
      where.push(ids.length === 1 ? "type = ?" : `type IN (${ids.map(() => "?").join(", ")})`);
      params.push(...ids);
    }
    if (filter.actor) {
      const id = this.#nameIds.get(filter.actor);
      if (id === undefined) return none;
      where.push("actor = ?");
      params.push(id);
    }
    if (from !== null) {
      where.push("at >= ?");
      params.push(from);
    }
    if (to !== null) {
      where.push("at <= ?");
      params.push(to);
    }
    if (after !== null) {
      where.push(order === "DESC" ? "seq < ?" : "seq > ?");
      params.push(after);
    }
    params.push(first + 1);
    const sql = `SELECT seq, position, entity, project, actor, at FROM audit_events${
      where.length ? ` WHERE ${where.join(" AND ")}` : ""
    } ORDER BY seq ${order} LIMIT ?`;
    return this.#page(this.#statement(sql).all(...params) as unknown as IndexRow[], first);
  }

  /** Reads the rows' events back from the log (one read per run of consecutive events) and builds the page. */
  async #page(rows: IndexRow[], first: number): Promise<AuditConnection> {
    const hasNextPage = rows.length > first;
    const page = hasNextPage ? rows.slice(0, first) : rows;
    const events = await this.#events(page);
    const edges: AuditEdge[] = page.map((row) => {
      const event = events.get(row.seq);
      if (event === undefined || event.position !== row.position) {
        throw new DomainError("INTERNAL", `the event at position ${row.position} is missing from the event store`);
      }
      return { cursor: row.position, node: this.#node(row, event) };
    });
    const last = page[page.length - 1];
    if (last !== undefined) this.#remember(last.position, last.seq);
    return { edges, pageInfo: { hasNextPage, endCursor: last?.position ?? null } };
  }

  async #events(rows: readonly IndexRow[]): Promise<Map<number, RecordedEvent>> {
    const seqs = rows.map((row) => row.seq).sort((a, b) => a - b);
    const runs: { start: number; count: number }[] = [];
    for (const seq of seqs) {
      const run = runs[runs.length - 1];
      if (run !== undefined && run.start + run.count === seq) run.count++;
      else runs.push({ start: seq, count: 1 });
    }
    const bySeq = new Map<number, RecordedEvent>();
    await Promise.all(
      runs.map(async ({ start, count }) => {
        // The event before the run (every event of the log is in the index) is where the read starts.
        const before =
          start === 1 ? undefined : (this.#positionOf.get(start - 1) as { position: string } | undefined)?.position;
        const read = await this.#store.readAll({ ...(before === undefined ? {} : { after: before }), maxCount: count });
        read.forEach((event, i) => {
          bySeq.set(start + i, event);
        });
      }),
    );
    return bySeq;
  }

  #node(row: IndexRow, event: RecordedEvent): AuditEvent {
    const names = this.#names;
    return {
      id: event.id,
      position: row.position,
      type: event.type,
      stream: event.stream,
      entityId: names[row.entity] as string,
      projectId: row.project === null ? null : (names[row.project] as string),
      actor: names[row.actor] as string,
      at: new Date(row.at).toISOString(),
      data: event.data ?? null,
    };
  }

  /**
   * Feature.history: the feature's own events and the events of its releases, newest first. For any other
   * entity id: that entity's own events. VALIDATION for a bad `first` or an unknown cursor.
   */
  async historyOf(entityId: string, page: PageArgs = {}): Promise<AuditConnection> {
    const first = checkFirst(page.first);
    this.#ready();
    const after = page.after === undefined || page.after === null ? null : this.#seqOfCursor(page.after, "after");
    const id = this.#nameIds.get(entityId);
    if (id === undefined) return { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
    const statement = this.#statement(
      `SELECT seq, position, entity, project, actor, at FROM audit_events WHERE history = ?${
        after === null ? "" : " AND seq < ?"
      } ORDER BY seq DESC LIMIT ?`,
    );
    const rows = (after === null
      ? statement.all(id, first + 1)
      : statement.all(id, after, first + 1)) as unknown as IndexRow[];
    return this.#page(rows, first);
  }

  /** The audit event at `position`, or null when the index has none there. */
  async event(position: string): Promise<AuditEvent | null> {
    this.#ready();
    let seq: number;
    try {
      seq = this.#seqOfCursor(position, "position");
    } catch (error) {
      if (isDomainError(error)) return null;
      throw error;
    }
    const row = this.#statement("SELECT seq, position, entity, project, actor, at FROM audit_events WHERE seq = ?").get(
      seq,
    ) as IndexRow | undefined;
    if (row === undefined) return null;
    const { edges } = await this.#page([row], 1);
    return edges[0]?.node ?? null;
  }

  /**
   * The position of the latest event at or before `time` (by event time; ties: the later in the log), or
   * null when every event is later. Turns an `at` into a `position`.
   */
  positionAt(time: string): string | null {
    const at = parseFilterTime("at", time);
    this.#ready();
    const row = this.#positionAt.get(at) as { position: string } | undefined;
    return row?.position ?? null;
  }

  /** An event as an audit event node, without storing it: for the live path (subscriptions). */
  toAuditEvent(event: RecordedEvent): AuditEvent {
    const dash = event.stream.indexOf("-");
    const kind = (dash < 0 ? undefined : KIND_BY_PREFIX.get(event.stream.slice(0, dash))) ?? null;
    const entityId = kind === null ? event.stream : event.stream.slice(dash + 1);
    const data = event.data as Record<string, unknown> | null;
    const known = this.#nameIds.get(entityId);
    const knownProject = known === undefined ? undefined : this.#projectOf.get(known);
    const knownProjectId = knownProject === undefined ? undefined : this.#names[knownProject];
    return {
      id: event.id,
      position: event.position,
      type: event.type,
      stream: event.stream,
      entityId,
      projectId:
        knownProjectId ??
        stringOf(event.metadata?.projectId) ??
        (data !== null && typeof data === "object" ? stringOf(data.projectId) : null) ??
        (kind === "project" ? entityId : null),
      actor: stringOf(event.metadata?.actor) ?? "system",
      at: new Date(eventTime(event)).toISOString(),
      data: event.data ?? null,
    };
  }

  /** Drops every row (for a rebuild from the log). */
  clear(): void {
    this.#assertOpen();
    this.#pending = [];
    this.#pendingNames = [];
    this.#pendingCount = 0;
    this.#nameIds.clear();
    this.#names.length = 1;
    this.#streamInfo.clear();
    this.#historyOf.clear();
    this.#projectOf.clear();
    this.#cursorSeq.clear();
    // Back to a bulk load: the indexes are built again once the rebuild has caught up.
    this.#db.exec(`${DROP_INDEXES} DELETE FROM audit_events; DELETE FROM audit_names;`);
    this.#indexed = false;
    this.#lastSeq = 0;
    this.#lastPosition = null;
  }

  close(): void {
    if (this.#closed) return;
    try {
      this.flush();
    } finally {
      this.#closed = true;
      this.#db.close();
    }
  }
}

export const createAuditIndex = (options: AuditIndexOptions): AuditIndex => {
  if (options.path !== undefined && (typeof options.path !== "string" || options.path === "")) {
    throw new DomainError("VALIDATION", "path: the audit index needs a file path or :memory:", "path");
  }
  return new AuditIndex(options);
};

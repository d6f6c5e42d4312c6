// The audit index's SQLite side: one narrow row per stored event, in log order, with an index per filter
// of the contract's AuditFilter. It runs in the audit worker (audit-worker.ts), off the thread that
// applies events to the read models; AuditIndex (audit-index.ts) is its face on the main thread.
//
// A row holds seq (local, monotonic: the order the runner applied events = global order), the position,
// and the filter columns as small integers from a name dictionary (type, entity, project, history, actor)
// plus the time in epoch ms. `history` is the entity whose history the event belongs to: a release's
// events belong to its feature (Feature.history); the entity filter uses it too (history = H AND
// entity = E). The event's payload is not copied: pages read it back from the log by position.
//
// Indexes: position (unique; positions arrive in increasing order, so inserts append), at (nearly
// increasing), project, type, actor (few distinct values: a handful of insertion points) are SQLite
// indexes kept up to date row by row. Entity and history have one value per entity — a B-tree insert
// all over the tree for every event — so they are posting lists in memory instead (entity or feature →
// its seqs, ascending; an append per event), rebuilt from the table when a file-backed index is opened.
// A query through one of them walks the list from the cursor and reads the rows by seq.

import { DatabaseSync, type StatementSync } from "node:sqlite";

const SCHEMA_VERSION = 6;

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
// ORDER BY seq is one index range scan.
const INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS audit_position ON audit_events (position);
CREATE INDEX IF NOT EXISTS audit_at ON audit_events (at);
CREATE INDEX IF NOT EXISTS audit_project ON audit_events (project);
CREATE INDEX IF NOT EXISTS audit_type ON audit_events (type);
CREATE INDEX IF NOT EXISTS audit_actor ON audit_events (actor);
`;

/** Seqs read per step while walking a posting list with other filters to apply. */
const LIST_CHUNK = 256;

/** First index in the ascending `list` whose value is >= `seq` (or > `seq` when `strict`). */
function bound(list: readonly number[], seq: number, strict: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const value = list[mid] as number;
    if (value < seq || (strict && value === seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A batch of events as the main thread hands it over, cheap to post: the names first seen in this batch
 * (their ids follow the last id handed over: the main thread keeps the dictionary), per event five name
 * ids — type, entity, project (-1: none), feature (a release event's feature; -1: none), actor — the time
 * in epoch ms, and the positions joined by newlines.
 */
export interface EventBatch {
  names: string[];
  ids: Int32Array;
  at: Float64Array;
  positions: string;
}
export const IDS_PER_EVENT = 5;

/** A row of a page, names resolved. */
export interface TableRow {
  seq: number;
  position: string;
  /** Position of the event just before this one in the log (null for the first): where a read of it starts. */
  before: string | null;
  entityId: string;
  projectId: string | null;
  actor: string;
  at: number;
}

interface RawRow {
  seq: number;
  position: string;
  before: string | null;
  entity: number;
  project: number | null;
  actor: number;
  at: number;
}

/** Filter values as the table sees them (validated and parsed by the main thread). */
export interface TableFilter {
  projectId?: string | null;
  entityId?: string | null;
  types?: readonly string[] | null;
  actor?: string | null;
  fromMs?: number | null;
  toMs?: number | null;
}

export interface TableQuery {
  filter: TableFilter;
  order: "ASC" | "DESC";
  /** Rows wanted (the page size + 1, to know whether there is a next page). */
  limit: number;
  after: string | null;
}

const COLUMNS =
  "seq, position, (SELECT p.position FROM audit_events AS p WHERE p.seq = e.seq - 1) AS before, entity, project, actor, at";

/** Thrown for an unknown cursor; the main thread turns it into VALIDATION on its field. */
export class UnknownCursorError extends Error {
  constructor(cursor: string) {
    super(`unknown cursor "${cursor}"`);
    this.name = "UnknownCursorError";
  }
}

export class AuditTable {
  readonly #db: DatabaseSync;
  readonly #nameIds = new Map<string, number>();
  readonly #names: string[] = [""];
  /** release entity id → its feature's name id. */
  readonly #historyOf = new Map<number, number>();
  /** Posting lists: entity name id → its events' seqs; history name id → the seqs of its history. */
  readonly #byEntity = new Map<number, number[]>();
  readonly #byHistory = new Map<number, number[]>();
  #lastPosition: string | null;
  #lastSeq: number;
  readonly #statements = new Map<string, StatementSync>();
  readonly #insert: StatementSync;
  readonly #insertName: StatementSync;
  readonly #seqOf: StatementSync;
  readonly #positionAt: StatementSync;

  constructor(path: string) {
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
    db.exec(INDEXES);
    if (head !== undefined) {
      for (const row of db.prepare("SELECT seq, entity, history FROM audit_events ORDER BY seq").iterate() as Iterable<{
        seq: number;
        entity: number;
        history: number;
      }>) {
        this.#post(row.seq, row.entity, row.history);
        if (row.history !== row.entity) this.#historyOf.set(row.entity, row.history);
      }
    }
    this.#insert = db.prepare(
      "INSERT INTO audit_events (seq, position, type, entity, project, history, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.#insertName = db.prepare("INSERT INTO audit_names (id, name) VALUES (?, ?)");
    this.#seqOf = db.prepare("SELECT seq FROM audit_events WHERE position = ?");
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

  head(): { lastPosition: string | null; count: number } {
    return { lastPosition: this.#lastPosition, count: this.#lastSeq };
  }

  #post(seq: number, entity: number, history: number): void {
    const own = this.#byEntity.get(entity);
    if (own === undefined) this.#byEntity.set(entity, [seq]);
    else own.push(seq);
    const list = this.#byHistory.get(history);
    if (list === undefined) this.#byHistory.set(history, [seq]);
    else list.push(seq);
  }

  /** Every name by id (index 0 unused): the main thread's dictionary starts from it. */
  names(): string[] {
    return this.#names.slice();
  }

  /** Inserts a batch of events in one transaction. */
  add(batch: EventBatch): void {
    const insert = this.#insert;
    const { ids, at } = batch;
    const positions = batch.positions.split("\n");
    this.#db.exec("BEGIN");
    try {
      for (const name of batch.names) {
        const id = this.#names.length;
        this.#names.push(name);
        this.#nameIds.set(name, id);
        this.#insertName.run(id, name);
      }
      for (let e = 0; e < positions.length; e++) {
        const i = e * IDS_PER_EVENT;
        const entity = ids[i + 1] as number;
        let history = this.#historyOf.get(entity);
        if (history === undefined) {
          const feature = ids[i + 3] as number;
          if (feature < 0) history = entity;
          else {
            history = feature;
            this.#historyOf.set(entity, history);
          }
        }
        const project = ids[i + 2] as number;
        const position = positions[e] as string;
        const seq = ++this.#lastSeq;
        this.#post(seq, entity, history);
        insert.run(
          seq,
          position,
          ids[i] as number,
          entity,
          project < 0 ? null : project,
          history,
          ids[i + 4] as number,
          at[e] as number,
        );
        this.#lastPosition = position;
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #seqOfCursor(cursor: string): number {
    const row = this.#seqOf.get(cursor) as { seq: number } | undefined;
    if (row === undefined) throw new UnknownCursorError(cursor);
    return row.seq;
  }

  #rows(raw: RawRow[]): TableRow[] {
    const names = this.#names;
    return raw.map((row) => ({
      seq: row.seq,
      position: row.position,
      before: row.before,
      entityId: names[row.entity] as string,
      projectId: row.project === null ? null : (names[row.project] as string),
      actor: names[row.actor] as string,
      at: row.at,
    }));
  }

  /** Rows of one page, keyset-paginated on seq. A name never stored matches nothing. */
  query(query: TableQuery): TableRow[] {
    const { filter, order } = query;
    const where: string[] = [];
    const params: (number | string)[] = [];
    let list: number[] | undefined;
    if (filter.projectId) {
      const id = this.#nameIds.get(filter.projectId);
      if (id === undefined) return [];
      where.push("project = ?");
      params.push(id);
    }
    if (filter.entityId) {
      const id = this.#nameIds.get(filter.entityId);
      if (id === undefined) return [];
      list = this.#byEntity.get(id);
      if (list === undefined) return [];
    }
    if (filter.types && filter.types.length > 0) {
      const ids = [...new Set(filter.types)].flatMap((type) => {
        const id = this.#nameIds.get(type);
        return id === undefined ? [] : [id];
      });
      if (ids.length === 0) return [];
      where.push(ids.length === 1 ? "type = ?" : `type IN (${ids.map(() => "?").join(", ")})`);
      params.push(...ids);
    }
    if (filter.actor) {
      const id = this.#nameIds.get(filter.actor);
      if (id === undefined) return [];
      where.push("actor = ?");
      params.push(id);
    }
    if (filter.fromMs !== undefined && filter.fromMs !== null) {
      where.push("at >= ?");
      params.push(filter.fromMs);
    }
    if (filter.toMs !== undefined && filter.toMs !== null) {
      where.push("at <= ?");
      params.push(filter.toMs);
    }
    const after = query.after === null ? null : this.#seqOfCursor(query.after);
    if (list !== undefined) return this.#rows(this.#walk(list, after, order, query.limit, where, params));
    if (after !== null) {
      where.push(order === "DESC" ? "seq < ?" : "seq > ?");
      params.push(after);
    }
    params.push(query.limit);
    const sql = `SELECT ${COLUMNS} FROM audit_events AS e${
      where.length ? ` WHERE ${where.join(" AND ")}` : ""
    } ORDER BY seq ${order} LIMIT ?`;
    return this.#rows(this.#statement(sql).all(...params) as unknown as RawRow[]);
  }

  /**
   * Rows whose seq is in a posting list, after the cursor, in `order`, that pass the other filters: the
   * list is walked from the cursor a chunk at a time, each chunk's rows read (and filtered) by seq.
   */
  #walk(
    list: readonly number[],
    after: number | null,
    order: "ASC" | "DESC",
    limit: number,
    where: readonly string[],
    params: readonly (number | string)[],
  ): RawRow[] {
    const statement = this.#statement(
      `SELECT ${COLUMNS} FROM audit_events AS e WHERE seq IN (SELECT value FROM json_each(?))${
        where.length ? ` AND ${where.join(" AND ")}` : ""
      } ORDER BY seq ${order} LIMIT ?`,
    );
    const found: RawRow[] = [];
    if (order === "DESC") {
      let end = after === null ? list.length : bound(list, after, false);
      while (end > 0 && found.length < limit) {
        const start = Math.max(0, end - (where.length ? LIST_CHUNK : limit - found.length));
        const seqs = JSON.stringify(list.slice(start, end));
        found.push(...(statement.all(seqs, ...params, limit - found.length) as unknown as RawRow[]));
        end = start;
      }
    } else {
      let start = after === null ? 0 : bound(list, after, true);
      while (start < list.length && found.length < limit) {
        const end = Math.min(list.length, start + (where.length ? LIST_CHUNK : limit - found.length));
        const seqs = JSON.stringify(list.slice(start, end));
        found.push(...(statement.all(seqs, ...params, limit - found.length) as unknown as RawRow[]));
        start = end;
      }
    }
    return found;
  }

  /** An entity's history (a feature's: its own events and its releases'), newest first. */
  history(entityId: string, after: string | null, limit: number): TableRow[] {
    const seq = after === null ? null : this.#seqOfCursor(after);
    const id = this.#nameIds.get(entityId);
    const list = id === undefined ? undefined : this.#byHistory.get(id);
    if (list === undefined) return [];
    return this.#rows(this.#walk(list, seq, "DESC", limit, [], []));
  }

  /** The row at `position`, or null. */
  row(position: string): TableRow | null {
    const raw = this.#statement(`SELECT ${COLUMNS} FROM audit_events AS e WHERE position = ?`).get(position) as
      | RawRow
      | undefined;
    return raw === undefined ? null : (this.#rows([raw])[0] ?? null);
  }

  /** The position of the latest event at or before `ms` (ties: the later in the log), or null. */
  positionAt(ms: number): string | null {
    return (this.#positionAt.get(ms) as { position: string } | undefined)?.position ?? null;
  }

  clear(): void {
    this.#nameIds.clear();
    this.#names.length = 1;
    this.#historyOf.clear();
    this.#byEntity.clear();
    this.#byHistory.clear();
    this.#db.exec("DELETE FROM audit_events; DELETE FROM audit_names;");
    this.#lastSeq = 0;
    this.#lastPosition = null;
  }

  close(): void {
    this.#db.close();
  }
}

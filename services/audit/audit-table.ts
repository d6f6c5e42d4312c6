// The audit index's worker side: one narrow row per stored event, in log order, held in memory as
// columns, with a posting list per filter value. It runs in the audit worker (audit-worker.ts), off the
// thread that applies events to the read models; AuditIndex (audit-index.ts) is its face on the main thread.
//
// A row is an index `i` (seq = i + 1: local, monotonic, the order the runner applied events = global
// order) into typed-array columns: type, entity, project, actor as small integers from a name dictionary,
// and the time in epoch ms; plus the position string. `history` is the entity whose history the event
// belongs to: a release's events belong to its feature (Feature.history).
//
// Indexes are posting lists — filter value → the rows that have it, ascending, an append per event —
// for entity, history, type, project and actor, and a map from position to row for cursors. A query walks
// the shortest posting list its filters allow (or every row) from the cursor in the asked order and checks
// the other filters against the columns: no B-tree to keep up per event (that was most of a rebuild's
// cost when this was a SQLite table with five indexes), and a scan that touches only typed arrays.
// `positionAt` keeps the rows sorted by time, built on first use and merged as rows arrive.
//
// Events arrive in batches (see EventBatch) with their metadata as JSON text: the worker parses it and
// works out project, actor and time (audit-event.ts), so the thread applying events to the read models
// does not have to.
//
// A file-backed index also writes each row to a SQLite table (no secondary index: the columns are
// rebuilt from it when the file is reopened), so it resumes after its last event.

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type AuditMetadata, actorOf, eventTimeOf, type Placement, placeStream, projectOf } from "./audit-event.ts";

const SCHEMA_VERSION = 7;

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

/** Rows appended to the time order unsorted before `positionAt` merges them in. */
const UNSORTED_MAX = 4096;

/** First index in the ascending `list` whose value is >= `value` (or > `value` when `strict`). */
function bound(list: ArrayLike<number>, length: number, value: number, strict: boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = list[mid] as number;
    if (at < value || (strict && at === value)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A batch of events as the main thread hands it over, cheap to build and to post. Strings the main thread
 * saw for the first time get a local number, in order (`names`: numbers continue from the previous
 * batch's; they are this worker's, reset by `clear`). Per event, IDS_PER_EVENT local numbers — stream,
 * type, `data.projectId` (-1: none), `data.featureId` of a release's event (-1: none or already sent) —
 * then its position and recordedAt (lines) and its metadata (a JSON array of the events' metadata texts,
 * as stored) — UTF-8 written into buffers as events come, transferred, not copied.
 */
export interface EventBatch {
  names: string[];
  ids: Int32Array;
  /** UTF-8, one per line. */
  positions: Uint8Array;
  /** UTF-8, one per line. */
  recordedAt: Uint8Array;
  /** UTF-8 of a JSON array: the events' metadata. */
  metadata: Uint8Array;
}

const UTF8 = new TextDecoder();
export const IDS_PER_EVENT = 4;

/** What the worker keeps per stream (by local number) while indexing. */
interface StreamState {
  placement: Placement;
  entity: number;
  /** The project last seen on this stream's events, and its name id. */
  project: string | null;
  projectId: number;
}

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

/** Thrown for an unknown cursor; the main thread turns it into VALIDATION on its field. */
export class UnknownCursorError extends Error {
  constructor(cursor: string) {
    super(`unknown cursor "${cursor}"`);
    this.name = "UnknownCursorError";
  }
}

const growInt32 = (column: Int32Array, size: number): Int32Array<ArrayBuffer> => {
  const next = new Int32Array(size);
  next.set(column);
  return next;
};

/** Name id → the rows that have it, ascending (a dense array: every name id has a slot). */
type PostingLists = (number[] | undefined)[];

const post = (lists: PostingLists, value: number, row: number): void => {
  const list = lists[value];
  if (list === undefined) lists[value] = [row];
  else list.push(row);
};

/** FNV-1a of a string's UTF-16 units. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * Position → row, for cursors: open addressing over typed arrays (row + 1 per slot, 0 = free) rather than
 * a Map of a million strings, which costs far more to grow and for the collector to walk. Built when a
 * cursor is first looked up, then kept up with the rows added since: a rebuild does not pay for it.
 */
class PositionIndex {
  readonly #positions: readonly string[];
  #hashes = new Int32Array(0);
  #slots = new Int32Array(0);
  /** Rows [0, #indexed) are in the slots. */
  #indexed = 0;

  constructor(positions: readonly string[]) {
    this.#positions = positions;
  }

  get(position: string): number | undefined {
    this.#catchUp();
    const slots = this.#slots;
    if (slots.length === 0) return undefined;
    const mask = slots.length - 1;
    for (let at = hashOf(position) & mask; slots[at] !== 0; at = (at + 1) & mask) {
      const row = (slots[at] as number) - 1;
      if (this.#positions[row] === position) return row;
    }
    return undefined;
  }

  #catchUp(): void {
    const count = this.#positions.length;
    const from = this.#indexed;
    if (from === count) return;
    if (count > this.#hashes.length) {
      const hashes = new Int32Array(Math.max(1024, 2 ** Math.ceil(Math.log2(count))));
      hashes.set(this.#hashes.subarray(0, from));
      this.#hashes = hashes;
    }
    for (let row = from; row < count; row++) this.#hashes[row] = hashOf(this.#positions[row] as string);
    if (count * 2 > this.#slots.length) {
      // Grown past half full: every row into slots twice as many as rows (at least), a power of two.
      this.#slots = new Int32Array(Math.max(2048, 2 ** Math.ceil(Math.log2(count * 2))));
      for (let row = 0; row < count; row++) this.#place(row);
    } else {
      for (let row = from; row < count; row++) this.#place(row);
    }
    this.#indexed = count;
  }

  #place(row: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let at = (this.#hashes[row] as number) & mask;
    while (slots[at] !== 0) at = (at + 1) & mask;
    slots[at] = row + 1;
  }

  clear(): void {
    this.#slots = new Int32Array(0);
    this.#hashes = new Int32Array(0);
    this.#indexed = 0;
  }
}

/** The rows to visit, ascending: one posting list, several merged (a types filter), or every row. */
type Candidates = { lists: readonly number[][]; size: number } | null;

/** The SQLite side of a file-backed index: rows and names written as they arrive, read back on open. */
class AuditFile {
  readonly db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #insertName: StatementSync;

  constructor(path: string) {
    const db = new DatabaseSync(path);
    this.db = db;
    try {
      db.exec("PRAGMA journal_mode = WAL");
      // A projection: losing the last transactions on power loss only means re-reading them from the log.
      db.exec("PRAGMA synchronous = NORMAL");
      this.#migrate();
    } catch (error) {
      db.close();
      throw error;
    }
    this.#insert = db.prepare(
      "INSERT INTO audit_events (seq, position, type, entity, project, history, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.#insertName = db.prepare("INSERT INTO audit_names (id, name) VALUES (?, ?)");
  }

  #migrate(): void {
    const version = Number((this.db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new Error(`audit index has schema version ${version}; this build supports ${SCHEMA_VERSION}`);
    }
    // A projection: an older layout is dropped and rebuilt from the log, never migrated in place.
    this.db.exec(
      "DROP TABLE IF EXISTS audit_events; DROP TABLE IF EXISTS audit_payloads; DROP TABLE IF EXISTS audit_names;",
    );
    this.db.exec(TABLES);
    this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }

  names(): Iterable<[id: number, name: string]> {
    const statement = this.db.prepare("SELECT id, name FROM audit_names ORDER BY id");
    statement.setReturnArrays(true);
    return statement.iterate() as Iterable<[number, string]>;
  }

  rows(): Iterable<
    [
      seq: number,
      position: string,
      type: number,
      entity: number,
      project: number | null,
      history: number,
      actor: number,
      at: number,
    ]
  > {
    const statement = this.db.prepare(
      "SELECT seq, position, type, entity, project, history, actor, at FROM audit_events ORDER BY seq",
    );
    statement.setReturnArrays(true);
    return statement.iterate() as Iterable<[number, string, number, number, number | null, number, number, number]>;
  }

  begin(): void {
    this.db.exec("BEGIN");
  }

  commit(): void {
    this.db.exec("COMMIT");
  }

  rollback(): void {
    if (this.db.isTransaction) this.db.exec("ROLLBACK");
  }

  name(id: number, name: string): void {
    this.#insertName.run(id, name);
  }

  row(
    seq: number,
    position: string,
    type: number,
    entity: number,
    project: number,
    history: number,
    actor: number,
    at: number,
  ): void {
    this.#insert.run(seq, position, type, entity, project < 0 ? null : project, history, actor, at);
  }

  clear(): void {
    this.db.exec("DELETE FROM audit_events; DELETE FROM audit_names;");
  }
}

export class AuditTable {
  readonly #file: AuditFile | null;
  /** The name dictionary: type, entity, project and actor names ↔ small integers (0 unused). */
  readonly #nameIds = new Map<string, number>();
  readonly #names: string[] = [""];
  /** The main thread's local numbers for this session: the strings, and the name id or stream each became. */
  #local: string[] = [];
  #localNameIds: number[] = [];
  #localStreams: (StreamState | undefined)[] = [];
  #lastActor = "";
  #lastActorId = 0;
  /** release entity id → its feature's name id. */
  readonly #historyOf = new Map<number, number>();
  #count = 0;
  // Columns, by row.
  #type = new Int32Array(1024);
  #entity = new Int32Array(1024);
  #project = new Int32Array(1024);
  #actor = new Int32Array(1024);
  #at = new Float64Array(1024);
  readonly #positions: string[] = [];
  readonly #rowOfPosition = new PositionIndex(this.#positions);
  // Posting lists.
  readonly #byEntity: PostingLists = [undefined];
  readonly #byHistory: PostingLists = [undefined];
  readonly #byType: PostingLists = [undefined];
  readonly #byProject: PostingLists = [undefined];
  readonly #byActor: PostingLists = [undefined];
  /** Rows [0, #timeSorted.length) sorted by (at, row); rows after that are not in it yet. */
  #timeSorted = new Int32Array(0);

  constructor(path: string) {
    this.#file = path === ":memory:" ? null : new AuditFile(path);
    if (this.#file === null) return;
    try {
      for (const [id, name] of this.#file.names()) {
        while (this.#names.length < id) this.#addName("");
        this.#addName(name);
      }
      for (const [, position, type, entity, project, history, actor, at] of this.#file.rows()) {
        if (history !== entity) this.#historyOf.set(entity, history);
        this.#append(position, type, entity, project ?? -1, history, actor, at);
      }
    } catch (error) {
      this.#file.db.close();
      throw error;
    }
  }

  head(): { lastPosition: string | null; count: number } {
    return { lastPosition: this.#positions[this.#count - 1] ?? null, count: this.#count };
  }

  #nameId(name: string): number {
    let id = this.#nameIds.get(name);
    if (id === undefined) {
      id = this.#addName(name);
      this.#file?.name(id, name);
    }
    return id;
  }

  /** The next name id, for `name`, with its (empty) posting lists' slots. */
  #addName(name: string): number {
    const id = this.#names.length;
    this.#names.push(name);
    if (name !== "") this.#nameIds.set(name, id);
    this.#byEntity.push(undefined);
    this.#byHistory.push(undefined);
    this.#byType.push(undefined);
    this.#byProject.push(undefined);
    this.#byActor.push(undefined);
    return id;
  }

  /** The name id of a string the main thread numbered. */
  #localNameId(local: number): number {
    let id = this.#localNameIds[local];
    if (id === undefined) {
      id = this.#nameId(this.#local[local] as string);
      this.#localNameIds[local] = id;
    }
    return id;
  }

  #localStream(local: number): StreamState {
    let stream = this.#localStreams[local];
    if (stream === undefined) {
      // Each stream is numbered once per session: worked out here once, nothing to remember.
      const placement = placeStream(this.#local[local] as string);
      stream = { placement, entity: this.#nameId(placement.entityId), project: null, projectId: -1 };
      this.#localStreams[local] = stream;
    }
    return stream;
  }

  #append(
    position: string,
    type: number,
    entity: number,
    project: number,
    history: number,
    actor: number,
    at: number,
  ): void {
    const row = this.#count++;
    if (row === this.#type.length) {
      const size = row * 2;
      this.#type = growInt32(this.#type, size);
      this.#entity = growInt32(this.#entity, size);
      this.#project = growInt32(this.#project, size);
      this.#actor = growInt32(this.#actor, size);
      const times = new Float64Array(size);
      times.set(this.#at);
      this.#at = times;
    }
    this.#type[row] = type;
    this.#entity[row] = entity;
    this.#project[row] = project;
    this.#actor[row] = actor;
    this.#at[row] = at;
    this.#positions.push(position);
    post(this.#byEntity, entity, row);
    post(this.#byHistory, history, row);
    post(this.#byType, type, row);
    if (project >= 0) post(this.#byProject, project, row);
    post(this.#byActor, actor, row);
  }

  /** Adds a batch of events (and writes it, in one transaction, to a file-backed index's table). */
  add(batch: EventBatch): void {
    const file = this.#file;
    const { ids } = batch;
    const positions = UTF8.decode(batch.positions).split("\n");
    const recordedAt = UTF8.decode(batch.recordedAt).split("\n");
    const metadata = JSON.parse(UTF8.decode(batch.metadata)) as AuditMetadata[];
    for (const name of batch.names) this.#local.push(name);
    file?.begin();
    try {
      const count = ids.length / IDS_PER_EVENT;
      for (let e = 0; e < count; e++) {
        const i = e * IDS_PER_EVENT;
        const stream = this.#localStream(ids[i] as number);
        const entity = stream.entity;
        let history = this.#historyOf.get(entity);
        if (history === undefined) {
          const feature = ids[i + 3] as number;
          if (feature < 0) history = entity;
          else {
            history = this.#localNameId(feature);
            this.#historyOf.set(entity, history);
          }
        }
        const meta = metadata[e];
        const dataProject = ids[i + 2] as number;
        const project = projectOf(
          meta,
          dataProject < 0 ? null : (this.#local[dataProject] as string),
          stream.placement,
        );
        if (project !== stream.project) {
          stream.project = project;
          stream.projectId = project === null ? -1 : this.#nameId(project);
        }
        const actor = actorOf(meta);
        if (actor !== this.#lastActor) {
          this.#lastActor = actor;
          this.#lastActorId = this.#nameId(actor);
        }
        const position = positions[e] as string;
        const type = this.#localNameId(ids[i + 1] as number);
        const time = eventTimeOf(meta, recordedAt[e] as string);
        file?.row(this.#count + 1, position, type, entity, stream.projectId, history, this.#lastActorId, time);
        this.#append(position, type, entity, stream.projectId, history, this.#lastActorId, time);
      }
      file?.commit();
    } catch (error) {
      file?.rollback();
      throw error;
    }
  }

  #rowOfCursor(cursor: string): number {
    const row = this.#rowOfPosition.get(cursor);
    if (row === undefined) throw new UnknownCursorError(cursor);
    return row;
  }

  #row(row: number): TableRow {
    const project = this.#project[row] as number;
    return {
      seq: row + 1,
      position: this.#positions[row] as string,
      before: row === 0 ? null : (this.#positions[row - 1] as string),
      entityId: this.#names[this.#entity[row] as number] as string,
      projectId: project < 0 ? null : (this.#names[project] as string),
      actor: this.#names[this.#actor[row] as number] as string,
      at: this.#at[row] as number,
    };
  }

  /** Rows of one page, keyset-paginated on the row. A name never stored matches nothing. */
  query(query: TableQuery): TableRow[] {
    const { filter } = query;
    const none = -2;
    const idOf = (name: string | null | undefined): number => {
      if (!name) return -1;
      return this.#nameIds.get(name) ?? none;
    };
    const project = idOf(filter.projectId);
    const entity = idOf(filter.entityId);
    const actor = idOf(filter.actor);
    if (project === none || entity === none || actor === none) return [];
    let types: Set<number> | null = null;
    if (filter.types && filter.types.length > 0) {
      types = new Set();
      for (const type of filter.types) {
        const id = this.#nameIds.get(type);
        if (id !== undefined) types.add(id);
      }
      if (types.size === 0) return [];
    }
    const from = filter.fromMs ?? null;
    const to = filter.toMs ?? null;
    const after = query.after === null ? null : this.#rowOfCursor(query.after);

    // The shortest posting list among the equality filters drives the walk; the columns check the rest.
    let candidates: Candidates = null;
    const consider = (lists: number[][]): void => {
      let size = 0;
      for (const list of lists) size += list.length;
      if (candidates === null || size < candidates.size) candidates = { lists, size };
    };
    const listOf = (lists: PostingLists, id: number): number[] => lists[id] ?? [];
    if (entity >= 0) consider([listOf(this.#byEntity, entity)]);
    if (project >= 0) consider([listOf(this.#byProject, project)]);
    if (actor >= 0) consider([listOf(this.#byActor, actor)]);
    if (types !== null) consider([...types].map((type) => listOf(this.#byType, type)));

    const typeColumn = this.#type;
    const entityColumn = this.#entity;
    const projectColumn = this.#project;
    const actorColumn = this.#actor;
    const atColumn = this.#at;
    const found: TableRow[] = [];
    const visit = (row: number): boolean => {
      if (entity >= 0 && entityColumn[row] !== entity) return true;
      if (project >= 0 && projectColumn[row] !== project) return true;
      if (actor >= 0 && actorColumn[row] !== actor) return true;
      if (types !== null && !types.has(typeColumn[row] as number)) return true;
      if (from !== null || to !== null) {
        const time = atColumn[row] as number;
        if ((from !== null && time < from) || (to !== null && time > to)) return true;
      }
      found.push(this.#row(row));
      return found.length < query.limit;
    };
    this.#walk(candidates, after, query.order, visit);
    return found;
  }

  /**
   * Visits the candidate rows strictly after the cursor row in `order` (every row when `candidates` is
   * null; several lists are merged) until `visit` returns false.
   */
  #walk(candidates: Candidates, after: number | null, order: "ASC" | "DESC", visit: (row: number) => boolean): void {
    const descending = order === "DESC";
    if (candidates === null) {
      if (descending) {
        for (let row = (after ?? this.#count) - 1; row >= 0; row--) if (!visit(row)) return;
      } else {
        for (let row = after === null ? 0 : after + 1; row < this.#count; row++) if (!visit(row)) return;
      }
      return;
    }
    const { lists } = candidates;
    if (lists.length === 1) {
      const list = lists[0] as number[];
      if (descending) {
        for (let i = (after === null ? list.length : bound(list, list.length, after, false)) - 1; i >= 0; i--) {
          if (!visit(list[i] as number)) return;
        }
      } else {
        for (let i = after === null ? 0 : bound(list, list.length, after, true); i < list.length; i++) {
          if (!visit(list[i] as number)) return;
        }
      }
      return;
    }
    // Several lists (one per type): merged on the fly, each from its own start.
    const heads = lists.map((list) =>
      descending
        ? (after === null ? list.length : bound(list, list.length, after, false)) - 1
        : after === null
          ? 0
          : bound(list, list.length, after, true),
    );
    for (;;) {
      let best = -1;
      let bestRow = 0;
      for (let l = 0; l < lists.length; l++) {
        const list = lists[l] as number[];
        const head = heads[l] as number;
        if (head < 0 || head >= list.length) continue;
        const row = list[head] as number;
        if (best < 0 || (descending ? row > bestRow : row < bestRow)) {
          best = l;
          bestRow = row;
        }
      }
      if (best < 0) return;
      heads[best] = (heads[best] as number) + (descending ? -1 : 1);
      if (!visit(bestRow)) return;
    }
  }

  /** An entity's history (a feature's: its own events and its releases'), newest first. */
  history(entityId: string, after: string | null, limit: number): TableRow[] {
    const from = after === null ? null : this.#rowOfCursor(after);
    const id = this.#nameIds.get(entityId);
    const list = id === undefined ? undefined : this.#byHistory[id];
    if (list === undefined) return [];
    const found: TableRow[] = [];
    this.#walk({ lists: [list], size: list.length }, from, "DESC", (row) => {
      found.push(this.#row(row));
      return found.length < limit;
    });
    return found;
  }

  /** The row at `position`, or null. */
  row(position: string): TableRow | null {
    const row = this.#rowOfPosition.get(position);
    return row === undefined ? null : this.#row(row);
  }

  /** The position of the latest event at or before `ms` (ties: the later in the log), or null. */
  positionAt(ms: number): string | null {
    const at = this.#at;
    const sortedCount = this.#timeSorted.length;
    if (this.#count - sortedCount > UNSORTED_MAX) this.#sortByTime();
    const sorted = this.#timeSorted;
    // The last sorted row with at <= ms: the latest time, and the later row among equal times.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((at[sorted[mid] as number] as number) <= ms) lo = mid + 1;
      else hi = mid;
    }
    let best = lo > 0 ? (sorted[lo - 1] as number) : -1;
    // Rows not merged yet (at most UNSORTED_MAX): checked one by one; a later row wins a tie.
    for (let row = sorted.length; row < this.#count; row++) {
      const time = at[row] as number;
      if (time <= ms && (best < 0 || time >= (at[best] as number))) best = row;
    }
    return best < 0 ? null : (this.#positions[best] as string);
  }

  /** Merges the rows appended since the last sort into the time order. */
  #sortByTime(): void {
    const at = this.#at;
    const sorted = this.#timeSorted;
    const tail: number[] = [];
    for (let row = sorted.length; row < this.#count; row++) tail.push(row);
    // Times nearly follow the log, so the tail is mostly runs already in order (cheap for the sort).
    tail.sort((a, b) => (at[a] as number) - (at[b] as number) || a - b);
    const merged = new Int32Array(this.#count);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < sorted.length && j < tail.length) {
      const left = sorted[i] as number;
      const right = tail[j] as number;
      // Equal times: the sorted part holds the earlier rows.
      if ((at[left] as number) <= (at[right] as number)) {
        merged[k++] = left;
        i++;
      } else {
        merged[k++] = right;
        j++;
      }
    }
    while (i < sorted.length) merged[k++] = sorted[i++] as number;
    while (j < tail.length) merged[k++] = tail[j++] as number;
    this.#timeSorted = merged;
  }

  clear(): void {
    this.#nameIds.clear();
    this.#names.length = 1;
    this.#local = [];
    this.#localNameIds = [];
    this.#localStreams = [];
    this.#lastActor = "";
    this.#historyOf.clear();
    this.#count = 0;
    this.#positions.length = 0;
    this.#rowOfPosition.clear();
    for (const lists of [this.#byEntity, this.#byHistory, this.#byType, this.#byProject, this.#byActor]) {
      lists.length = 1;
    }
    this.#timeSorted = new Int32Array(0);
    this.#file?.clear();
  }

  close(): void {
    this.#file?.db.close();
  }
}

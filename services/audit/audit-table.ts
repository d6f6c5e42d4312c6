// The audit index's worker side: one narrow row per stored event, in a node:sqlite database with
// persisted indexes. It runs in the audit worker (audit-worker.ts), off the thread that applies events to
// the read models; AuditIndex (audit-index.ts) is its face on the main thread. See
// docs/decisions/0006-audit-index.md and 0043-persisted-audit-index.md.
//
// A row (audit_events) has a local, monotonic `seq` (1, 2, …: the order the runner applied events =
// global order), the position, and type, entity, project, history, actor as integers from the name
// dictionary (audit_names), plus the time in epoch ms. `history` is set only where it differs from the
// entity: a release's events belong to its feature's history (Feature.history).
//
// Indexes, all persisted, kept up batch by batch in the batch's transaction:
//   - position → seq: a unique index (positions are appended in order: an append to the B-tree);
//   - entity → seqs and history → seqs: WITHOUT ROWID tables keyed (segment, entity, seq), a segment
//     being a fixed range of seqs, filled per batch in key order by one INSERT … SELECT. New entries only
//     go into the last segment's subtree, small enough to stay in the page cache, so an insert costs the
//     same at any size of the log; a lookup seeks once per segment;
//   - type, project, actor → seqs: posting lists stored as chunks of up to layout.chunkMax seqs (a BLOB
//     of uint32) per (list, first seq): few distinct values, so a batch touches a few chunks instead of
//     inserting thousands of B-tree entries;
//   - time: a zone map (audit_blocks) with the earliest and latest time of every block of rows. Times
//     nearly follow the log, so a time range maps to a narrow range of seqs, and `positionAt` scans at
//     most the few blocks whose times straddle the instant.
// A query walks the smallest of the sources its filters allow (every row, one posting list, or several
// merged) from the cursor in the asked order, and checks the other filters on each candidate's row.
//
// Nothing in memory grows with the log: the name dictionary is in SQLite (looked up by a hash of the
// name) behind a bounded cache, the main thread's local numbering of names starts over past
// LOCAL_NAMES_MAX (the batch says so), and SQLite's page cache is bounded (cache_size). Batches are
// written in transactions, rows and indexes together, each batch whole or absent: the last row is the
// checkpoint, so a process killed mid-batch resumes after the last committed row, and the runner sends
// the rest again.

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type AuditMetadata, actorOf, eventTimeOf, type Placement, placeStream, projectOf } from "./audit-event.ts";

/** The layout of the index's database; a file of another version is never reused (see auditIndexFile). */
export const AUDIT_INDEX_VERSION = 8;

/**
 * Sizes of the index's pieces (powers of two as shifts). Stored in the file: a file written with other
 * sizes is rebuilt, never read with these. Tests use small ones to cross many segments and blocks.
 */
export interface AuditLayout {
  /**
   * log2 of the seqs per segment of the entity and history indexes. Keyed (segment, entity, seq), new
   * entries only go into the last segment's subtree, small enough for the page cache: an insert costs
   * the same however long the log (keyed (entity, seq), each event of a long-lived feature would dirty a
   * page somewhere in a tree as large as the log). A lookup seeks once per segment.
   */
  segmentShift: number;
  /** log2 of the seqs per time block of the zone map. */
  blockShift: number;
  /** Seqs per stored chunk of a posting list. */
  chunkMax: number;
}

/** 262,144 seqs per segment (4 at a million events, 38 at ten million), 2,048 per time block. */
export const DEFAULT_LAYOUT: AuditLayout = { segmentShift: 18, blockShift: 11, chunkMax: 512 };

/**
 * Rows per transaction at most. Batches arrive faster than they are indexed during a rebuild; committing
 * several at once writes each touched page of the entity index once for all of them.
 */
const COMMIT_ROWS = 65_536;
/** Names whose ids the worker remembers (a bounded cache in front of audit_names). */
const NAME_CACHE_MAX = 32_768;
/** Local names (stream names, types, ids in events' data) the main thread numbers before it starts over. */
export const LOCAL_NAMES_MAX = 16_384;
/** SQLite page cache of a file-backed index, in KiB. */
const CACHE_KIB = 32 * 1024;
/** Candidate counts above this are only compared as "large" when choosing which source drives a query. */
const COUNT_CAP = 200_000;

/** Posting-list kinds (a list id is nameId * 4 + kind). */
const TYPE_LIST = 1;
const PROJECT_LIST = 2;
const ACTOR_LIST = 3;

const SCHEMA = `
CREATE TABLE audit_names (
  id   INTEGER PRIMARY KEY,
  hash INTEGER NOT NULL,
  name TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_names_hash ON audit_names (hash);
CREATE TABLE audit_events (
  seq      INTEGER PRIMARY KEY,
  position TEXT    NOT NULL,
  type     INTEGER NOT NULL,
  entity   INTEGER NOT NULL,
  project  INTEGER,
  history  INTEGER,
  actor    INTEGER NOT NULL,
  at       INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX audit_events_position ON audit_events (position);
CREATE TABLE audit_by_entity (
  segment INTEGER NOT NULL,
  entity  INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  PRIMARY KEY (segment, entity, seq)
) STRICT, WITHOUT ROWID;
CREATE TABLE audit_by_history (
  segment INTEGER NOT NULL,
  history INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  PRIMARY KEY (segment, history, seq)
) STRICT, WITHOUT ROWID;
CREATE TABLE audit_lists (
  id    INTEGER PRIMARY KEY,
  list  INTEGER NOT NULL,
  first INTEGER NOT NULL,
  n     INTEGER NOT NULL,
  seqs  BLOB    NOT NULL
) STRICT;
CREATE UNIQUE INDEX audit_lists_key ON audit_lists (list, first);
CREATE TABLE audit_blocks (
  block INTEGER PRIMARY KEY,
  lo    INTEGER NOT NULL,
  hi    INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_blocks_hi ON audit_blocks (hi, lo);
CREATE TABLE audit_releases (
  entity  INTEGER PRIMARY KEY,
  history INTEGER NOT NULL
) STRICT;
CREATE TABLE audit_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`;

const TABLES = [
  "audit_names",
  "audit_events",
  "audit_by_entity",
  "audit_by_history",
  "audit_lists",
  "audit_blocks",
  "audit_releases",
];

/**
 * A batch of events as the main thread hands it over, cheap to build and to post. Strings the main thread
 * saw for the first time get a local number, in order (`names`: numbers continue from the previous
 * batch's, unless `reset`: then they start again at 0 with this batch). Per event, IDS_PER_EVENT local
 * numbers — stream, type, `data.projectId` (-1: none), `data.featureId` of a release's event (-1: none or
 * already sent) — then its position and recordedAt (lines) and its metadata (a JSON array of the events'
 * metadata texts, as stored) — UTF-8 written into buffers as events come, transferred, not copied.
 */
export interface EventBatch {
  names: string[];
  /** The main thread started its local numbering over: forget the previous numbers first. */
  reset?: boolean;
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

/** What the worker keeps per stream (by local number, so at most LOCAL_NAMES_MAX of them) while indexing. */
interface StreamState {
  placement: Placement;
  entity: number;
  /** The feature a release's events belong to (null: the entity's own history). */
  history: number | null;
  /** The project last seen on this stream's events, and its name id. */
  project: string | null;
  projectId: number | null;
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

/**
 * A map that keeps the entries used lately, at most `capacity`: two generations, the current one and the
 * one before; a hit in the older is moved to the current, and when the current is full the older is
 * dropped. (Cheaper than a strict LRU over a Map, whose delete-and-reinsert on every hit churns the table.)
 */
class RecentMap<K, V> {
  #current = new Map<K, V>();
  #older = new Map<K, V>();
  readonly #generation: number;

  constructor(capacity: number) {
    this.#generation = Math.max(1, capacity >> 1);
  }

  get(key: K): V | undefined {
    let value = this.#current.get(key);
    if (value === undefined) {
      value = this.#older.get(key);
      if (value !== undefined) this.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    if (this.#current.size >= this.#generation) {
      this.#older = this.#current;
      this.#current = new Map();
    }
    this.#current.set(key, value);
  }

  clear(): void {
    this.#current.clear();
    this.#older.clear();
  }
}

/** A 53-bit hash of a name (two 32-bit FNV-1a with different offsets; only a key, never an identity). */
function nameHash(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

/** The seqs of a stored chunk (a BLOB of uint32 in the host's byte order: little-endian where Node runs). */
const seqsOf = (blob: Uint8Array, n: number): Uint32Array =>
  blob.byteOffset % 4 === 0
    ? new Uint32Array(blob.buffer, blob.byteOffset, n)
    : new Uint32Array(new Uint8Array(blob).buffer, 0, n);

const blobOf = (seqs: Uint32Array): Uint8Array => new Uint8Array(seqs.buffer, seqs.byteOffset, seqs.byteLength);

/** First index in the ascending `list` whose value is >= `value` (or > `value` when `strict`). */
function bound(list: ArrayLike<number>, value: number, strict: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = list[mid] as number;
    if (at < value || (strict && at === value)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Seqs in the asked order, one at a time; 0 when there are no more. */
interface Source {
  next(): number;
}

/**
 * The seqs a walk may visit: strictly after the cursor in the walk's order, and within [lo, hi] (the
 * rows whose time may fall in the filter's range, and those that exist).
 */
interface Range {
  descending: boolean;
  lo: number;
  hi: number;
}

/** Every seq of the range, in order. */
class AllSource implements Source {
  #next: number;
  readonly #end: number;
  readonly #step: number;

  constructor(range: Range) {
    this.#next = range.descending ? range.hi : range.lo;
    this.#end = range.descending ? range.lo : range.hi;
    this.#step = range.descending ? -1 : 1;
  }

  next(): number {
    const seq = this.#next;
    if (this.#step > 0 ? seq > this.#end : seq < this.#end) return 0;
    this.#next += this.#step;
    return seq;
  }
}

/** The seqs of the range whose time is within [from, to], read a page at a time (the check runs in SQLite). */
class TimeSource implements Source {
  readonly #page: StatementSync;
  readonly #range: Range;
  readonly #from: number;
  readonly #to: number;
  #seqs: number[] = [];
  #at = 0;
  #last = 0;
  #done = false;
  #pageSize = 64;

  /** `page` takes (lo, hi, from, to, limit) and answers seqs in the range's order. */
  constructor(page: StatementSync, range: Range, from: number, to: number) {
    this.#page = page;
    this.#range = range;
    this.#from = from;
    this.#to = to;
  }

  next(): number {
    for (;;) {
      if (this.#at < this.#seqs.length) return this.#seqs[this.#at++] as number;
      if (this.#done) return 0;
      const { descending, lo, hi } = this.#range;
      const first = this.#last === 0;
      const rows = this.#page.all(
        descending || first ? lo : this.#last + 1,
        !descending || first ? hi : this.#last - 1,
        this.#from,
        this.#to,
        this.#pageSize,
      ) as { seq: number }[];
      this.#seqs = rows.map((row) => row.seq);
      this.#at = 0;
      if (rows.length < this.#pageSize) this.#done = true;
      else this.#pageSize = Math.min(this.#pageSize * 4, 4096);
      if (rows.length > 0) this.#last = this.#seqs[this.#seqs.length - 1] as number;
    }
  }
}

/**
 * The seqs of one key of a segmented (segment, key, seq) index, fetched a page at a time, segment by
 * segment in the range's order.
 */
class KeySource implements Source {
  readonly #page: StatementSync;
  readonly #key: number;
  readonly #range: Range;
  #seqs: number[] = [];
  #at = 0;
  #segment: number;
  /** The last seq fetched in this segment (the next page starts after it); 0 before its first page. */
  #last = 0;
  #segmentDone = false;
  #pageSize = 16;

  readonly #shift: number;

  /** `page` takes (segment, key, lo, hi, limit) and answers seqs in the range's order. */
  constructor(page: StatementSync, key: number, range: Range, segmentShift: number) {
    this.#page = page;
    this.#key = key;
    this.#range = range;
    this.#shift = segmentShift;
    this.#segment = (range.descending ? range.hi - 1 : range.lo - 1) >> segmentShift;
  }

  next(): number {
    const { descending, lo, hi } = this.#range;
    for (;;) {
      if (this.#at < this.#seqs.length) return this.#seqs[this.#at++] as number;
      if (this.#segmentDone) {
        this.#segment += descending ? -1 : 1;
        if (descending ? this.#segment < (lo - 1) >> this.#shift : this.#segment > (hi - 1) >> this.#shift) {
          return 0;
        }
        this.#segmentDone = false;
        this.#last = 0;
      }
      const segmentLo = Math.max(lo, this.#segment * 2 ** this.#shift + 1);
      const segmentHi = Math.min(hi, (this.#segment + 1) * 2 ** this.#shift);
      const from = descending || this.#last === 0 ? segmentLo : this.#last + 1;
      const to = !descending || this.#last === 0 ? segmentHi : this.#last - 1;
      const rows = this.#page.all(this.#segment, this.#key, from, to, this.#pageSize) as { seq: number }[];
      this.#seqs = rows.map((row) => row.seq);
      this.#at = 0;
      if (rows.length < this.#pageSize) this.#segmentDone = true;
      else this.#pageSize = Math.min(this.#pageSize * 4, 4096);
      if (rows.length > 0) this.#last = this.#seqs[this.#seqs.length - 1] as number;
    }
  }
}

/** The seqs of a chunked posting list (audit_lists), a chunk at a time. */
class ListSource implements Source {
  readonly #table: AuditTable;
  readonly #list: number;
  readonly #range: Range;
  #seqs: Uint32Array = new Uint32Array(0);
  #at = 0;
  #end = 0;
  /** `first` of the chunk read last (0: none yet). */
  #chunk = 0;
  #done = false;

  constructor(table: AuditTable, list: number, range: Range) {
    this.#table = table;
    this.#list = list;
    this.#range = range;
  }

  next(): number {
    const { descending, lo, hi } = this.#range;
    for (;;) {
      if (this.#at !== this.#end) {
        const seq = this.#seqs[this.#at] as number;
        if (descending) {
          this.#at--;
          if (seq < lo) return 0;
        } else {
          this.#at++;
          if (seq > hi) return 0;
        }
        return seq;
      }
      if (this.#done) return 0;
      const chunk = this.#table.chunk(this.#list, descending, this.#chunk, descending ? hi : lo);
      if (chunk === null) {
        this.#done = true;
        return 0;
      }
      this.#chunk = chunk.first;
      const seqs = chunk.seqs;
      this.#seqs = seqs;
      if (descending) {
        // From the last seq <= hi down.
        this.#at = bound(seqs, hi, true) - 1;
        this.#end = -1;
      } else {
        this.#at = bound(seqs, lo, false);
        this.#end = seqs.length;
      }
    }
  }
}

/** Several sources merged, in order (types, a feature's history). */
class MergeSource implements Source {
  readonly #sources: Source[];
  readonly #heads: number[];
  readonly #descending: boolean;

  constructor(sources: Source[], descending: boolean) {
    this.#sources = sources;
    this.#heads = sources.map((source) => source.next());
    this.#descending = descending;
  }

  next(): number {
    let best = -1;
    let bestSeq = 0;
    for (let i = 0; i < this.#heads.length; i++) {
      const seq = this.#heads[i] as number;
      if (seq === 0) continue;
      if (best < 0 || (this.#descending ? seq > bestSeq : seq < bestSeq)) {
        best = i;
        bestSeq = seq;
      }
    }
    if (best < 0) return 0;
    this.#heads[best] = (this.#sources[best] as Source).next();
    return bestSeq;
  }
}

/** A candidate row's filter columns. */
type FilterRow = [seq: number, type: number, entity: number, project: number | null, actor: number, at: number];

export class AuditTable {
  readonly #db: DatabaseSync;
  readonly #statements: ReturnType<typeof prepare>;
  /** Name → id, for the names met lately. */
  readonly #nameIds = new RecentMap<string, number>(NAME_CACHE_MAX);
  /** The main thread's local numbers (this numbering): the strings, and the name id or stream each became. */
  #local: string[] = [];
  #localNameIds: number[] = [];
  #localStreams: (StreamState | undefined)[] = [];
  #lastActor = "";
  #lastActorId = 0;
  #count = 0;
  #lastPosition: string | null = null;
  /** Rows added since the last commit. */
  #uncommitted = 0;

  readonly #layout: AuditLayout;

  constructor(path: string, layout: AuditLayout = DEFAULT_LAYOUT) {
    const { segmentShift, blockShift, chunkMax } = layout;
    const shift = (value: number) => Number.isInteger(value) && value >= 2 && value <= 30;
    if (!shift(segmentShift) || !shift(blockShift) || !Number.isInteger(chunkMax) || chunkMax < 2) {
      throw new Error(`audit index: bad layout ${JSON.stringify(layout)}`);
    }
    const db = new DatabaseSync(path);
    this.#db = db;
    this.#layout = layout;
    try {
      if (path !== ":memory:") {
        // One process owns the file (the runner feeds it from one place); WAL without shared memory.
        db.exec("PRAGMA locking_mode = EXCLUSIVE");
        db.exec("PRAGMA journal_mode = WAL");
        // A projection: losing the last transactions on power loss only means re-reading them from the log.
        db.exec("PRAGMA synchronous = NORMAL");
        db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
      }
      db.exec("PRAGMA temp_store = MEMORY");
      this.#migrate();
      this.#statements = prepare(db, layout);
      const last = this.#statements.last.get() as { seq: number; position: string } | undefined;
      this.#count = last?.seq ?? 0;
      this.#lastPosition = last?.position ?? null;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  #migrate(): void {
    const db = this.#db;
    const version = Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
    const { segmentShift, blockShift, chunkMax } = this.#layout;
    const layout = JSON.stringify({ segmentShift, blockShift, chunkMax });
    if (version === AUDIT_INDEX_VERSION) {
      const stored = db.prepare("SELECT value FROM audit_meta WHERE key = 'layout'").get() as
        | { value: string }
        | undefined;
      if (stored?.value === layout) return;
    }
    if (version > AUDIT_INDEX_VERSION) {
      throw new Error(`audit index has schema version ${version}; this build supports ${AUDIT_INDEX_VERSION}`);
    }
    // Another layout (older, or an empty file): dropped whole and rebuilt from the log, never mixed.
    db.exec("BEGIN");
    try {
      const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
      for (const { name } of tables.all() as { name: string }[]) db.exec(`DROP TABLE "${name.replaceAll('"', '""')}"`);
      db.exec(SCHEMA);
      db.prepare("INSERT INTO audit_meta (key, value) VALUES ('layout', ?)").run(layout);
      db.exec(`PRAGMA user_version = ${AUDIT_INDEX_VERSION}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }

  head(): { lastPosition: string | null; count: number } {
    return { lastPosition: this.#lastPosition, count: this.#count };
  }

  /** The id of a name, added to the dictionary when new. */
  #nameId(name: string): number {
    let id = this.#nameIds.get(name);
    if (id === undefined) {
      const hash = nameHash(name);
      id = this.#storedNameId(name, hash);
      if (id === undefined) id = Number(this.#statements.addName.run(hash, name).lastInsertRowid);
      this.#nameIds.set(name, id);
    }
    return id;
  }

  /** The id of a name if the dictionary has it (a query's filter value), else null. */
  #knownNameId(name: string): number | null {
    return this.#nameIds.get(name) ?? this.#storedNameId(name, nameHash(name)) ?? null;
  }

  #storedNameId(name: string, hash: number): number | undefined {
    // Names are looked up by a hash (an integer index is smaller and cheaper to keep up than one on the
    // text); the text decides between names that share it.
    for (const row of this.#statements.namesWithHash.all(hash) as { id: number; name: string }[]) {
      if (row.name === name) return row.id;
    }
    return undefined;
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
      const placement = placeStream(this.#local[local] as string);
      const entity = this.#nameId(placement.entityId);
      let history: number | null = null;
      if (placement.kind === "release") {
        history = (this.#statements.releaseHistory.get(entity) as { history: number } | undefined)?.history ?? null;
      }
      stream = { placement, entity, history, project: null, projectId: null };
      this.#localStreams[local] = stream;
    }
    return stream;
  }

  #forgetLocal(): void {
    this.#local = [];
    this.#localNameIds = [];
    this.#localStreams = [];
  }

  /** Adds a batch of events: rows and indexes in one transaction (the last row is the checkpoint). */
  add(batch: EventBatch): void {
    const db = this.#db;
    const s = this.#statements;
    const { ids } = batch;
    const positions = UTF8.decode(batch.positions).split("\n");
    const recordedAt = UTF8.decode(batch.recordedAt).split("\n");
    const metadata = JSON.parse(UTF8.decode(batch.metadata)) as AuditMetadata[];
    if (batch.reset) this.#forgetLocal();
    for (const name of batch.names) this.#local.push(name);
    const count = ids.length / IDS_PER_EVENT;
    if (count === 0) return;
    const firstSeq = this.#count + 1;
    /** list id → the batch's seqs on it, ascending. */
    const lists = new Map<number, number[]>();
    const post = (list: number, seq: number): void => {
      const seqs = lists.get(list);
      if (seqs === undefined) lists.set(list, [seq]);
      else seqs.push(seq);
    };
    /** block → [lo, hi] of the batch's times in it. */
    const blocks = new Map<number, [number, number]>();
    let histories = false;
    const { blockShift } = this.#layout;
    if (!db.isTransaction) db.exec("BEGIN");
    // A batch is whole or absent: a savepoint inside the open transaction.
    db.exec("SAVEPOINT batch");
    try {
      for (let e = 0; e < count; e++) {
        const i = e * IDS_PER_EVENT;
        const seq = firstSeq + e;
        const stream = this.#localStream(ids[i] as number);
        const entity = stream.entity;
        if (stream.history === null && stream.placement.kind === "release") {
          const feature = ids[i + 3] as number;
          if (feature >= 0) {
            const history = this.#localNameId(feature);
            if (history !== entity) {
              stream.history = history;
              s.addRelease.run(entity, history);
            }
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
          stream.projectId = project === null ? null : this.#nameId(project);
        }
        const actor = actorOf(meta);
        if (actor !== this.#lastActor) {
          this.#lastActor = actor;
          this.#lastActorId = this.#nameId(actor);
        }
        const type = this.#localNameId(ids[i + 1] as number);
        const time = eventTimeOf(meta, recordedAt[e] as string);
        s.addRow.run(
          seq,
          positions[e] as string,
          type,
          entity,
          stream.projectId,
          stream.history,
          this.#lastActorId,
          time,
        );
        if (stream.history !== null) histories = true;
        post(type * 4 + TYPE_LIST, seq);
        if (stream.projectId !== null) post(stream.projectId * 4 + PROJECT_LIST, seq);
        post(this.#lastActorId * 4 + ACTOR_LIST, seq);
        const block = (seq - 1) >> blockShift;
        const span = blocks.get(block);
        if (span === undefined) blocks.set(block, [time, time]);
        else if (time < span[0]) span[0] = time;
        else if (time > span[1]) span[1] = time;
      }
      const lastSeq = firstSeq + count - 1;
      s.postEntities.run(firstSeq, lastSeq);
      if (histories) s.postHistories.run(firstSeq, lastSeq);
      for (const [list, seqs] of lists) this.#appendToList(list, seqs);
      for (const [block, [lo, hi]] of blocks) s.widenBlock.run(block, lo, hi);
      db.exec("RELEASE batch");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK TO batch; RELEASE batch");
      // Names added in the transaction are gone: forget every id learned from it.
      this.#nameIds.clear();
      this.#forgetLocal();
      this.#lastActor = "";
      throw error;
    }
    this.#count += count;
    this.#lastPosition = positions[count - 1] as string;
    this.#uncommitted += count;
    if (this.#uncommitted >= COMMIT_ROWS) this.commit();
  }

  /**
   * Commits the batches added since the last commit (the worker does when its queue is drained, and
   * every COMMIT_ROWS rows): the last committed row is where a reopened index resumes.
   */
  commit(): void {
    if (this.#db.isTransaction) this.#db.exec("COMMIT");
    this.#uncommitted = 0;
  }

  /** Appends ascending seqs to a posting list: fills its last chunk, then adds chunks of chunkMax. */
  #appendToList(list: number, seqs: number[]): void {
    const s = this.#statements;
    let from = 0;
    const last = s.lastChunk.get(list) as { id: number; n: number; seqs: Uint8Array } | undefined;
    const chunkMax = this.#layout.chunkMax;
    if (last !== undefined && last.n < chunkMax) {
      const take = Math.min(chunkMax - last.n, seqs.length);
      const merged = new Uint32Array(last.n + take);
      merged.set(seqsOf(last.seqs, last.n));
      for (let i = 0; i < take; i++) merged[last.n + i] = seqs[i] as number;
      s.updateChunk.run(merged.length, blobOf(merged), last.id);
      from = take;
    }
    while (from < seqs.length) {
      const to = Math.min(from + chunkMax, seqs.length);
      const chunk = Uint32Array.from(seqs.slice(from, to));
      s.addChunk.run(list, chunk[0] as number, chunk.length, blobOf(chunk));
      from = to;
    }
  }

  /**
   * The next chunk of a posting list in a walk: descending, the chunk before `previous` (or the one
   * holding `seq` and below, first); ascending, the one after `previous` (or the one holding `seq`).
   */
  chunk(list: number, descending: boolean, previous: number, seq: number): { first: number; seqs: Uint32Array } | null {
    const s = this.#statements;
    let row: { first: number; n: number; seqs: Uint8Array } | undefined;
    if (previous === 0) row = s.chunkAtOrBefore.get(list, seq) as typeof row;
    if (row === undefined) {
      if (descending) {
        if (previous === 0) return null;
        row = s.chunkBefore.get(list, previous) as typeof row;
      } else {
        row = s.chunkAfter.get(list, previous === 0 ? seq : previous) as typeof row;
      }
    }
    return row === undefined ? null : { first: row.first, seqs: seqsOf(row.seqs, row.n) };
  }

  #seqOfCursor(cursor: string): number {
    const seq = (this.#statements.seqOf.get(cursor) as { seq: number } | undefined)?.seq;
    if (seq === undefined) throw new UnknownCursorError(cursor);
    return seq;
  }

  /** The range a walk visits: after the cursor, within the rows whose block may hold times in [from, to]. */
  #range(descending: boolean, after: number | null, fromMs: number | null, toMs: number | null): Range | null {
    let lo = 1;
    let hi = this.#count;
    if (fromMs !== null || toMs !== null) {
      const span = this.#statements.blocksIn.get(fromMs ?? -Number.MAX_VALUE, toMs ?? Number.MAX_VALUE) as {
        first: number | null;
        last: number | null;
      };
      if (span.first === null || span.last === null) return null;
      const size = 2 ** this.#layout.blockShift;
      lo = Math.max(lo, span.first * size + 1);
      hi = Math.min(hi, (span.last + 1) * size);
    }
    if (after !== null) {
      if (descending) hi = Math.min(hi, after - 1);
      else lo = Math.max(lo, after + 1);
    }
    return lo > hi ? null : { descending, lo, hi };
  }

  #row(seq: number): TableRow {
    const row = this.#statements.row.get(seq) as unknown as [
      number,
      string,
      string | null,
      string,
      string | null,
      string,
      number,
    ];
    return {
      seq: row[0],
      position: row[1],
      before: row[2],
      entityId: row[3],
      projectId: row[4],
      actor: row[5],
      at: row[6],
    };
  }

  /** How many seqs a posting list holds (capped: only compared to choose the smallest source). */
  #listSize(list: number): number {
    return (this.#statements.listSize.get(list) as { n: number | null }).n ?? 0;
  }

  /** Rows of one page, keyset-paginated on seq. A name never stored matches nothing. */
  query(query: TableQuery): TableRow[] {
    const { filter } = query;
    const descending = query.order === "DESC";
    const idOf = (name: string | null | undefined): number | null | undefined =>
      name ? (this.#knownNameId(name) ?? undefined) : null;
    // null: no such filter; undefined: a name never stored (matches nothing).
    const project = idOf(filter.projectId);
    const entity = idOf(filter.entityId);
    const actor = idOf(filter.actor);
    if (project === undefined || entity === undefined || actor === undefined) return [];
    let types: number[] | null = null;
    if (filter.types && filter.types.length > 0) {
      const known = new Set<number>();
      for (const type of filter.types) {
        const id = this.#knownNameId(type);
        if (id !== null) known.add(id);
      }
      if (known.size === 0) return [];
      types = [...known];
    }
    const from = filter.fromMs ?? null;
    const to = filter.toMs ?? null;
    const after = query.after === null ? null : this.#seqOfCursor(query.after);
    const range = this.#range(descending, after, from, to);
    if (range === null) return [];
    const s = this.#statements;

    // The smallest source among the filters drives the walk; each candidate's row is checked against the
    // rest. Sizes are looked up only when there is a choice.
    const drivers: { size: () => number; make: () => Source }[] = [];
    if (entity !== null) {
      drivers.push({
        size: () => {
          // Counted segment by segment, up to COUNT_CAP: only compared with the other sources' sizes.
          let n = 0;
          const shift = this.#layout.segmentShift;
          for (let segment = (range.lo - 1) >> shift; segment <= (range.hi - 1) >> shift; segment++) {
            n += (s.entitySize.get(segment, entity, COUNT_CAP - n) as { n: number }).n;
            if (n >= COUNT_CAP) break;
          }
          return n;
        },
        make: () => new KeySource(descending ? s.entityDesc : s.entityAsc, entity, range, this.#layout.segmentShift),
      });
    }
    const list = (id: number, kind: number) => () => new ListSource(this, id * 4 + kind, range);
    const listDriver = (id: number, kind: number) => ({
      size: () => this.#listSize(id * 4 + kind),
      make: list(id, kind),
    });
    if (project !== null) drivers.push(listDriver(project, PROJECT_LIST));
    if (actor !== null) drivers.push(listDriver(actor, ACTOR_LIST));
    if (types !== null) {
      const chosen = types;
      drivers.push({
        size: () => chosen.reduce((sum, type) => sum + this.#listSize(type * 4 + TYPE_LIST), 0),
        make: () =>
          chosen.length === 1
            ? list(chosen[0] as number, TYPE_LIST)()
            : new MergeSource(
                chosen.map((type) => list(type, TYPE_LIST)()),
                descending,
              ),
      });
    }
    const filters = drivers.length;
    const timed = from !== null || to !== null;
    // Every row of the range: the only source without filters, and a candidate when a time range is narrow.
    drivers.push({
      size: () => range.hi - range.lo + 1,
      make: () =>
        timed
          ? new TimeSource(
              descending ? s.timeDesc : s.timeAsc,
              range,
              from ?? Number.MIN_SAFE_INTEGER,
              to ?? Number.MAX_SAFE_INTEGER,
            )
          : new AllSource(range),
    });
    let driver = drivers[0] as (typeof drivers)[number];
    if (filters + (timed ? 1 : 0) >= 2) {
      let smallest = Number.POSITIVE_INFINITY;
      for (const candidate of drivers) {
        const size = candidate.size();
        if (size < smallest) {
          smallest = size;
          driver = candidate;
        }
      }
    }
    // With one filter and no time range its source alone answers (so does every row of a time range);
    // otherwise candidates are checked, a growing run of them per statement.
    const residual = filters > 1 || (timed && filters > 0);
    const typeSet = types === null ? null : new Set(types);
    const source = driver.make();
    const found: number[] = [];
    const candidates: number[] = [];
    let want = residual ? 32 : query.limit;
    for (;;) {
      candidates.length = 0;
      for (let seq = source.next(); seq !== 0; seq = source.next()) {
        candidates.push(seq);
        if (candidates.length >= want) break;
      }
      if (!residual) found.push(...candidates.slice(0, query.limit - found.length));
      else if (candidates.length > 0) {
        for (const row of s.filterRows.all(JSON.stringify(candidates)) as unknown as FilterRow[]) {
          if (entity !== null && row[2] !== entity) continue;
          if (project !== null && row[3] !== project) continue;
          if (actor !== null && row[4] !== actor) continue;
          if (typeSet !== null && !typeSet.has(row[1])) continue;
          const time = row[5];
          if ((from !== null && time < from) || (to !== null && time > to)) continue;
          found.push(row[0]);
          if (found.length >= query.limit) break;
        }
      }
      if (found.length >= query.limit || candidates.length < want) break;
      want = Math.min(want * 4, 4096);
    }
    return found.map((seq) => this.#row(seq));
  }

  /** An entity's history (a feature's: its own events and its releases'), newest first. */
  history(entityId: string, after: string | null, limit: number): TableRow[] {
    const from = after === null ? null : this.#seqOfCursor(after);
    const id = this.#knownNameId(entityId);
    if (id === null) return [];
    const range = this.#range(true, from, null, null);
    if (range === null) return [];
    const s = this.#statements;
    // The entity's own rows (those not moved to a feature's history) and the rows moved to its history.
    const source = new MergeSource(
      [
        new KeySource(s.ownDesc, id, range, this.#layout.segmentShift),
        new KeySource(s.historyDesc, id, range, this.#layout.segmentShift),
      ],
      true,
    );
    const found: TableRow[] = [];
    for (let seq = source.next(); seq !== 0; seq = source.next()) {
      found.push(this.#row(seq));
      if (found.length >= limit) break;
    }
    return found;
  }

  /** The row at `position`, or null. */
  row(position: string): TableRow | null {
    const seq = (this.#statements.seqOf.get(position) as { seq: number } | undefined)?.seq;
    return seq === undefined ? null : this.#row(seq);
  }

  /** The position of the latest event at or before `ms` (ties: the later in the log), or null. */
  positionAt(ms: number): string | null {
    const s = this.#statements;
    const size = 2 ** this.#layout.blockShift;
    let best: { seq: number; at: number } | undefined;
    // Blocks whose times are all at or before `ms`: the latest time among them, in the last such block.
    const latest = (s.latestFullTime.get(ms) as { hi: number | null }).hi;
    if (latest !== null) {
      const { block } = s.lastBlockAt.get(latest) as { block: number };
      best = s.lastAtTime.get(block * size + 1, (block + 1) * size, latest) as typeof best;
    }
    // Blocks that straddle `ms` (few: times nearly follow the log): their latest row at or before it.
    for (const { block } of s.straddling.all(ms, ms) as { block: number }[]) {
      const found = s.latestAtOrBefore.get(block * size + 1, (block + 1) * size, ms) as typeof best;
      if (
        found !== undefined &&
        (best === undefined || found.at > best.at || (found.at === best.at && found.seq > best.seq))
      ) {
        best = found;
      }
    }
    return best === undefined ? null : (s.positionOf.get(best.seq) as { position: string }).position;
  }

  /** Nothing deferred: every batch leaves the indexes complete. */
  finishBulkLoad(): void {}

  clear(): void {
    const db = this.#db;
    this.commit();
    db.exec("BEGIN");
    try {
      for (const table of TABLES) db.exec(`DELETE FROM ${table}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
    this.#nameIds.clear();
    this.#forgetLocal();
    this.#lastActor = "";
    this.#count = 0;
    this.#lastPosition = null;
  }

  close(): void {
    this.commit();
    this.#db.close();
  }
}

function prepare(db: DatabaseSync, layout: AuditLayout) {
  const arrays = (statement: StatementSync): StatementSync => {
    statement.setReturnArrays(true);
    return statement;
  };
  return {
    last: db.prepare("SELECT seq, position FROM audit_events ORDER BY seq DESC LIMIT 1"),
    namesWithHash: db.prepare("SELECT id, name FROM audit_names WHERE hash = ?"),
    addName: db.prepare("INSERT INTO audit_names (hash, name) VALUES (?, ?)"),
    releaseHistory: db.prepare("SELECT history FROM audit_releases WHERE entity = ?"),
    addRelease: db.prepare("INSERT OR REPLACE INTO audit_releases (entity, history) VALUES (?, ?)"),
    addRow: db.prepare(
      "INSERT INTO audit_events (seq, position, type, entity, project, history, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    // In key order: consecutive inserts land on the same or the next B-tree page.
    postEntities: db.prepare(
      `INSERT INTO audit_by_entity (segment, entity, seq)
         SELECT (seq - 1) >> ${layout.segmentShift}, entity, seq FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY 1, 2, 3`,
    ),
    postHistories: db.prepare(
      `INSERT INTO audit_by_history (segment, history, seq)
         SELECT (seq - 1) >> ${layout.segmentShift}, history, seq FROM audit_events
         WHERE seq BETWEEN ? AND ? AND history IS NOT NULL ORDER BY 1, 2, 3`,
    ),
    lastChunk: db.prepare("SELECT id, n, seqs FROM audit_lists WHERE list = ? ORDER BY first DESC LIMIT 1"),
    updateChunk: db.prepare("UPDATE audit_lists SET n = ?, seqs = ? WHERE id = ?"),
    addChunk: db.prepare("INSERT INTO audit_lists (list, first, n, seqs) VALUES (?, ?, ?, ?)"),
    widenBlock: db.prepare(
      "INSERT INTO audit_blocks (block, lo, hi) VALUES (?, ?, ?) ON CONFLICT (block) DO UPDATE SET lo = min(lo, excluded.lo), hi = max(hi, excluded.hi)",
    ),
    seqOf: db.prepare("SELECT seq FROM audit_events WHERE position = ?"),
    positionOf: db.prepare("SELECT position FROM audit_events WHERE seq = ?"),
    // The candidates' filter columns, in the order of the JSON array of their seqs.
    filterRows: arrays(
      db.prepare(
        "SELECT e.seq, e.type, e.entity, e.project, e.actor, e.at FROM json_each(?) j CROSS JOIN audit_events e ON e.seq = j.value",
      ),
    ),
    timeDesc: db.prepare(
      "SELECT seq FROM audit_events WHERE seq BETWEEN ? AND ? AND at BETWEEN ? AND ? ORDER BY seq DESC LIMIT ?",
    ),
    timeAsc: db.prepare(
      "SELECT seq FROM audit_events WHERE seq BETWEEN ? AND ? AND at BETWEEN ? AND ? ORDER BY seq LIMIT ?",
    ),
    // An entity's own rows: those not in a feature's history.
    ownDesc: db.prepare(
      `SELECT p.seq FROM audit_by_entity p CROSS JOIN audit_events e ON e.seq = p.seq
       WHERE p.segment = ? AND p.entity = ? AND p.seq BETWEEN ? AND ? AND e.history IS NULL ORDER BY p.seq DESC LIMIT ?`,
    ),
    row: arrays(
      db.prepare(
        `SELECT e.seq, e.position,
           (SELECT position FROM audit_events WHERE seq = e.seq - 1),
           (SELECT name FROM audit_names WHERE id = e.entity),
           (SELECT name FROM audit_names WHERE id = e.project),
           (SELECT name FROM audit_names WHERE id = e.actor),
           e.at
         FROM audit_events e WHERE e.seq = ?`,
      ),
    ),
    entitySize: db.prepare(
      "SELECT count(*) AS n FROM (SELECT 1 FROM audit_by_entity WHERE segment = ? AND entity = ? LIMIT ?)",
    ),
    listSize: db.prepare("SELECT sum(n) AS n FROM audit_lists WHERE list = ?"),
    entityDesc: db.prepare(
      "SELECT seq FROM audit_by_entity WHERE segment = ? AND entity = ? AND seq BETWEEN ? AND ? ORDER BY seq DESC LIMIT ?",
    ),
    entityAsc: db.prepare(
      "SELECT seq FROM audit_by_entity WHERE segment = ? AND entity = ? AND seq BETWEEN ? AND ? ORDER BY seq LIMIT ?",
    ),
    historyDesc: db.prepare(
      "SELECT seq FROM audit_by_history WHERE segment = ? AND history = ? AND seq BETWEEN ? AND ? ORDER BY seq DESC LIMIT ?",
    ),
    chunkAtOrBefore: db.prepare(
      "SELECT first, n, seqs FROM audit_lists WHERE list = ? AND first <= ? ORDER BY first DESC LIMIT 1",
    ),
    chunkBefore: db.prepare(
      "SELECT first, n, seqs FROM audit_lists WHERE list = ? AND first < ? ORDER BY first DESC LIMIT 1",
    ),
    chunkAfter: db.prepare(
      "SELECT first, n, seqs FROM audit_lists WHERE list = ? AND first > ? ORDER BY first LIMIT 1",
    ),
    blocksIn: db.prepare("SELECT min(block) AS first, max(block) AS last FROM audit_blocks WHERE hi >= ? AND lo <= ?"),
    latestFullTime: db.prepare("SELECT max(hi) AS hi FROM audit_blocks WHERE hi <= ?"),
    lastBlockAt: db.prepare("SELECT max(block) AS block FROM audit_blocks WHERE hi = ?"),
    lastAtTime: db.prepare(
      "SELECT seq, at FROM audit_events WHERE seq BETWEEN ? AND ? AND at = ? ORDER BY seq DESC LIMIT 1",
    ),
    straddling: db.prepare("SELECT block FROM audit_blocks WHERE hi > ? AND lo <= ?"),
    latestAtOrBefore: db.prepare(
      "SELECT seq, at FROM audit_events WHERE seq BETWEEN ? AND ? AND at <= ? ORDER BY at DESC, seq DESC LIMIT 1",
    ),
  };
}

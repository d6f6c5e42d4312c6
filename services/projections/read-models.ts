// The read models: live state of every project, API token, pipeline, feature and release, and the indexes
// the GraphQL queries need — a projection persisted in SQLite with its checkpoint, fed event by event in
// global order by the projection runner. See docs/decisions/0005-read-models.md and 0042.
//
// Each entity's state is built by the SAME evolve its decider uses (evolveProject, evolveToken,
// evolvePipeline, evolveFeature, the release evolve), after the same upcasters the command handler applies:
// a read model never holds a second copy of the domain rules. The indexes are columns derived from each
// entity's state (and, for orders that depend on history, from the event that changed it).
//
// - One table per entity kind: the state as JSON plus the columns the lists are queried by, each list an
//   index. A process holds in memory only a bounded cache of parsed states and the entities changed since
//   the last commit.
// - `apply` changes entities in memory; `commit` writes them and the checkpoint (the position of the last
//   applied event, the counts) in ONE transaction. A crash between two commits loses nothing: the next start
//   resumes from the committed checkpoint and applies the rest again, onto the rows of that same commit.
// - Getters are synchronous (node:sqlite is): by id from the uncommitted changes, the cache, or a row;
//   lists first write the uncommitted changes into the open transaction, then query their index.
// - Getters return frozen snapshots: states are immutable values (evolve returns new objects, sharing what
//   did not change), frozen when first handed out.
// - The file's name carries READ_MODELS_VERSION: a build whose rows have another shape never opens it.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { AsOfSnapshot, AsOfSnapshots } from "../audit/as-of.ts";
import { type AuditMetadata, eventTimeOf } from "../audit/audit-event.ts";
import type { DomainEvent } from "../core/decider.ts";
import type { ReleaseStatus } from "../core/model.ts";
import { type EntityKind, parseStream, streams } from "../core/streams.ts";
import { UPCASTERS } from "../core/upcasters.ts";
import { upcastEvent } from "../event-store/command-handler.ts";
import type { EventMetadata, RecordedEvent, StoredEvent } from "../event-store/port.ts";
import type { FeatureEvent } from "../feature/events.ts";
import { evolveFeature, type Feature } from "../feature/feature.ts";
import type { PipelineEvent } from "../pipeline/events.ts";
import { evolvePipeline, type Pipeline } from "../pipeline/pipeline.ts";
import type { ProjectEvent } from "../project/events.ts";
import { evolveProject, type Project } from "../project/project.ts";
import type { ReleaseEvent } from "../release/events.ts";
import { evolve as evolveRelease, type Release } from "../release/release.ts";
import type { SdkKeyEvent } from "../sdk-key/events.ts";
import { evolveSdkKey, type SdkKey } from "../sdk-key/sdk-key.ts";
import type { TokenEvent } from "../token/events.ts";
import { type ApiToken, evolveToken, normalizeTokenName } from "../token/token.ts";
import type { DeliveryEvent, WebhookEvent } from "../webhook/events.ts";
import { type Delivery, evolveDelivery, evolveWebhook, type Webhook } from "../webhook/webhook.ts";
import { codeFingerprint } from "./version.ts";

/**
 * The shape of the rows and of the states in them. Bump it whenever a table, a column, an evolve or an
 * upcaster changes what a replay of the same log would store: the file name carries it, so a new build
 * rebuilds into a new file and never reads rows of another shape. The file name also carries a fingerprint
 * of the code (READ_MODELS_SHAPE), so a forgotten bump still rebuilds.
 */
export const READ_MODELS_VERSION = 1;

/**
 * What the file name of the read models carries: READ_MODELS_VERSION and a fingerprint of this module and
 * everything it imports (version.ts), so that no build reads rows another build's code wrote.
 */
export const READ_MODELS_SHAPE = `${READ_MODELS_VERSION}-${codeFingerprint(new URL(import.meta.url))}`;

/** The file of the read models in a projections directory (a slot, see slots.ts). */
export const readModelsFile = (dir: string, shape = READ_MODELS_SHAPE): string => `${dir}/read-models-v${shape}.sqlite`;

/** An event that could not be applied (its evolve threw): kept, not fatal, so one bad event cannot stop every read. */
export interface ProjectionProblem {
  position: string;
  stream: string;
  type: string;
  message: string;
}

/** What one applied event changed: the entity it touched, before and after. */
export interface AppliedChange {
  kind: EntityKind | null;
  id: string;
  before: unknown;
  after: unknown;
}

export interface ReadModelCounts {
  events: number;
  projects: number;
  tokens: number;
  pipelines: number;
  features: number;
  releases: number;
  releasesInProgress: number;
  releasesAwaitingApproval: number;
}

export interface ReadModelsOptions {
  /** SQLite file (created if missing), or `:memory:` (default: a private database, for tests and tools). */
  path?: string;
  /** Parsed states kept in memory beside the uncommitted ones (default 4,000; env READ_MODEL_CACHE). */
  cacheEntries?: number;
  /** Events of a stream between two snapshots for the as-of queries (default SNAPSHOT_EVERY). */
  snapshotEvery?: number;
}

/**
 * Takes the write lock of `db` now and keeps it until the connection closes (SQLite's exclusive locking
 * mode, released by the kernel when the process dies): false when another connection holds it. `setup`
 * runs inside the transaction that takes the lock. Used for the read models' file and a slot's lock.
 */
export function lockExclusively(db: DatabaseSync, setup = ""): boolean {
  db.exec("PRAGMA busy_timeout = 0");
  db.exec("PRAGMA locking_mode = EXCLUSIVE");
  try {
    db.exec(`BEGIN IMMEDIATE; ${setup} COMMIT;`);
    return true;
  } catch (error) {
    if (error instanceof Error && /locked|busy/i.test(error.message)) return false;
    throw error;
  }
}

/** Another process holds the projection file (see slots.ts: each process takes a slot of its own). */
export class ProjectionFileBusyError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`projection file ${path} is held by another process`);
    this.path = path;
    this.name = "ProjectionFileBusyError";
  }
}

const PROBLEMS_KEPT = 100;

/**
 * The boot this machine is in (Linux), null where unknown. A full build writes without fsync — a process
 * crash loses nothing SQLite handed to the kernel, only a machine crash can — and marks its file with the
 * boot id until it has synced: a file marked by another boot is thrown away and built again.
 */
const bootId = (): string | null => {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
};

/** Writes `text` to `path` and waits until it is on disk. */
const writeDurably = (path: string, text: string): void => {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};
/**
 * Every this many events of a stream of a kind the as-of queries fold, the state after that event is kept
 * (with its position and the latest event time so far): `featureAsOf` & co. start from the last snapshot at
 * or before their point and read at most this many events, however long the stream.
 */
export const SNAPSHOT_EVERY = 256;
const SNAPSHOT_KINDS: ReadonlySet<EntityKind> = new Set<EntityKind>(["project", "pipeline", "feature", "release"]);
const OCCURRED_AT = '"occurredAt":"';

/** The audit log's time of an event (eventTimeOf), without parsing stored metadata when it can be helped. */
const timeOf = (recorded: RecordedEvent | StoredEvent): number => {
  if (!("metadataJson" in recorded)) return eventTimeOf(recorded.metadata as AuditMetadata, recorded.recordedAt);
  const json = recorded.metadataJson;
  const at = json.indexOf(OCCURRED_AT);
  if (at < 0) return eventTimeOf(JSON.parse(json) as AuditMetadata, recorded.recordedAt);
  const start = at + OCCURRED_AT.length;
  return eventTimeOf({ occurredAt: json.slice(start, json.indexOf('"', start)) } as AuditMetadata, recorded.recordedAt);
};
const DEFAULT_CACHE_ENTRIES = 4_000;

/** Event types an upcaster rewrites (a Set: looking a fresh string up in a frozen object costs more). */
const UPCAST_TYPES = new Set(Object.keys(UPCASTERS));

/** The event as today's evolve expects it (an upcaster applies to its type; it reads the schemaVersion). */
const upcast = (recorded: RecordedEvent | StoredEvent): DomainEvent =>
  upcastEvent(
    {
      type: recorded.type,
      data: recorded.data,
      metadata: "metadataJson" in recorded ? (JSON.parse(recorded.metadataJson) as EventMetadata) : recorded.metadata,
    },
    UPCASTERS,
  );

const EMPTY: readonly never[] = Object.freeze([]);

/** Freezes a value and everything reachable from it that is not frozen yet (shared parts are skipped). */
export function freeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) freeze(value[i]);
    } else {
      for (const key in value) freeze((value as Record<string, unknown>)[key]);
    }
  }
  return value;
}

const isAwaitingApproval = (release: Release): boolean => {
  if (release.status !== "IN_PROGRESS") return false;
  return release.phases[release.currentPhaseIndex]?.status === "AWAITING_APPROVAL";
};

const keyOf = (projectId: string, key: string): string => `${projectId}\u0000${key}`;

/**
 * One entity as the read models hold it: its state and the orders that depend on history. `ord` is the
 * sequence number (1-based count of applied events) of the event that created it; `orderA` / `orderB` are
 * per kind (a feature: when its current pipeline was attached; a release: when it began to await approval,
 * when it went in progress), null when not in that list.
 */
interface Entry {
  readonly kind: EntityKind;
  readonly id: string;
  readonly stream: string;
  ord: number;
  state: unknown;
  orderA: number | null;
  orderB: number | null;
  /** The latest event time (epoch ms) of the stream so far: which as-of instants a snapshot can serve. */
  maxAt: number;
  /**
   * The indexed columns as last written (or read), null before the row exists: a write that changes none
   * of them updates the state alone and leaves every index as it is.
   */
  stored: string | null;
}

interface PendingSnapshot {
  stream: string;
  revision: number;
  position: string;
  maxAt: number;
  state: unknown;
}

/** How a kind is stored: its table and the columns its lists are queried by. */
interface KindTable {
  readonly table: string;
  /** Columns besides id, ord, state, order_a, order_b. */
  readonly columns: readonly string[];
  /** Their values for an entry. */
  readonly values: (entry: Entry) => SQLInputValue[];
  readonly indexes: readonly string[];
}

const stateOf = <T>(entry: Entry): T => entry.state as T;

/** The indexed columns of a row, as one comparable text. */
const indexedKey = (orderA: number | null, orderB: number | null, values: readonly SQLInputValue[]): string =>
  JSON.stringify([orderA, orderB, ...values]);

const TABLES: Record<EntityKind, KindTable> = {
  project: { table: "projects", columns: [], values: () => [], indexes: [] },
  token: {
    table: "tokens",
    columns: ["secret_hash", "name_key"],
    values: (e) => [stateOf<ApiToken>(e).secretHash, normalizeTokenName(stateOf<ApiToken>(e).name)],
    indexes: ["(secret_hash)", "(name_key)"],
  },
  pipeline: {
    table: "pipelines",
    columns: ["project_id"],
    values: (e) => [stateOf<Pipeline>(e).projectId],
    indexes: ["(project_id, ord)"],
  },
  feature: {
    table: "features",
    // live_key: the key while the feature is not deleted; pipeline_ref: its pipeline while not deleted.
    columns: ["project_id", "live_key", "pipeline_ref"],
    values: (e) => {
      const f = stateOf<Feature>(e);
      const deleted = f.deletedAt !== null;
      return [f.projectId, deleted ? null : f.key, deleted ? null : f.pipelineId];
    },
    indexes: ["(project_id, ord)", "(project_id, live_key)", "(pipeline_ref, order_a)"],
  },
  release: {
    table: "releases",
    columns: ["project_id", "feature_id", "status"],
    values: (e) => {
      const r = stateOf<Release>(e);
      return [r.projectId, r.featureId, r.status];
    },
    indexes: [
      "(feature_id, ord)",
      "(project_id, status, ord)",
      "(order_a) WHERE order_a IS NOT NULL",
      "(order_b) WHERE order_b IS NOT NULL",
    ],
  },
  webhook: {
    table: "webhooks",
    columns: ["project_id"],
    values: (e) => [stateOf<Webhook>(e).projectId],
    indexes: ["(project_id, ord)"],
  },
  delivery: {
    table: "deliveries",
    columns: ["webhook_id"],
    values: (e) => [stateOf<Delivery>(e).webhookId],
    indexes: ["(webhook_id, ord)"],
  },
  sdkKey: {
    table: "sdk_keys",
    columns: ["project_id", "secret_hash"],
    values: (e) => [stateOf<SdkKey>(e).projectId, stateOf<SdkKey>(e).secretHash],
    indexes: ["(project_id, ord)", "(secret_hash)"],
  },
};

const KINDS = Object.keys(TABLES) as EntityKind[];

const TABLES_SQL = (): string =>
  [
    "CREATE TABLE IF NOT EXISTS checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL) STRICT;",
    "CREATE TABLE IF NOT EXISTS snapshots (stream TEXT NOT NULL, revision INTEGER NOT NULL, position TEXT NOT NULL, max_at INTEGER NOT NULL, state TEXT NOT NULL) STRICT;",
    "CREATE UNIQUE INDEX IF NOT EXISTS snapshots_by_stream ON snapshots (stream, revision);",
    ...KINDS.flatMap((kind) => {
      const { table, columns } = TABLES[kind];
      const extra = columns.map((column) => `, ${column} TEXT`).join("");
      return [
        `CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY, ord INTEGER NOT NULL, order_a INTEGER, order_b INTEGER, max_at INTEGER NOT NULL${extra}, state TEXT NOT NULL) STRICT;`,
      ];
    }),
  ].join("\n");

/** The lists' indexes: built once the first catch-up is done, not row by row while it runs. */
const INDEXES_SQL = (): string =>
  KINDS.flatMap((kind) => {
    const { table, indexes } = TABLES[kind];
    return indexes.map((columns, i) => `CREATE INDEX IF NOT EXISTS ${table}_${i} ON ${table} ${columns};`);
  }).join("\n");

/** What the checkpoint row holds: where the rows are, and what counts and problems go with them. */
interface Checkpoint {
  position: string | null;
  events: number;
  counts: Omit<ReadModelCounts, "events">;
  releasesByStatus: Record<string, number>;
  problems: ProjectionProblem[];
}

const emptyCheckpoint = (): Checkpoint => ({
  position: null,
  events: 0,
  counts: {
    projects: 0,
    tokens: 0,
    pipelines: 0,
    features: 0,
    releases: 0,
    releasesInProgress: 0,
    releasesAwaitingApproval: 0,
  },
  releasesByStatus: {},
  problems: [],
});

interface KindStatements {
  byId: StatementSync;
  upsert: StatementSync;
  /** The state and the latest event time only: no index to update. */
  updateState: StatementSync;
  all: StatementSync;
}

export class ReadModels implements AsOfSnapshots {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<EntityKind, KindStatements>();
  readonly #queries = new Map<string, StatementSync>();
  readonly #saveCheckpoint: StatementSync;
  readonly #saveSnapshot: StatementSync;
  readonly #snapshotsOf: StatementSync;
  readonly #snapshotState: StatementSync;
  #snapshots: PendingSnapshot[] = [];
  readonly #cacheEntries: number;
  readonly #snapshotEvery: number;
  /**
   * Stream name → entry: parsed states kept for the next events and reads, in two generations (a hit in
   * the old one moves the entry to the young one; when the young one is full it becomes the old one and
   * the old one is dropped): at most `cacheEntries` entries, what was used recently kept, O(1) per use.
   */
  #cache = new Map<string, Entry>();
  #oldCache = new Map<string, Entry>();
  /** Entries changed since they were last written: read before the cache, written by `commit`. */
  readonly #dirty = new Map<string, Entry>();
  #inTransaction = false;
  #indexed = false;
  /** The marker of a full build not yet synced to disk (see bootId), null when there is none. */
  #unsynced: string | null = null;
  #checkpoint: Checkpoint;
  #committedPosition: string | null;
  #pending = 0;
  #projectsSnapshot: readonly Project[] | null = null;
  #closed = false;

  constructor(options: ReadModelsOptions = {}) {
    this.path = options.path ?? ":memory:";
    const memory = this.path === ":memory:";
    this.#cacheEntries = Math.max(
      100,
      options.cacheEntries ?? (Number(process.env.READ_MODEL_CACHE) || DEFAULT_CACHE_ENTRIES),
    );
    this.#snapshotEvery = Math.max(1, options.snapshotEvery ?? SNAPSHOT_EVERY);
    const marker = `${this.path}-unsynced`;
    if (!memory && existsSync(marker)) {
      const boot = bootId();
      if (boot === null || readFileSync(marker, "utf8").trim() !== boot) {
        // Written without fsync, and the machine went down since: the file may be torn. Build it again.
        for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${this.path}${suffix}`, { force: true });
        rmSync(marker, { force: true });
      }
    }
    this.#db = new DatabaseSync(this.path);
    try {
      if (!memory) {
        // A file another process holds is refused at open, not at its first write.
        if (!lockExclusively(this.#db)) throw new ProjectionFileBusyError(this.path);
        this.#db.exec("PRAGMA journal_mode = WAL");
        // A crash loses at most the last commits, never their atomicity: the checkpoint goes with its rows.
        this.#db.exec("PRAGMA synchronous = NORMAL");
        // Fewer, larger copies of the log into the file while catching up (the WAL holds up to 32 MB).
        this.#db.exec("PRAGMA wal_autocheckpoint = 8192");
      }
      this.#db.exec("PRAGMA cache_size = -16384");
      this.#db.exec(TABLES_SQL());
    } catch (error) {
      this.#db.close();
      throw error;
    }
    for (const kind of KINDS) {
      const { table, columns } = TABLES[kind];
      const all = ["id", "ord", "order_a", "order_b", "max_at", ...columns, "state"];
      const updates = all.filter((column) => column !== "id" && column !== "ord");
      this.#statements.set(kind, {
        byId: this.#db.prepare(`SELECT * FROM ${table} WHERE id = ?`),
        updateState: this.#db.prepare(`UPDATE ${table} SET max_at = ?, state = ? WHERE id = ?`),
        upsert: this.#db.prepare(
          `INSERT INTO ${table} (${all.join(", ")}) VALUES (${all.map(() => "?").join(", ")}) ON CONFLICT (id) DO UPDATE SET ${updates
            .map((column) => `${column} = excluded.${column}`)
            .join(", ")}`,
        ),
        all: this.#db.prepare(`SELECT * FROM ${table} ORDER BY id`),
      });
    }
    this.#saveSnapshot = this.#db.prepare(
      "INSERT OR REPLACE INTO snapshots (stream, revision, position, max_at, state) VALUES (?, ?, ?, ?, ?)",
    );
    this.#snapshotsOf = this.#db.prepare(
      "SELECT revision, position, max_at FROM snapshots WHERE stream = ? ORDER BY revision DESC",
    );
    this.#snapshotState = this.#db.prepare("SELECT state FROM snapshots WHERE stream = ? AND revision = ?");
    this.#saveCheckpoint = this.#db.prepare("INSERT OR REPLACE INTO checkpoint (id, state) VALUES (1, ?)");
    const row = this.#db.prepare("SELECT state FROM checkpoint WHERE id = 1").get() as { state: string } | undefined;
    this.#checkpoint = row === undefined ? emptyCheckpoint() : (JSON.parse(row.state) as Checkpoint);
    this.#committedPosition = this.#checkpoint.position;
    // A file that has caught up once has its indexes (and keeps them up row by row from then on); a full
    // build gets them when its first catch-up is done (`finishBulkLoad`): cheaper than maintaining them
    // row by row. Until then a list is a scan, right but slower.
    if (!memory && (row === undefined || existsSync(marker))) this.#startBulkLoad(marker);
    else if (row !== undefined) this.finishBulkLoad();
  }

  /** A full build: no fsync until it is done, when the machine's boot id can tell a torn file afterwards. */
  #startBulkLoad(marker: string): void {
    const boot = bootId();
    if (boot === null) return;
    writeDurably(marker, boot);
    this.#db.exec("PRAGMA synchronous = OFF");
    this.#unsynced = marker;
  }

  /**
   * The first catch-up is done (the runner calls it): builds the lists' indexes if they are not there yet,
   * and puts everything a full build wrote on disk before this file counts as durable.
   */
  finishBulkLoad(): void {
    if (!this.#indexed) {
      this.#db.exec(INDEXES_SQL());
      this.#indexed = true;
    }
    if (this.#unsynced !== null) {
      this.commit();
      this.#db.exec("PRAGMA synchronous = NORMAL");
      // Copies the log into the file and syncs both (synchronous=NORMAL), then the marker can go.
      this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      rmSync(this.#unsynced, { force: true });
      this.#unsynced = null;
    }
  }

  /** Global position of the last applied event (null before the first). */
  get position(): string | null {
    return this.#checkpoint.position;
  }

  /** Position of the last event whose effects are committed with the rows (where a restart resumes). */
  get checkpoint(): string | null {
    return this.#committedPosition;
  }

  /** Events applied since the last commit. */
  get pending(): number {
    return this.#pending;
  }

  /** Entities changed since the last commit (what a commit writes, and what waits for it in memory). */
  get changed(): number {
    return this.#dirty.size;
  }

  /** Events applied so far. */
  get eventCount(): number {
    return this.#checkpoint.events;
  }

  /** Events whose evolve threw (at most the last 100). */
  get problems(): readonly ProjectionProblem[] {
    return this.#checkpoint.problems.slice();
  }

  /**
   * Applies one stored event (events must arrive in global order, each once) — a RecordedEvent, or a
   * StoredEvent whose metadata is parsed only if an upcaster needs it. Returns what it changed; an event
   * of an unknown stream or type changes nothing.
   */
  apply(recorded: RecordedEvent | StoredEvent): AppliedChange {
    const checkpoint = this.#checkpoint;
    checkpoint.position = recorded.position;
    const seq = ++checkpoint.events;
    this.#pending++;
    const { stream } = recorded;
    let entry = this.#dirty.get(stream) ?? this.#touch(stream);
    if (entry === undefined) {
      const parsed = parseStream(stream);
      if (parsed === null) return { kind: null, id: stream, before: null, after: null };
      entry = this.#load(parsed.kind, parsed.id, stream) ?? {
        kind: parsed.kind,
        id: parsed.id,
        stream,
        ord: 0,
        state: null,
        orderA: null,
        orderB: null,
        maxAt: 0,
        stored: null,
      };
      this.#remember(entry);
    }
    const { kind, id } = entry;
    // A recorded event is already a { type, data } domain event; only an upcast makes a new one.
    const event: DomainEvent = UPCAST_TYPES.has(recorded.type) ? upcast(recorded) : recorded;
    const before = entry.state;
    let after: unknown;
    try {
      after = this.#evolve(kind, before, event);
    } catch (error) {
      checkpoint.problems.push({
        position: recorded.position,
        stream: recorded.stream,
        type: recorded.type,
        message: error instanceof Error ? error.message : String(error),
      });
      if (checkpoint.problems.length > PROBLEMS_KEPT) checkpoint.problems.shift();
      return { kind, id, before: null, after: null };
    }
    let changed = false;
    if (SNAPSHOT_KINDS.has(kind)) {
      const at = timeOf(recorded);
      if (at > entry.maxAt) {
        entry.maxAt = at;
        changed = true;
      }
      const revision = Number(recorded.revision);
      if ((revision + 1) % this.#snapshotEvery === 0 && after !== null && after !== undefined) {
        this.#snapshots.push({ stream, revision, position: recorded.position, maxAt: entry.maxAt, state: after });
      }
    }
    if (after !== before && after !== null && after !== undefined) {
      if (before === null) {
        entry.ord = seq;
        this.#created(kind);
      }
      entry.state = after;
      this.#orders(entry, before, after, seq);
      changed = true;
    }
    // (An event that left an entity that does not exist as it was has nothing to write.)
    if (changed && entry.state !== null) this.#dirty.set(stream, entry);
    return { kind, id, before, after };
  }

  #evolve(kind: EntityKind, before: unknown, event: DomainEvent): unknown {
    switch (kind) {
      case "project":
        this.#projectsSnapshot = null;
        return evolveProject(before as Project | null, event as ProjectEvent);
      case "token":
        return evolveToken(before as ApiToken | null, event as TokenEvent);
      case "pipeline":
        return evolvePipeline(before as Pipeline | null, event as PipelineEvent);
      case "feature":
        return evolveFeature(before as Feature | null, event as FeatureEvent);
      case "release":
        return evolveRelease(before as Release | null, event as ReleaseEvent);
      case "webhook":
        return evolveWebhook(before as Webhook | null, event as WebhookEvent);
      case "delivery":
        return evolveDelivery(before as Delivery | null, event as DeliveryEvent);
      case "sdkKey":
        return evolveSdkKey(before as SdkKey | null, event as SdkKeyEvent);
      default: {
        const unknown: never = kind;
        throw new Error(`no read model for ${String(unknown)}`);
      }
    }
  }

  #created(kind: EntityKind): void {
    const { counts } = this.#checkpoint;
    switch (kind) {
      case "project":
        counts.projects++;
        return;
      case "token":
        counts.tokens++;
        return;
      case "pipeline":
        counts.pipelines++;
        return;
      case "feature":
        counts.features++;
        return;
      case "release":
        counts.releases++;
        return;
      default:
        return;
    }
  }

  /** The orders that depend on history: set from the event that put the entity in the list. */
  #orders(entry: Entry, before: unknown, after: unknown, seq: number): void {
    if (entry.kind === "feature") {
      // The pipeline list is in attachment order: attaching (again, or elsewhere) moves a feature to its end.
      const was = before === null ? null : pipelineRef(before as Feature);
      const now = pipelineRef(after as Feature);
      if (was !== now) entry.orderA = now === null ? null : seq;
    } else if (entry.kind === "release") {
      const b = before as Release | null;
      const a = after as Release;
      const checkpoint = this.#checkpoint;
      if (b === null || b.status !== a.status) {
        const byStatus = checkpoint.releasesByStatus;
        if (b !== null) byStatus[b.status] = (byStatus[b.status] ?? 1) - 1;
        byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
      }
      // Awaiting approval: in the order they began to wait.
      const awaiting = isAwaitingApproval(a);
      if (awaiting !== (b !== null && isAwaitingApproval(b))) {
        entry.orderA = awaiting ? seq : null;
        checkpoint.counts.releasesAwaitingApproval += awaiting ? 1 : -1;
      }
      // In progress: in the order they went in progress (and stay there while they are).
      const inProgress = a.status === "IN_PROGRESS";
      if (inProgress !== (entry.orderB !== null)) {
        entry.orderB = inProgress ? seq : null;
        checkpoint.counts.releasesInProgress += inProgress ? 1 : -1;
      }
    }
  }

  /**
   * Writes the changed entities and the checkpoint in one transaction: after it, a restart resumes from
   * the position of the last applied event, onto exactly these rows.
   */
  commit(): void {
    if (this.#closed || (this.#pending === 0 && this.#dirty.size === 0 && this.#snapshots.length === 0)) return;
    this.#writeDirty();
    this.#saveCheckpoint.run(JSON.stringify(this.#checkpoint));
    this.#db.exec("COMMIT");
    this.#inTransaction = false;
    this.#committedPosition = this.#checkpoint.position;
    this.#pending = 0;
  }

  /** Commits, then closes the database. The read models cannot be used afterwards. */
  close(): void {
    if (this.#closed) return;
    this.commit();
    this.#closed = true;
    this.#db.close();
  }

  /** Drops every row and the checkpoint: the next events rebuild everything (a replay into this file). */
  clear(): void {
    this.#begin();
    for (const kind of KINDS) this.#db.exec(`DELETE FROM ${TABLES[kind].table}`);
    this.#db.exec("DELETE FROM snapshots");
    for (const kind of KINDS) {
      const { table, indexes } = TABLES[kind];
      for (let i = 0; i < indexes.length; i++) this.#db.exec(`DROP INDEX IF EXISTS ${table}_${i}`);
    }
    this.#indexed = false;
    this.#snapshots = [];
    this.#db.exec("DELETE FROM checkpoint");
    this.#db.exec("COMMIT");
    this.#inTransaction = false;
    if (this.path !== ":memory:" && this.#unsynced === null) this.#startBulkLoad(`${this.path}-unsynced`);
    this.#cache.clear();
    this.#oldCache.clear();
    this.#dirty.clear();
    this.#checkpoint = emptyCheckpoint();
    this.#committedPosition = null;
    this.#pending = 0;
    this.#projectsSnapshot = null;
  }

  #begin(): void {
    if (this.#inTransaction) return;
    this.#db.exec("BEGIN");
    this.#inTransaction = true;
  }

  /** Writes the changed entities into the open transaction (lists query the rows). */
  #writeDirty(): void {
    this.#begin();
    for (const entry of this.#dirty.values()) {
      const { kind } = entry;
      const statements = this.#statements.get(kind) as KindStatements;
      const values = TABLES[kind].values(entry);
      const stored = indexedKey(entry.orderA, entry.orderB, values);
      const state = JSON.stringify(entry.state);
      if (stored === entry.stored) statements.updateState.run(entry.maxAt, state, entry.id);
      else statements.upsert.run(entry.id, entry.ord, entry.orderA, entry.orderB, entry.maxAt, ...values, state);
      entry.stored = stored;
    }
    this.#dirty.clear();
    for (const snapshot of this.#snapshots) {
      const { stream, revision, position, maxAt, state } = snapshot;
      this.#saveSnapshot.run(stream, revision, position, maxAt, JSON.stringify(state));
    }
    this.#snapshots = [];
  }

  /** The cached entry of `stream`, marked recently used. */
  #touch(stream: string): Entry | undefined {
    const entry = this.#cache.get(stream);
    if (entry !== undefined) return entry;
    const old = this.#oldCache.get(stream);
    if (old !== undefined) this.#remember(old);
    return old;
  }

  #remember(entry: Entry): void {
    this.#cache.set(entry.stream, entry);
    if (this.#cache.size >= this.#cacheEntries / 2) {
      // An evicted entry that changed stays in #dirty until it is written.
      this.#oldCache = this.#cache;
      this.#cache = new Map();
    }
  }

  #fromRow(kind: EntityKind, stream: string, row: Record<string, unknown>): Entry {
    const orderA = row.order_a === null ? null : Number(row.order_a);
    const orderB = row.order_b === null ? null : Number(row.order_b);
    return {
      kind,
      id: row.id as string,
      stream,
      ord: Number(row.ord),
      state: JSON.parse(row.state as string),
      orderA,
      orderB,
      maxAt: Number(row.max_at),
      stored: indexedKey(
        orderA,
        orderB,
        TABLES[kind].columns.map((column) => row[column] as SQLInputValue),
      ),
    };
  }

  #load(kind: EntityKind, id: string, stream: string): Entry | undefined {
    const row = (this.#statements.get(kind) as KindStatements).byId.get(id) as Record<string, unknown> | undefined;
    return row === undefined ? undefined : this.#fromRow(kind, stream, row);
  }

  /** The entry of an entity (its state null when it does not exist). */
  #entry(kind: EntityKind, id: string): Entry | undefined {
    const stream = streams[kind](id);
    const entry = this.#dirty.get(stream) ?? this.#touch(stream);
    if (entry !== undefined) return entry;
    const loaded = this.#load(kind, id, stream);
    if (loaded !== undefined) this.#remember(loaded);
    return loaded;
  }

  #state<T>(kind: EntityKind, id: string): T | undefined {
    const state = this.#entry(kind, id)?.state;
    return state === null || state === undefined ? undefined : (state as T);
  }

  /** The prepared statement of a list or lookup query, once what changed is written (its rows are read). */
  #query(sql: string): StatementSync {
    if (this.#dirty.size > 0) this.#writeDirty();
    let statement = this.#queries.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#queries.set(sql, statement);
    }
    return statement;
  }

  /** Runs a list query and returns the entities of its rows, cached. */
  #select<T>(kind: EntityKind, where: string, ...params: SQLInputValue[]): T[] {
    const rows = this.#query(`SELECT * FROM ${TABLES[kind].table} ${where}`).all(...params) as Record<
      string,
      unknown
    >[];
    const list = new Array<T>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Record<string, unknown>;
      const stream = streams[kind](row.id as string);
      let entry = this.#touch(stream);
      if (entry === undefined) {
        entry = this.#fromRow(kind, stream, row);
        this.#remember(entry);
      }
      list[i] = entry.state as T;
    }
    return list;
  }

  /** The id of the one row a lookup query finds. */
  #lookup(kind: EntityKind, where: string, ...params: SQLInputValue[]): string | undefined {
    const row = this.#query(`SELECT id FROM ${TABLES[kind].table} ${where} LIMIT 1`).get(...params) as
      | { id: string }
      | undefined;
    return row?.id;
  }

  // ---- getters ------------------------------------------------------------------------------

  /**
   * The latest snapshot of `stream` that `accept`s (its position and latest event time): where an as-of
   * fold can start instead of the stream's first event (services/audit/as-of.ts).
   */
  latestSnapshot(stream: string, accept: (position: string, maxAt: number) => boolean): AsOfSnapshot | null {
    if (this.#dirty.size > 0 || this.#snapshots.length > 0) this.#writeDirty();
    const rows = this.#snapshotsOf.all(stream) as { revision: number; position: string; max_at: number }[];
    for (const row of rows) {
      if (!accept(row.position, Number(row.max_at))) continue;
      const found = this.#snapshotState.get(stream, row.revision) as { state: string } | undefined;
      if (found !== undefined) return { revision: BigInt(row.revision), state: JSON.parse(found.state) };
    }
    return null;
  }

  project(id: string): Project | null {
    return freeze(this.#state<Project>("project", id) ?? null);
  }

  /** Every project, oldest first. */
  projects(): readonly Project[] {
    if (this.#projectsSnapshot === null) {
      this.#projectsSnapshot = freeze(this.#select<Project>("project", "ORDER BY ord"));
    }
    return this.#projectsSnapshot;
  }

  token(id: string): ApiToken | null {
    return freeze(this.#state<ApiToken>("token", id) ?? null);
  }

  /** The token whose secret hashes (SHA-256, hex) to `hash`. */
  tokenByHash(hash: string): ApiToken | null {
    const id = this.#lookup("token", "WHERE secret_hash = ?", hash);
    return id === undefined ? null : this.token(id);
  }

  /** The token whose name is `normalizedName` once normalised (see normalizeTokenName), revoked or not. */
  tokenByName(normalizedName: string): ApiToken | null {
    const id = this.#lookup("token", "WHERE name_key = ? ORDER BY ord DESC", normalizedName);
    return id === undefined ? null : this.token(id);
  }

  /** Every token, oldest first. */
  tokens(): ApiToken[] {
    const list = this.#select<ApiToken>("token", "ORDER BY ord").map((token) => freeze(token));
    return list.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  }

  tokenCount(): number {
    return this.#checkpoint.counts.tokens;
  }

  pipeline(id: string): Pipeline | null {
    return freeze(this.#state<Pipeline>("pipeline", id) ?? null);
  }

  /** A project's pipelines, oldest first; DELETED ones only with `includeDeleted`. */
  pipelines(projectId: string, includeDeleted = false): readonly Pipeline[] {
    const all = this.#select<Pipeline>("pipeline", "WHERE project_id = ? ORDER BY ord", projectId);
    if (all.length === 0) return EMPTY;
    return freeze(includeDeleted ? all : all.filter((pipeline) => pipeline.status !== "DELETED"));
  }

  /** The feature, archived or not; null once deleted. */
  feature(id: string): Feature | null {
    const feature = this.#state<Feature>("feature", id);
    return feature === undefined || feature.deletedAt !== null ? null : freeze(feature);
  }

  /** A deleted feature as its deletion left it (for the releases it had); null for any other. */
  deletedFeature(id: string): Feature | null {
    const feature = this.#state<Feature>("feature", id);
    return feature === undefined || feature.deletedAt === null ? null : freeze(feature);
  }

  /** The feature with this key, archived or not; null once deleted. */
  featureByKey(projectId: string, key: string): Feature | null {
    const id = this.#lookup("feature", "WHERE project_id = ? AND live_key = ?", projectId, key);
    return id === undefined ? null : this.feature(id);
  }

  /** A project's features, oldest first; archived ones only with `includeArchived`, deleted ones never. */
  features(projectId: string, includeArchived = false): readonly Feature[] {
    const all = this.#select<Feature>("feature", "WHERE project_id = ? ORDER BY ord", projectId);
    if (all.length === 0) return EMPTY;
    const hidden = (f: Feature): boolean => f.deletedAt !== null || (!includeArchived && f.archivedAt !== null);
    return freeze(all.some(hidden) ? all.filter((f) => !hidden(f)) : all);
  }

  /** Every feature a project ever had, deleted ones included, oldest first: for audit replay. */
  featureIdsEver(projectId: string): readonly string[] {
    return this.#select<Feature>("feature", "WHERE project_id = ? ORDER BY ord", projectId).map((f) => f.id);
  }

  /**
   * Features that have the pipeline attached now, oldest attachment first; archived ones only with
   * `includeArchived` (they keep their pipeline: deletePipeline counts them).
   */
  featuresWithPipeline(pipelineId: string, includeArchived = false): readonly Feature[] {
    const all = this.#select<Feature>("feature", "WHERE pipeline_ref = ? ORDER BY order_a", pipelineId);
    if (all.length === 0) return EMPTY;
    return freeze(includeArchived ? all : all.filter((f) => f.archivedAt === null));
  }

  release(id: string): Release | null {
    return freeze(this.#state<Release>("release", id) ?? null);
  }

  /** A feature's releases, oldest first. */
  releasesOfFeature(featureId: string): readonly Release[] {
    const list = this.#select<Release>("release", "WHERE feature_id = ? ORDER BY ord", featureId);
    return list.length === 0 ? EMPTY : freeze(list);
  }

  /** The feature's release in progress, if any. */
  activeRelease(featureId: string): Release | null {
    const id = this.#state<Feature>("feature", featureId)?.activeReleaseId;
    return id ? this.release(id) : null;
  }

  /** A project's releases, oldest first, optionally only those with `status`. */
  releases(projectId: string, status?: ReleaseStatus | null): readonly Release[] {
    const list = status
      ? this.#select<Release>("release", "WHERE project_id = ? AND status = ? ORDER BY ord", projectId, status)
      : this.#select<Release>("release", "WHERE project_id = ? ORDER BY ord", projectId);
    return list.length === 0 ? EMPTY : freeze(list);
  }

  /** Releases whose current phase awaits approval (of one project, or all), in the order they began to wait. */
  releasesAwaitingApproval(projectId?: string | null): readonly Release[] {
    const list = projectId
      ? this.#select<Release>("release", "WHERE order_a IS NOT NULL AND project_id = ? ORDER BY order_a", projectId)
      : this.#select<Release>("release", "WHERE order_a IS NOT NULL ORDER BY order_a");
    return list.length === 0 ? EMPTY : freeze(list);
  }

  /** Releases IN_PROGRESS (all projects), in the order they went in progress. */
  releasesInProgress(): readonly Release[] {
    const list = this.#select<Release>("release", "WHERE order_b IS NOT NULL ORDER BY order_b");
    return list.length === 0 ? EMPTY : freeze(list);
  }

  /** How many releases have each status (all projects). */
  releaseCountsByStatus(): Readonly<Record<string, number>> {
    return { ...this.#checkpoint.releasesByStatus };
  }

  /** A webhook, deleted or not. */
  webhook(id: string): Webhook | null {
    return freeze(this.#state<Webhook>("webhook", id) ?? null);
  }

  /** A project's webhooks that are not deleted, oldest first. */
  webhooks(projectId: string): readonly Webhook[] {
    const all = this.#select<Webhook>("webhook", "WHERE project_id = ? ORDER BY ord", projectId);
    if (all.length === 0) return EMPTY;
    return freeze(all.filter((webhook) => webhook.deletedAt === null));
  }

  /** A webhook's deliveries, newest first (at most `first`). */
  deliveries(webhookId: string, first: number): readonly Delivery[] {
    if (first <= 0) return EMPTY;
    const list = this.#select<Delivery>("delivery", "WHERE webhook_id = ? ORDER BY ord DESC LIMIT ?", webhookId, first);
    return list.length === 0 ? EMPTY : freeze(list);
  }

  sdkKey(id: string): SdkKey | null {
    return freeze(this.#state<SdkKey>("sdkKey", id) ?? null);
  }

  /** The SDK key whose secret hashes (SHA-256, hex) to `hash`, revoked or not. */
  sdkKeyByHash(hash: string): SdkKey | null {
    const id = this.#lookup("sdkKey", "WHERE secret_hash = ?", hash);
    return id === undefined ? null : this.sdkKey(id);
  }

  /** A project's SDK keys, oldest first; revoked ones only with `includeRevoked`. */
  sdkKeys(projectId: string, includeRevoked = false): readonly SdkKey[] {
    const all = this.#select<SdkKey>("sdkKey", "WHERE project_id = ? ORDER BY ord", projectId);
    if (all.length === 0) return EMPTY;
    return freeze(includeRevoked ? all : all.filter((key) => key.revokedAt === null));
  }

  counts(): ReadModelCounts {
    return { events: this.#checkpoint.events, ...this.#checkpoint.counts };
  }

  /**
   * Everything held, as plain data in a canonical order (entities by id; index lists in their own order):
   * what `digest` hashes and what the rebuild test compares deeply.
   */
  snapshot(): ReadModelsSnapshot {
    if (this.#dirty.size > 0) this.#writeDirty();
    const rows = (kind: EntityKind): Entry[] =>
      ((this.#statements.get(kind) as KindStatements).all.all() as Record<string, unknown>[]).map((row) =>
        this.#fromRow(kind, streams[kind](row.id as string), row),
      );
    const byId = <T>(entries: Entry[]): [string, T][] => entries.map((e): [string, T] => [e.id, freeze(e.state as T)]);
    const sorted = <T>(pairs: [string, T][]): [string, T][] => pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    /** owner → ids, the ids in `order`, owners sorted; entries without an owner or an order left out. */
    const lists = (
      entries: Entry[],
      owner: (e: Entry) => string | null,
      order: (e: Entry) => number | null = (e) => e.ord,
    ): [string, string[]][] => {
      const map = new Map<string, [number, string][]>();
      for (const e of entries) {
        const key = owner(e);
        const at = order(e);
        if (key === null || at === null) continue;
        const list = map.get(key);
        if (list === undefined) map.set(key, [[at, e.id]]);
        else list.push([at, e.id]);
      }
      return sorted(
        [...map].map(([key, list]): [string, string[]] => [key, list.sort(([a], [b]) => a - b).map(([, id]) => id)]),
      );
    };
    const byOrd = (entries: Entry[], order: (e: Entry) => number | null): string[] =>
      entries
        .filter((e) => order(e) !== null)
        .sort((a, b) => (order(a) as number) - (order(b) as number))
        .map((e) => e.id);
    const projects = rows("project");
    const tokens = rows("token");
    const pipelines = rows("pipeline");
    const features = rows("feature");
    const releases = rows("release");
    const webhooks = rows("webhook");
    const deliveries = rows("delivery");
    const sdkKeys = rows("sdkKey");
    const feature = (e: Entry) => e.state as Feature;
    const release = (e: Entry) => e.state as Release;
    return {
      position: this.#checkpoint.position,
      events: this.#checkpoint.events,
      projects: byId(projects),
      projectOrder: byOrd(projects, (e) => e.ord),
      tokens: byId(tokens),
      tokenByHash: sorted(tokens.map((e): [string, string] => [(e.state as ApiToken).secretHash, e.id])),
      pipelines: byId(pipelines),
      pipelinesByProject: lists(pipelines, (e) => (e.state as Pipeline).projectId),
      features: byId(features),
      featuresByProject: lists(features, (e) => feature(e).projectId),
      featureByKey: sorted(
        features
          .filter((e) => feature(e).deletedAt === null)
          .map((e): [string, string] => [keyOf(feature(e).projectId, feature(e).key), e.id]),
      ),
      featuresByPipeline: lists(
        features,
        (e) => pipelineRef(feature(e)),
        (e) => e.orderA,
      ),
      releases: byId(releases),
      releasesByFeature: lists(releases, (e) => release(e).featureId),
      releasesByProject: lists(releases, (e) => release(e).projectId),
      awaitingApproval: byOrd(releases, (e) => e.orderA),
      inProgress: byOrd(releases, (e) => e.orderB).sort(),
      webhooks: byId(webhooks),
      deliveries: byId(deliveries),
      deliveriesByWebhook: lists(deliveries, (e) => (e.state as Delivery).webhookId),
      sdkKeys: byId(sdkKeys),
      sdkKeyByHash: sorted(sdkKeys.map((e): [string, string] => [(e.state as SdkKey).secretHash, e.id])),
      sdkKeysByProject: lists(sdkKeys, (e) => (e.state as SdkKey).projectId),
    };
  }
}

/** The pipeline a feature is attached to, as the pipeline's list sees it (none once deleted). */
const pipelineRef = (feature: Feature): string | null => (feature.deletedAt !== null ? null : feature.pipelineId);

export interface ReadModelsSnapshot {
  position: string | null;
  events: number;
  projects: [string, Project][];
  projectOrder: string[];
  tokens: [string, ApiToken][];
  tokenByHash: [string, string][];
  pipelines: [string, Pipeline][];
  pipelinesByProject: [string, string[]][];
  features: [string, Feature][];
  featuresByProject: [string, string[]][];
  featureByKey: [string, string][];
  featuresByPipeline: [string, string[]][];
  releases: [string, Release][];
  releasesByFeature: [string, string[]][];
  releasesByProject: [string, string[]][];
  awaitingApproval: string[];
  inProgress: string[];
  webhooks: [string, Webhook][];
  deliveries: [string, Delivery][];
  deliveriesByWebhook: [string, string[]][];
  sdkKeys: [string, SdkKey][];
  sdkKeyByHash: [string, string][];
  sdkKeysByProject: [string, string[]][];
}

export const createReadModels = (options?: ReadModelsOptions): ReadModels => new ReadModels(options);

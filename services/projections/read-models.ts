// The read models: live state of every project, API token, pipeline, feature and release, and the indexes
// the GraphQL queries need, kept in memory and fed event by event in global order by the projection runner.
//
// Each entity's state is built by the SAME evolve its decider uses (evolveProject, evolveToken,
// evolvePipeline, evolveFeature, the release evolve), after the same upcasters the command handler applies:
// a read model never holds a second copy of the domain rules. The indexes are derived from the states
// before and after each event. See docs/decisions/0005-read-models.md.
//
// Getters are synchronous and return frozen snapshots: states are immutable values (evolve returns new
// objects, sharing what did not change). A state is frozen when it is first handed out — not when it is
// stored, so a rebuild that nobody reads meanwhile pays nothing for it — and freezing skips the parts that
// are already frozen, so it costs only what the last events created.

import type { DomainEvent } from "../core/decider.ts";
import type { ReleaseStatus } from "../core/model.ts";
import { type EntityKind, parseStream } from "../core/streams.ts";
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

const PROBLEMS_KEPT = 100;

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

/** Where a stream's events go — its entity's kind and id — and the state they built so far. */
interface StreamEntry {
  readonly kind: EntityKind | null;
  readonly id: string;
  state: unknown;
}

/** A stream's entity, from its name (`<kind>-<id>`); kind null for a stream of no entity. Once per stream. */
const placeStream = (stream: string): StreamEntry => {
  const parsed = parseStream(stream);
  return parsed === null ? { kind: null, id: stream, state: null } : { kind: parsed.kind, id: parsed.id, state: null };
};

/**
 * Entity id → its current state, read through the stream entries `apply` updates in place: an event
 * changes its entry's state and nothing here (an entity is added once, with its first state).
 */
class States<T> {
  readonly #entries = new Map<string, StreamEntry>();

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): T | undefined {
    return this.#entries.get(id)?.state as T | undefined;
  }

  /** The entity of `entry`, whose state was just set for the first time. */
  add(entry: StreamEntry): void {
    this.#entries.set(entry.id, entry);
  }

  *entries(): IterableIterator<[string, T]> {
    for (const [id, entry] of this.#entries) yield [id, entry.state as T];
  }
}

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

const pushTo = <K, V>(map: Map<K, V[]>, key: K, value: V): void => {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
};

const keyOf = (projectId: string, key: string): string => `${projectId}\u0000${key}`;

export class ReadModels {
  /**
   * Stream name → its entity and state: one lookup per event finds both (the kind maps below serve the
   * getters by id, and are updated from here).
   */
  readonly #streams = new Map<string, StreamEntry>();
  readonly #projects = new States<Project>();
  readonly #projectOrder: string[] = [];
  #projectsSnapshot: readonly Project[] | null = null;
  readonly #tokens = new States<ApiToken>();
  readonly #tokenByHash = new Map<string, string>();
  /** Normalised token name (normalizeTokenName) → token id: names are compared as people read them. */
  readonly #tokenByName = new Map<string, string>();
  readonly #pipelines = new States<Pipeline>();
  readonly #pipelinesByProject = new Map<string, string[]>();
  readonly #features = new States<Feature>();
  readonly #featuresByProject = new Map<string, string[]>();
  readonly #featureByKey = new Map<string, string>();
  readonly #featuresByPipeline = new Map<string, Set<string>>();
  readonly #releases = new States<Release>();
  readonly #releasesByFeature = new Map<string, string[]>();
  readonly #releasesByProject = new Map<string, string[]>();
  /** In the order they started waiting for approval. */
  readonly #awaitingApproval = new Set<string>();
  readonly #inProgress = new Set<string>();
  readonly #webhooks = new States<Webhook>();
  readonly #webhooksByProject = new Map<string, string[]>();
  readonly #deliveries = new States<Delivery>();
  /** Webhook id → its deliveries' ids, oldest first. */
  readonly #deliveriesByWebhook = new Map<string, string[]>();
  readonly #sdkKeys = new States<SdkKey>();
  readonly #sdkKeyByHash = new Map<string, string>();
  readonly #sdkKeysByProject = new Map<string, string[]>();
  readonly #problems: ProjectionProblem[] = [];
  #position: string | null = null;
  #events = 0;

  /** Global position of the last applied event (null before the first). */
  get position(): string | null {
    return this.#position;
  }

  /** Events applied so far. */
  get eventCount(): number {
    return this.#events;
  }

  /** Events whose evolve threw (at most the last 100). */
  get problems(): readonly ProjectionProblem[] {
    return this.#problems.slice();
  }

  /**
   * Applies one stored event (events must arrive in global order, each once) — a RecordedEvent, or a
   * StoredEvent whose metadata is parsed only if an upcaster needs it. Returns what it changed; an event
   * of an unknown stream or type changes nothing.
   */
  apply(recorded: RecordedEvent | StoredEvent): AppliedChange {
    this.#position = recorded.position;
    this.#events++;
    const { stream } = recorded;
    let entry = this.#streams.get(stream);
    if (entry === undefined) {
      entry = placeStream(stream);
      this.#streams.set(stream, entry);
    }
    const { kind, id } = entry;
    if (kind === null) return { kind: null, id: stream, before: null, after: null };
    // A recorded event is already a { type, data } domain event; only an upcast makes a new one.
    const event: DomainEvent = UPCAST_TYPES.has(recorded.type) ? upcast(recorded) : recorded;
    try {
      switch (kind) {
        case "project":
          return this.#applyProject(entry, event as ProjectEvent);
        case "token":
          return this.#applyToken(entry, event as TokenEvent);
        case "pipeline":
          return this.#applyPipeline(entry, event as PipelineEvent);
        case "feature":
          return this.#applyFeature(entry, event as FeatureEvent);
        case "release":
          return this.#applyRelease(entry, event as ReleaseEvent);
        case "webhook":
          return this.#applyWebhook(entry, event as WebhookEvent);
        case "delivery":
          return this.#applyDelivery(entry, event as DeliveryEvent);
        case "sdkKey":
          return this.#applySdkKey(entry, event as SdkKeyEvent);
        default: {
          const unknown: never = kind;
          return { kind: null, id: String(unknown), before: null, after: null };
        }
      }
    } catch (error) {
      this.#problems.push({
        position: recorded.position,
        stream: recorded.stream,
        type: recorded.type,
        message: error instanceof Error ? error.message : String(error),
      });
      if (this.#problems.length > PROBLEMS_KEPT) this.#problems.shift();
      return { kind, id, before: null, after: null };
    }
  }

  #applyProject(entry: StreamEntry, event: DomainEvent): AppliedChange {
    const { id } = entry;
    const before = entry.state as Project | null;
    const after = evolveProject(before, event as ProjectEvent);
    if (after !== before && after !== null) {
      entry.state = after;
      if (before === null) {
        this.#projects.add(entry);
        this.#projectOrder.push(id);
      }
      this.#projectsSnapshot = null;
    }
    return { kind: "project", id, before, after };
  }

  #applyToken(entry: StreamEntry, event: TokenEvent): AppliedChange {
    const { id } = entry;
    const before = entry.state as ApiToken | null;
    const after = evolveToken(before, event);
    if (after !== before && after !== null) {
      entry.state = after;
      if (before === null) this.#tokens.add(entry);
      if (before !== null && before.secretHash !== after.secretHash) this.#tokenByHash.delete(before.secretHash);
      this.#tokenByHash.set(after.secretHash, id);
      this.#tokenByName.set(normalizeTokenName(after.name), id);
    }
    return { kind: "token", id, before, after };
  }

  #applyPipeline(entry: StreamEntry, event: PipelineEvent): AppliedChange {
    const { id } = entry;
    const before = entry.state as Pipeline | null;
    const after = evolvePipeline(before, event);
    if (after !== before && after !== null) {
      entry.state = after;
      if (before === null) {
        this.#pipelines.add(entry);
        pushTo(this.#pipelinesByProject, after.projectId, id);
      }
    }
    return { kind: "pipeline", id, before, after };
  }

  #applyFeature(entry: StreamEntry, event: FeatureEvent): AppliedChange {
    const { id } = entry;
    const before = entry.state as Feature | null;
    const after = evolveFeature(before, event);
    if (after !== before && after !== null) {
      entry.state = after;
      if (before === null) {
        this.#features.add(entry);
        pushTo(this.#featuresByProject, after.projectId, id);
        this.#featureByKey.set(keyOf(after.projectId, after.key), id);
      }
      // A deleted feature leaves the key and pipeline indexes; the project's list keeps it for audit
      // replay (`featureIdsEver`) and its getters leave it out.
      const deleted = after.deletedAt !== null;
      const key = keyOf(after.projectId, after.key);
      if (deleted && this.#featureByKey.get(key) === id) this.#featureByKey.delete(key);
      const was = before?.pipelineId ?? null;
      const now = deleted ? null : after.pipelineId;
      if (was !== now) {
        if (was !== null) this.#featuresByPipeline.get(was)?.delete(id);
        if (now !== null) {
          let set = this.#featuresByPipeline.get(now);
          if (set === undefined) {
            set = new Set();
            this.#featuresByPipeline.set(now, set);
          }
          set.add(id);
        }
      }
    }
    return { kind: "feature", id, before, after };
  }

  #applyRelease(entry: StreamEntry, event: ReleaseEvent): AppliedChange {
    const { id } = entry;
    const before = entry.state as Release | null;
    const after = evolveRelease(before, event);
    if (after !== before && after !== null) {
      entry.state = after;
      if (before === null) {
        this.#releases.add(entry);
        pushTo(this.#releasesByFeature, after.featureId, id);
        pushTo(this.#releasesByProject, after.projectId, id);
      }
      if (after.status === "IN_PROGRESS") this.#inProgress.add(id);
      else this.#inProgress.delete(id);
      const awaiting = isAwaitingApproval(after);
      if (awaiting !== (before !== null && isAwaitingApproval(before))) {
        if (awaiting) this.#awaitingApproval.add(id);
        else this.#awaitingApproval.delete(id);
      }
    }
    return { kind: "release", id, before, after };
  }

  #applyWebhook(entry: StreamEntry, event: WebhookEvent): AppliedChange {
    const { id } = entry;
    const before = entry.state as Webhook | null;
    const after = evolveWebhook(before, event);
    if (after !== before && after !== null) {
      entry.state = after;
      if (before === null) {
        this.#webhooks.add(entry);
        pushTo(this.#webhooksByProject, after.projectId, id);
      }
    }
    return { kind: "webhook", id, before, after };
  }

  #applyDelivery(entry: StreamEntry, event: DeliveryEvent): AppliedChange {
    const { id } = entry;
    const before = entry.state as Delivery | null;
    const after = evolveDelivery(before, event);
    if (after !== before && after !== null) {
      entry.state = after;
      if (before === null) {
        this.#deliveries.add(entry);
        pushTo(this.#deliveriesByWebhook, after.webhookId, id);
      }
    }
    return { kind: "delivery", id, before, after };
  }

  #applySdkKey(entry: StreamEntry, event: SdkKeyEvent): AppliedChange {
    const { id } = entry;
    const before = entry.state as SdkKey | null;
    const after = evolveSdkKey(before, event);
    if (after !== before && after !== null) {
      entry.state = after;
      if (before === null) {
        this.#sdkKeys.add(entry);
        this.#sdkKeyByHash.set(after.secretHash, id);
        pushTo(this.#sdkKeysByProject, after.projectId, id);
      }
    }
    return { kind: "sdkKey", id, before, after };
  }

  // ---- getters ------------------------------------------------------------------------------

  project(id: string): Project | null {
    return freeze(this.#projects.get(id) ?? null);
  }

  /** Every project, oldest first. */
  projects(): readonly Project[] {
    if (this.#projectsSnapshot === null) {
      this.#projectsSnapshot = freeze(this.#projectOrder.map((id) => this.#projects.get(id) as Project));
    }
    return this.#projectsSnapshot;
  }

  token(id: string): ApiToken | null {
    return freeze(this.#tokens.get(id) ?? null);
  }

  /** The token whose secret hashes (SHA-256, hex) to `hash`. */
  tokenByHash(hash: string): ApiToken | null {
    const id = this.#tokenByHash.get(hash);
    return id === undefined ? null : freeze(this.#tokens.get(id) ?? null);
  }

  /** The token whose name is `normalizedName` once normalised (see normalizeTokenName), revoked or not. */
  tokenByName(normalizedName: string): ApiToken | null {
    const id = this.#tokenByName.get(normalizedName);
    return id === undefined ? null : freeze(this.#tokens.get(id) ?? null);
  }

  /** Every token, oldest first. */
  tokens(): ApiToken[] {
    const list = [...this.#tokens.entries()].map(([, token]) => freeze(token));
    return list.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  }

  tokenCount(): number {
    return this.#tokens.size;
  }

  pipeline(id: string): Pipeline | null {
    return freeze(this.#pipelines.get(id) ?? null);
  }

  /** A project's pipelines, oldest first; DELETED ones only with `includeDeleted`. */
  pipelines(projectId: string, includeDeleted = false): readonly Pipeline[] {
    const ids = this.#pipelinesByProject.get(projectId);
    if (ids === undefined) return EMPTY;
    const list: Pipeline[] = [];
    for (const id of ids) {
      const pipeline = this.#pipelines.get(id);
      if (pipeline !== undefined && (includeDeleted || pipeline.status !== "DELETED")) list.push(pipeline);
    }
    return freeze(list);
  }

  /** The feature, archived or not; null once deleted. */
  feature(id: string): Feature | null {
    const feature = this.#features.get(id);
    return feature === undefined || feature.deletedAt !== null ? null : freeze(feature);
  }

  /** A deleted feature as its deletion left it (for the releases it had); null for any other. */
  deletedFeature(id: string): Feature | null {
    const feature = this.#features.get(id);
    return feature === undefined || feature.deletedAt === null ? null : freeze(feature);
  }

  /** The feature with this key, archived or not; null once deleted. */
  featureByKey(projectId: string, key: string): Feature | null {
    const id = this.#featureByKey.get(keyOf(projectId, key));
    return id === undefined ? null : this.feature(id);
  }

  /** A project's features, oldest first; archived ones only with `includeArchived`, deleted ones never. */
  features(projectId: string, includeArchived = false): readonly Feature[] {
    const all = this.#list(this.#featuresByProject.get(projectId), this.#features);
    const hidden = (f: Feature): boolean => f.deletedAt !== null || (!includeArchived && f.archivedAt !== null);
    return all.some(hidden) ? freeze(all.filter((f) => !hidden(f))) : all;
  }

  /** Every feature a project ever had, deleted ones included, oldest first: for audit replay. */
  featureIdsEver(projectId: string): readonly string[] {
    return this.#featuresByProject.get(projectId)?.slice() ?? EMPTY;
  }

  /**
   * Features that have the pipeline attached now, oldest attachment first; archived ones only with
   * `includeArchived` (they keep their pipeline: deletePipeline counts them).
   */
  featuresWithPipeline(pipelineId: string, includeArchived = false): readonly Feature[] {
    const ids = this.#featuresByPipeline.get(pipelineId);
    if (ids === undefined) return EMPTY;
    const all = this.#list([...ids], this.#features);
    return includeArchived || !all.some((f) => f.archivedAt !== null)
      ? all
      : freeze(all.filter((f) => f.archivedAt === null));
  }

  release(id: string): Release | null {
    return freeze(this.#releases.get(id) ?? null);
  }

  /** A feature's releases, oldest first. */
  releasesOfFeature(featureId: string): readonly Release[] {
    return this.#list(this.#releasesByFeature.get(featureId), this.#releases);
  }

  /** The feature's release in progress, if any. */
  activeRelease(featureId: string): Release | null {
    const id = this.#features.get(featureId)?.activeReleaseId;
    return id ? freeze(this.#releases.get(id) ?? null) : null;
  }

  /** A project's releases, oldest first, optionally only those with `status`. */
  releases(projectId: string, status?: ReleaseStatus | null): readonly Release[] {
    const all = this.#list(this.#releasesByProject.get(projectId), this.#releases);
    return status ? freeze(all.filter((release) => release.status === status)) : all;
  }

  /** Releases whose current phase awaits approval (of one project, or all), in the order they began to wait. */
  releasesAwaitingApproval(projectId?: string | null): readonly Release[] {
    const list: Release[] = [];
    for (const id of this.#awaitingApproval) {
      const release = this.#releases.get(id);
      if (release !== undefined && (!projectId || release.projectId === projectId)) list.push(release);
    }
    return freeze(list);
  }

  /** Releases IN_PROGRESS (all projects), oldest first by start. */
  releasesInProgress(): readonly Release[] {
    return this.#list([...this.#inProgress], this.#releases);
  }

  /** A webhook, deleted or not. */
  webhook(id: string): Webhook | null {
    return freeze(this.#webhooks.get(id) ?? null);
  }

  /** A project's webhooks that are not deleted, oldest first. */
  webhooks(projectId: string): readonly Webhook[] {
    const all = this.#list(this.#webhooksByProject.get(projectId), this.#webhooks);
    return all.some((webhook) => webhook.deletedAt !== null)
      ? freeze(all.filter((webhook) => webhook.deletedAt === null))
      : all;
  }

  /** A webhook's deliveries, newest first (at most `first`). */
  deliveries(webhookId: string, first: number): readonly Delivery[] {
    const ids = this.#deliveriesByWebhook.get(webhookId);
    if (ids === undefined || first <= 0) return EMPTY;
    return this.#list(ids.slice(-first).reverse(), this.#deliveries);
  }

  sdkKey(id: string): SdkKey | null {
    return freeze(this.#sdkKeys.get(id) ?? null);
  }

  /** The SDK key whose secret hashes (SHA-256, hex) to `hash`, revoked or not. */
  sdkKeyByHash(hash: string): SdkKey | null {
    const id = this.#sdkKeyByHash.get(hash);
    return id === undefined ? null : freeze(this.#sdkKeys.get(id) ?? null);
  }

  /** A project's SDK keys, oldest first; revoked ones only with `includeRevoked`. */
  sdkKeys(projectId: string, includeRevoked = false): readonly SdkKey[] {
    const all = this.#list(this.#sdkKeysByProject.get(projectId), this.#sdkKeys);
    return includeRevoked ? all : freeze(all.filter((key) => key.revokedAt === null));
  }

  #list<T>(ids: readonly string[] | undefined, from: States<T>): readonly T[] {
    if (ids === undefined || ids.length === 0) return EMPTY;
    const list = new Array<T>(ids.length);
    let n = 0;
    for (const id of ids) {
      const value = from.get(id);
      if (value !== undefined) list[n++] = value;
    }
    list.length = n;
    return freeze(list);
  }

  counts(): ReadModelCounts {
    return {
      events: this.#events,
      projects: this.#projects.size,
      tokens: this.#tokens.size,
      pipelines: this.#pipelines.size,
      features: this.#features.size,
      releases: this.#releases.size,
      releasesInProgress: this.#inProgress.size,
      releasesAwaitingApproval: this.#awaitingApproval.size,
    };
  }

  /**
   * Everything held, as plain data in a canonical order (entities by id; index lists in their own order):
   * what `digest` hashes and what the rebuild test compares deeply.
   */
  snapshot(): ReadModelsSnapshot {
    const byId = <T>(map: { entries(): Iterable<[string, T]> }): [string, T][] =>
      [...map.entries()].map(([k, v]): [string, T] => [k, freeze(v)]).sort(([a], [b]) => (a < b ? -1 : 1));
    const lists = (map: Map<string, Iterable<string>>): [string, string[]][] =>
      [...map.entries()].map(([k, v]): [string, string[]] => [k, [...v]]).sort(([a], [b]) => (a < b ? -1 : 1));
    return {
      position: this.#position,
      events: this.#events,
      projects: byId(this.#projects),
      projectOrder: [...this.#projectOrder],
      tokens: byId(this.#tokens),
      tokenByHash: byId(this.#tokenByHash),
      pipelines: byId(this.#pipelines),
      pipelinesByProject: lists(this.#pipelinesByProject),
      features: byId(this.#features),
      featuresByProject: lists(this.#featuresByProject),
      featureByKey: byId(this.#featureByKey),
      featuresByPipeline: lists(this.#featuresByPipeline).filter(([, ids]) => ids.length > 0),
      releases: byId(this.#releases),
      releasesByFeature: lists(this.#releasesByFeature),
      releasesByProject: lists(this.#releasesByProject),
      awaitingApproval: [...this.#awaitingApproval],
      inProgress: [...this.#inProgress].sort(),
      webhooks: byId(this.#webhooks),
      deliveries: byId(this.#deliveries),
      deliveriesByWebhook: lists(this.#deliveriesByWebhook),
      sdkKeys: byId(this.#sdkKeys),
      sdkKeyByHash: byId(this.#sdkKeyByHash),
      sdkKeysByProject: lists(this.#sdkKeysByProject),
    };
  }
}

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

export const createReadModels = (): ReadModels => new ReadModels();

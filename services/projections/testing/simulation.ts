// A seeded simulation of the product's use: projects, tokens, pipelines (drafts, edits, publish, clone,
// delete), features (direct updates, attach/detach) and releases run through every action (waits,
// pauses, skips, approvals, aborts, full rollouts, timers via Tick) — all decided by the REAL deciders,
// so the events it stores are the events the service stores. Used by the audit/replay tests (through the
// command handler) and by bench/generate-log.ts (through batched appends; bench:replay and bench:scale).
//
// Time is synthetic: a clock that only moves forward, at least 1 ms per step, so "the state at time T"
// is well defined for as-of tests.

import type { Decider, DomainEvent } from "../../core/decider.ts";
import { isDomainError } from "../../core/errors.ts";
import type { Actor, FeatureKind, Role } from "../../core/model.ts";
import { SYSTEM_ACTOR } from "../../core/model.ts";
import { type EntityKind, parseStream, streams } from "../../core/streams.ts";
import { EVENT_SCHEMA_VERSION } from "../../core/upcasters.ts";
import { type CommandExecutor, type CommandMetadata, storeExecutor } from "../../event-store/command-handler.ts";
import type { EventStore, EventToAppend, ExpectedRevision } from "../../event-store/port.ts";
import {
  type AttachmentContext,
  attachPipeline,
  createFeature,
  detachPipeline,
  type FeatureWrite,
} from "../../feature/attachment.ts";
import type { EnvironmentDefinitionInput } from "../../feature/definition.ts";
import {
  type CreateFeature,
  definitionChanges,
  type Feature,
  type FeatureCommand,
  featureDecider,
} from "../../feature/feature.ts";
import { type PhaseInput, type Pipeline, type PipelineCommand, pipelineDecider } from "../../pipeline/pipeline.ts";
import { type Project, type ProjectCommand, projectDecider } from "../../project/project.ts";
import { featureEffectCommands, featureEffectsDecider } from "../../release/effects.ts";
import type { ReleaseEvent } from "../../release/events.ts";
import {
  eventActor,
  featureEffects,
  type Release,
  type ReleaseCommand,
  releaseDecider,
} from "../../release/release.ts";
import { nextReleaseId, startRelease } from "../../release/start.ts";
import { type TokenCommand, tokenDecider } from "../../token/token.ts";

// ---- seeded randomness ------------------------------------------------------------------------------

/** sfc32: small, fast, good enough for test data; the same seed gives the same run. */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** A version-4-shaped UUID from the generator (event ids must be UUIDs). */
export function uuidFrom(random: () => number): string {
  let hex = "";
  for (let i = 0; i < 4; i++)
    hex += Math.floor(random() * 0x100000000)
      .toString(16)
      .padStart(8, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${"89ab"[Math.floor(random() * 4)]}${hex.slice(
    17,
    20,
  )}-${hex.slice(20, 32)}`;
}

// ---- executing commands ---------------------------------------------------------------------------

export interface Executed<State> {
  state: State;
  events: DomainEvent[];
  /** Position of the command's last event, when the executor knows it (null: nothing appended, or batched). */
  position: string | null;
}

/** Runs one command of one decider on one stream. */
export type Executor = CommandExecutor;

/** Through the command handler: load → decide → append with optimistic concurrency (the API's path). */
export const commandHandlerExecutor = (store: EventStore, newId: () => string): Executor => storeExecutor(store, newId);

/**
 * Keeps every stream's state in memory and appends decided events in batches (one append per stream per
 * flush, with the expected revision): the same deciders and the same append path, fast enough to
 * generate a million events.
 */
export class BatchingExecutor implements Executor {
  readonly #store: EventStore;
  readonly #newId: () => string;
  readonly #states = new Map<string, { state: unknown; revision: ExpectedRevision }>();
  #buffer = new Map<string, EventToAppend[]>();
  #buffered = 0;
  readonly #flushAt: number;
  /** Streams forgotten while they had buffered events: their revision is needed by the next flush. */
  readonly #forgetAfterFlush = new Set<string>();
  appended = 0;

  constructor(store: EventStore, newId: () => string, flushAt = 5000) {
    this.#store = store;
    this.#newId = newId;
    this.#flushAt = flushAt;
  }

  async execute<State, Command, Event extends DomainEvent>(
    decider: Decider<State, Command, Event>,
    stream: string,
    command: Command,
    metadata: CommandMetadata,
  ): Promise<{ state: State; events: Event[]; position: string | null }> {
    const known = this.#states.get(stream);
    let state = (known?.state as State | undefined) ?? decider.initialState();
    const events = decider.decide(command, state);
    for (const event of events) state = decider.evolve(state, event);
    if (events.length > 0) {
      const list = this.#buffer.get(stream) ?? [];
      if (list.length === 0) this.#buffer.set(stream, list);
      for (const event of events) {
        list.push({
          id: this.#newId(),
          type: event.type,
          data: event.data,
          metadata: {
            actor: metadata.actor,
            occurredAt: metadata.occurredAt,
            correlationId: metadata.correlationId,
            causationId: metadata.causationId ?? null,
            projectId: metadata.projectId,
            schemaVersion: EVENT_SCHEMA_VERSION,
          },
        });
      }
      this.#buffered += events.length;
      this.#states.set(stream, { state, revision: known?.revision ?? "no_stream" });
      if (this.#buffered >= this.#flushAt) await this.flush();
    }
    return { state, events, position: null };
  }

  async flush(): Promise<void> {
    const buffer = this.#buffer;
    this.#buffer = new Map();
    this.#buffered = 0;
    for (const [stream, events] of buffer) {
      const entry = this.#states.get(stream);
      const result = await this.#store.append(stream, events, entry?.revision ?? "no_stream");
      if (entry) entry.revision = result.nextExpectedRevision;
      this.appended += events.length;
    }
    for (const stream of this.#forgetAfterFlush) this.#states.delete(stream);
    this.#forgetAfterFlush.clear();
  }

  /** Drops the state kept for `stream` (no command will touch it again); its buffered events stay. */
  forget(stream: string): void {
    if (!this.#buffer.has(stream)) this.#states.delete(stream);
    else this.#forgetAfterFlush.add(stream);
  }
}

// ---- the simulation ------------------------------------------------------------------------------

export interface SimulationOptions {
  seed: number;
  /** ISO instant of the first command (default 2026-01-01T00:00:00.000Z). */
  start?: string;
  maxProjects?: number;
  /** Pipelines per project at most (default 6). */
  maxPipelinesPerProject?: number;
  /** Features per project at most (default 40). */
  maxFeaturesPerProject?: number;
  /**
   * Forget a release once it has finished (from `releases`, and from the executor's states when it can
   * `forget`), so a long run's memory stays bounded (default false: as-of tests look finished ones up).
   */
  forgetFinished?: boolean;
}

/** An executor that can drop what it keeps about a stream no command will touch again (BatchingExecutor). */
export interface ForgettingExecutor extends Executor {
  forget(stream: string): void;
}

/** What one executed command left behind: for as-of tests. */
export interface CommitRecord {
  kind: Exclude<EntityKind, "sdkKey" | "webhook" | "delivery">;
  id: string;
  at: string;
  position: string | null;
  state: unknown;
  events: number;
}

export interface SimulationStats {
  commands: number;
  refused: number;
  /** Refused commands by error code. */
  refusals: Record<string, number>;
  releasesStarted: number;
  releasesCompleted: number;
  releasesAborted: number;
  actions: Record<string, number>;
}

const PEOPLE: Record<string, Actor> = {
  admin: { name: "admin", role: "ADMIN" },
  alice: { name: "alice", role: "EDITOR" },
  bob: { name: "bob", role: "APPROVER" },
  carol: { name: "carol", role: "APPROVER" },
  dave: { name: "dave", role: "APPROVER" },
};

const ENVIRONMENT_SETS = [
  ["development", "staging", "production"],
  ["dev", "prod-us-west", "prod-us-east", "prod-eu"],
  ["staging", "production"],
];

export class Simulation {
  /** The executor, telling the commit listeners about every command that stored something. */
  readonly #executor: Executor;
  readonly random: () => number;
  readonly #options: Required<Omit<SimulationOptions, "seed" | "start">>;
  readonly #forget: (stream: string) => void;
  #clock: number;
  readonly projects = new Map<string, Project>();
  readonly pipelines = new Map<string, Pipeline>();
  readonly features = new Map<string, Feature>();
  readonly releases = new Map<string, Release>();
  readonly tokenIds: string[] = [];
  /** Per project: its pipelines, features, and releases in progress (ids), so a step costs O(1). */
  readonly #byProject = new Map<string, { pipelines: string[]; features: string[]; active: Set<string> }>();
  // (`pipelines`: those not deleted.)
  readonly stats: SimulationStats = {
    commands: 0,
    refused: 0,
    refusals: {},
    releasesStarted: 0,
    releasesCompleted: 0,
    releasesAborted: 0,
    actions: {},
  };
  #listeners: ((record: CommitRecord) => void)[] = [];
  #featureCounter = 0;
  /** Features random steps leave alone (driven by the caller). */
  readonly #reserved = new Set<string>();

  constructor(executor: Executor, options: SimulationOptions) {
    this.#executor = {
      execute: async (decider, stream, command, metadata) => {
        const executed = await executor.execute(decider, stream, command, metadata);
        const entity = parseStream(stream);
        // Keeps the known pipelines current when a feature's attachment changes their records.
        if (entity?.kind === "pipeline" && this.pipelines.has(entity.id) && executed.state !== null) {
          this.pipelines.set(entity.id, executed.state as Pipeline);
        }
        if (executed.events.length > 0 && entity !== null) {
          const record: CommitRecord = {
            kind: entity.kind as CommitRecord["kind"], // the simulation writes no SDK keys or webhooks
            id: entity.id,
            at: this.now,
            position: executed.position,
            state: executed.state,
            events: executed.events.length,
          };
          for (const listener of this.#listeners) listener(record);
        }
        return executed;
      },
    };
    const forgetting = executor as Partial<ForgettingExecutor>;
    this.#forget = typeof forgetting.forget === "function" ? (stream) => forgetting.forget?.(stream) : () => undefined;
    this.random = prng(options.seed);
    this.#clock = Date.parse(options.start ?? "2026-01-01T00:00:00.000Z");
    this.#options = {
      maxProjects: options.maxProjects ?? 3,
      maxPipelinesPerProject: options.maxPipelinesPerProject ?? 6,
      maxFeaturesPerProject: options.maxFeaturesPerProject ?? 40,
      forgetFinished: options.forgetFinished ?? false,
    };
  }

  /** Keeps random steps away from a feature (e.g. one the caller updates on its own schedule). */
  reserve(featureId: string): void {
    this.#reserved.add(featureId);
  }

  /** Called after every command that stored something. */
  onCommit(listener: (record: CommitRecord) => void): void {
    this.#listeners.push(listener);
  }

  get now(): string {
    return new Date(this.#clock).toISOString();
  }

  /** Moves the clock forward by at least 1 ms. */
  advance(ms: number): void {
    this.#clock += Math.max(1, Math.round(ms));
  }

  id(): string {
    return uuidFrom(this.random);
  }

  #pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)] as T;
  }

  #chance(p: number): boolean {
    return this.random() < p;
  }

  #meta(actor: Actor, projectId: string | null): CommandMetadata {
    return { actor: actor.name, occurredAt: this.now, correlationId: this.id(), causationId: null, projectId };
  }

  async #run<State, Command, Event extends DomainEvent>(
    kind: CommitRecord["kind"],
    id: string,
    decider: Decider<State, Command, Event>,
    command: Command,
    actor: Actor,
    projectId: string | null,
  ): Promise<Executed<State> | null> {
    this.stats.commands++;
    try {
      return await this.#executor.execute(decider, streams[kind](id), command, this.#meta(actor, projectId));
    } catch (error) {
      this.#refused(error);
      return null;
    }
  }

  #refused(error: unknown): void {
    if (!isDomainError(error)) throw error;
    this.stats.refused++;
    this.stats.refusals[error.code] = (this.stats.refusals[error.code] ?? 0) + 1;
  }

  // ---- commands ---------------------------------------------------------------------------------

  async createProject(): Promise<Project | null> {
    const projectId = this.id();
    const environments = this.#pick(ENVIRONMENT_SETS);
    const command: ProjectCommand = {
      type: "CreateProject",
      data: {
        projectId,
        name: `Project ${this.projects.size + 1}`,
        environments,
        segments: [
          { key: "us-west", attribute: "region", operator: "IN", values: ["us-west"] },
          { key: "beta", attribute: "plan", operator: "IN", values: ["beta", "internal"] },
        ],
      },
      actor: PEOPLE.admin as Actor,
      now: this.now,
    };
    const executed = await this.#run("project", projectId, projectDecider, command, PEOPLE.admin as Actor, projectId);
    const project = executed?.state ?? null;
    if (project) {
      this.projects.set(projectId, project);
      this.#byProject.set(projectId, { pipelines: [], features: [], active: new Set() });
      await this.createToken(projectId, "EDITOR");
    }
    return project;
  }

  async createToken(projectId: string | null, role: Role): Promise<void> {
    const tokenId = this.id();
    let secretHash = "";
    for (let i = 0; i < 8; i++)
      secretHash += Math.floor(this.random() * 0x100000000)
        .toString(16)
        .padStart(8, "0");
    const command: TokenCommand = {
      type: "CreateApiToken",
      data: { tokenId, name: `token-${this.tokenIds.length + 1}`, role, projectId, secretHash, projectExists: true },
      actor: PEOPLE.admin as Actor,
      now: this.now,
    };
    const executed = await this.#run("token", tokenId, tokenDecider, command, PEOPLE.admin as Actor, projectId);
    if (executed) this.tokenIds.push(tokenId);
  }

  #phaseInputs(project: Project): PhaseInput[] {
    const count = 1 + Math.floor(this.random() * 4);
    const phases: PhaseInput[] = [];
    for (let i = 0; i < count; i++) {
      const environment = project.environments[Math.min(i, project.environments.length - 1)] as string;
      const segmented = this.#chance(0.25);
      const requiresApproval = this.#chance(0.35);
      phases.push({
        name: `phase ${i + 1}`,
        waitFor: this.#chance(0.6) ? this.#pick(["PT10M", "PT30M", "PT1H", "PT2H", "P1D"]) : null,
        requiresApproval,
        approvalsRequired: requiresApproval ? (this.#chance(0.25) ? 2 : 1) : 1,
        action: this.#chance(0.8) ? "APPLY_CHANGE" : this.#pick(["ENABLE", "DISABLE"] as const),
        targets: segmented ? [{ environment, segment: this.#pick(project.segments).key }] : [{ environment }],
      });
    }
    return phases;
  }

  async createPipeline(project: Project): Promise<Pipeline | null> {
    const pipelineId = this.id();
    const command: PipelineCommand = {
      type: "CreatePipeline",
      data: {
        pipelineId,
        project,
        name: `pipeline ${this.pipelines.size + 1}`,
        description: this.#chance(0.5) ? "staged rollout" : null,
        selfApproval: this.#chance(0.3) ? "FORBIDDEN" : "ALLOWED",
        phases: this.#phaseInputs(project),
      },
      actor: PEOPLE.alice as Actor,
      now: this.now,
    };
    return this.#pipelineCommand(pipelineId, command, project.id);
  }

  async #pipelineCommand(pipelineId: string, command: PipelineCommand, projectId: string): Promise<Pipeline | null> {
    const executed = await this.#run(
      "pipeline",
      pipelineId,
      pipelineDecider,
      command,
      PEOPLE.alice as Actor,
      projectId,
    );
    if (executed?.state) {
      const own = this.#byProject.get(projectId);
      if (!this.pipelines.has(pipelineId)) own?.pipelines.push(pipelineId);
      if (executed.state.status === "DELETED" && own) own.pipelines = own.pipelines.filter((id) => id !== pipelineId);
      this.pipelines.set(pipelineId, executed.state);
    }
    return executed?.state ?? null;
  }

  async updatePipeline(pipeline: Pipeline): Promise<void> {
    const project = this.projects.get(pipeline.projectId) as Project;
    const command: PipelineCommand = {
      type: "UpdatePipeline",
      data: this.#chance(0.5)
        ? { project, name: `${pipeline.name}*` }
        : { project, phases: this.#phaseInputs(project) },
      actor: PEOPLE.alice as Actor,
      now: this.now,
    };
    await this.#pipelineCommand(pipeline.id, command, pipeline.projectId);
  }

  async publishPipeline(pipeline: Pipeline): Promise<void> {
    const command: PipelineCommand = { type: "PublishPipeline", data: {}, actor: PEOPLE.alice as Actor, now: this.now };
    await this.#pipelineCommand(pipeline.id, command, pipeline.projectId);
  }

  async clonePipeline(source: Pipeline): Promise<void> {
    const pipelineId = this.id();
    const command: PipelineCommand = {
      type: "ClonePipeline",
      data: { pipelineId, source, name: `${source.name} (copy)` },
      actor: PEOPLE.alice as Actor,
      now: this.now,
    };
    await this.#pipelineCommand(pipelineId, command, source.projectId);
  }

  async deletePipeline(pipeline: Pipeline): Promise<void> {
    const attachedFeatureIds = (this.#byProject.get(pipeline.projectId)?.features ?? []).filter(
      (id) => this.features.get(id)?.pipelineId === pipeline.id,
    );
    const command: PipelineCommand = {
      type: "DeletePipeline",
      data: { attachedFeatureIds },
      actor: PEOPLE.alice as Actor,
      now: this.now,
    };
    await this.#pipelineCommand(pipeline.id, command, pipeline.projectId);
  }

  #definitionInputs(project: Project, kind: FeatureKind): EnvironmentDefinitionInput[] {
    return project.environments
      .filter(() => this.#chance(0.7))
      .map((environment) => ({
        environment,
        definition: {
          enabled: this.#chance(0.5),
          value:
            kind === "GATE" ? null : { limit: Math.floor(this.random() * 1000), color: this.#pick(["red", "blue"]) },
          rules: this.#chance(0.3)
            ? [
                {
                  segment: this.#pick(project.segments).key,
                  enabled: true,
                  value: kind === "GATE" ? null : { limit: 1 },
                  rolloutPercentage: Math.floor(this.random() * 101),
                },
              ]
            : [],
        },
      }));
  }

  async createFeature(project: Project, pipeline: Pipeline | null): Promise<Feature | null> {
    const featureId = this.id();
    const kind: FeatureKind = this.#chance(0.6) ? "GATE" : "DYNAMIC_CONFIG";
    const command: CreateFeature = {
      type: "CreateFeature",
      data: {
        featureId,
        project,
        key: `feature-${++this.#featureCounter}`,
        kind,
        description: this.#chance(0.5) ? "a feature" : null,
        pipeline,
        environments: this.#definitionInputs(project, kind),
      },
      actor: PEOPLE.alice as Actor,
      now: this.now,
    };
    return this.#attachment(featureId, project.id, (context) => createFeature(this.#executor, command, context));
  }

  /** A feature write that may span its pipeline's stream (services/feature/attachment.ts), as the API does it. */
  async #attachment(
    featureId: string,
    projectId: string,
    write: (context: AttachmentContext) => Promise<FeatureWrite>,
  ): Promise<Feature | null> {
    this.stats.commands++;
    const actor = PEOPLE.alice as Actor;
    try {
      const written = await write({
        actor,
        now: this.now,
        metadata: { actor: actor.name, correlationId: this.id(), causationId: null, projectId },
      });
      if (written.state) {
        if (!this.features.has(featureId)) this.#byProject.get(projectId)?.features.push(featureId);
        this.features.set(featureId, written.state);
      }
      return written.state;
    } catch (error) {
      this.#refused(error);
      return null;
    }
  }

  async #featureCommand(
    featureId: string,
    command: FeatureCommand,
    projectId: string,
    actor: Actor,
  ): Promise<Feature | null> {
    const executed = await this.#run("feature", featureId, featureDecider, command, actor, projectId);
    if (executed?.state) {
      if (!this.features.has(featureId)) this.#byProject.get(projectId)?.features.push(featureId);
      this.features.set(featureId, executed.state);
    }
    return executed?.state ?? null;
  }

  async updateFeatureDirectly(feature: Feature): Promise<void> {
    const project = this.projects.get(feature.projectId) as Project;
    const command: FeatureCommand = {
      type: "UpdateFeature",
      data: {
        project,
        description: this.#chance(0.1) ? `changed at ${this.now}` : undefined,
        environments: this.#definitionInputs(project, feature.kind),
      },
      actor: PEOPLE.alice as Actor,
      now: this.now,
    };
    await this.#featureCommand(feature.id, command, feature.projectId, PEOPLE.alice as Actor);
  }

  async attachPipeline(feature: Feature, pipeline: Pipeline): Promise<void> {
    await this.#attachment(feature.id, feature.projectId, (context) =>
      attachPipeline(this.#executor, feature, pipeline, context),
    );
  }

  async detachPipeline(feature: Feature): Promise<void> {
    await this.#attachment(feature.id, feature.projectId, (context) =>
      detachPipeline(this.#executor, feature, context),
    );
  }

  /**
   * updateFeature on a feature with a pipeline (trigger UPDATE), or startRelease (trigger START), through
   * the API's release start (services/release/start.ts), then the workflow's first step (a Tick). An update
   * that changes nothing a release would roll out applies at once, as in the API.
   */
  async startRelease(feature: Feature): Promise<Release | null> {
    const project = this.projects.get(feature.projectId) as Project;
    const pipeline = feature.pipelineId ? this.pipelines.get(feature.pipelineId) : undefined;
    if (!pipeline) return null;
    const starter = this.#pick([PEOPLE.alice, PEOPLE.bob] as Actor[]);
    const description = this.#chance(0.1) ? `release ${nextReleaseId(feature)}` : undefined;
    const trigger = this.#chance(0.7) ? "UPDATE" : "START";
    const inputs = trigger === "UPDATE" ? this.#definitionInputs(project, feature.kind) : null;
    const reason = this.#chance(0.3) ? "ship it" : null;
    if (inputs !== null && definitionChanges(feature, project, inputs).length === 0) {
      const command: FeatureCommand = {
        type: "UpdateFeature",
        data: { project, description, environments: inputs },
        actor: starter,
        now: this.now,
      };
      await this.#featureCommand(feature.id, command, feature.projectId, starter);
      return null;
    }
    this.stats.commands++;
    let started: Awaited<ReturnType<typeof startRelease>>;
    try {
      started = await startRelease(this.#executor, {
        feature,
        project,
        pipeline,
        trigger,
        inputs,
        ...(description !== undefined && { description }),
        reason,
        actor: starter,
        now: this.now,
        metadata: { actor: starter.name, correlationId: this.id(), causationId: null, projectId: feature.projectId },
      });
    } catch (error) {
      this.#refused(error);
      return null;
    }
    const { release } = started;
    this.features.set(feature.id, started.feature);
    this.releases.set(release.id, release);
    this.#byProject.get(release.projectId)?.active.add(release.id);
    this.stats.releasesStarted++;
    return this.#releaseCommand(
      release.id,
      { type: "Tick", data: {}, actor: SYSTEM_ACTOR, now: this.now },
      SYSTEM_ACTOR,
      release.projectId,
    );
  }

  /** Runs a release command, then the feature effects of what it stored (as the workflow's activities do). */
  async #releaseCommand(
    releaseId: string,
    command: ReleaseCommand,
    actor: Actor,
    projectId: string,
  ): Promise<Release | null> {
    const before = this.releases.get(releaseId) ?? null;
    const executed = await this.#run("release", releaseId, releaseDecider, command, actor, projectId);
    if (!executed?.state) return null;
    const release = executed.state;
    this.releases.set(releaseId, release);
    const active = this.#byProject.get(projectId)?.active;
    if (release.status === "IN_PROGRESS") active?.add(releaseId);
    else active?.delete(releaseId);
    if (before?.status === "IN_PROGRESS" || before === null) {
      if (release.status === "COMPLETED") this.stats.releasesCompleted++;
      if (release.status === "ABORTED") this.stats.releasesAborted++;
    }
    // As the workflow's applyFeatureEffects activity: one command per release event, by the event's actor.
    for (const event of executed.events as ReleaseEvent[]) {
      const effects = featureEffects(release, event);
      const feature = this.features.get(release.featureId);
      if (effects.length === 0 || !feature) continue;
      const by = eventActor(event);
      const actor: Actor = { name: by, role: "ADMIN" };
      const written = await this.#run(
        "feature",
        feature.id,
        featureEffectsDecider,
        featureEffectCommands(effects, releaseId, by, this.now),
        actor,
        feature.projectId,
      );
      if (written?.state) this.features.set(feature.id, written.state);
    }
    if (this.#options.forgetFinished && release.status !== "IN_PROGRESS") {
      this.releases.delete(releaseId);
      this.#forget(streams.release(releaseId));
    }
    return release;
  }

  /** One action on a release in progress, chosen by what its current phase allows (sometimes a refused one). */
  async actOnRelease(release: Release): Promise<void> {
    if (release.status !== "IN_PROGRESS") return;
    const phase = release.phases[release.currentPhaseIndex];
    if (!phase) return;
    const roll = this.random();
    let command: ReleaseCommand;
    let actor: Actor;
    const base = { now: this.now, data: {} };
    if (roll < 0.05) {
      actor = PEOPLE.alice as Actor;
      command = { ...base, type: "AbortRelease", actor, data: { reason: "bad metrics" } };
    } else if (roll < 0.09) {
      actor = PEOPLE.bob as Actor;
      command = { ...base, type: "FullRollout", actor, data: { reason: "hotfix" } };
    } else if (phase.status === "AWAITING_APPROVAL") {
      actor = this.#pick([PEOPLE.bob, PEOPLE.carol, PEOPLE.dave] as Actor[]);
      if (this.#chance(0.15)) actor = this.#pick([PEOPLE.alice, PEOPLE.bob] as Actor[]);
      command = {
        ...base,
        type: "ApproveRelease",
        actor,
        data: { phaseIndex: phase.index, comment: this.#chance(0.5) ? "lgtm" : null },
      };
    } else if (phase.status === "WAITING") {
      actor = PEOPLE.alice as Actor;
      const r = this.random();
      if (r < 0.25) command = { ...base, type: "PauseRelease", actor, data: { phaseIndex: phase.index } };
      else if (r < 0.4) command = { ...base, type: "SkipPhase", actor, data: { reason: "enough bake" } };
      else if (r < 0.45) {
        // Refused: approving while waiting (INVALID_STATE), nothing stored.
        actor = PEOPLE.bob as Actor;
        command = { ...base, type: "ApproveRelease", actor, data: {} };
      } else {
        // Let the bake timer run out, then the workflow's Tick.
        const endsAt = Date.parse(phase.waitEndsAt ?? this.now);
        if (endsAt > this.#clock) this.#clock = endsAt + Math.floor(this.random() * 60_000);
        actor = SYSTEM_ACTOR;
        command = { type: "Tick", data: {}, actor, now: this.now };
      }
    } else if (phase.status === "PAUSED") {
      actor = PEOPLE.alice as Actor;
      command = this.#chance(0.7)
        ? { ...base, type: "UnpauseRelease", actor, data: { reason: "resume" } }
        : { ...base, type: "SkipPhase", actor, data: { phaseIndex: phase.index } };
    } else {
      actor = SYSTEM_ACTOR;
      command = { type: "Tick", data: {}, actor, now: this.now };
    }
    this.stats.actions[command.type] = (this.stats.actions[command.type] ?? 0) + 1;
    await this.#releaseCommand(release.id, command, actor, release.projectId);
  }

  // ---- a random step ----------------------------------------------------------------------------

  /** One random step of the product's use; the clock moves forward first. */
  async step(): Promise<void> {
    this.advance(1000 + this.random() * 600_000);
    if (this.projects.size === 0 || (this.projects.size < this.#options.maxProjects && this.#chance(0.02))) {
      await this.createProject();
      return;
    }
    const project = this.#pick([...this.projects.values()]);
    const own = this.#byProject.get(project.id);
    if (!own) return;
    const pipelines = own.pipelines
      .map((id) => this.pipelines.get(id) as Pipeline)
      .filter((p) => p.status !== "DELETED");
    const published = pipelines.filter((p) => p.status === "PUBLISHED");
    const features = own.features;
    const active = [...own.active].map((id) => this.releases.get(id) as Release);
    const roll = this.random();
    if (roll < 0.45 && active.length > 0) {
      await this.actOnRelease(this.#pick(active));
    } else if (roll < 0.52 && pipelines.length < this.#options.maxPipelinesPerProject) {
      const pipeline = await this.createPipeline(project);
      if (pipeline && this.#chance(0.3)) await this.updatePipeline(pipeline);
      if (pipeline && this.#chance(0.8)) await this.publishPipeline(pipeline);
    } else if (roll < 0.56 && pipelines.length > 0) {
      const pipeline = this.#pick(pipelines);
      const r = this.random();
      if (pipeline.status === "DRAFT") await (r < 0.5 ? this.updatePipeline(pipeline) : this.publishPipeline(pipeline));
      else if (r < 0.5 && pipelines.length < this.#options.maxPipelinesPerProject) await this.clonePipeline(pipeline);
      else await this.deletePipeline(pipeline);
    } else if (roll < 0.63 && features.length < this.#options.maxFeaturesPerProject) {
      await this.createFeature(project, published.length > 0 && this.#chance(0.6) ? this.#pick(published) : null);
    } else if (roll < 0.7 && features.length > 0) {
      const feature = this.features.get(this.#pick(features)) as Feature;
      if (this.#reserved.has(feature.id)) return;
      if (feature.pipelineId === null && published.length > 0 && this.#chance(0.5)) {
        await this.attachPipeline(feature, this.#pick(published));
      } else if (feature.pipelineId !== null) {
        await this.detachPipeline(feature);
      } else await this.updateFeatureDirectly(feature);
    } else if (features.length > 0) {
      const feature = this.features.get(this.#pick(features)) as Feature;
      if (this.#reserved.has(feature.id)) return;
      if (feature.pipelineId === null) await this.updateFeatureDirectly(feature);
      else if (feature.activeReleaseId === null) await this.startRelease(feature);
      else {
        const release = this.releases.get(feature.activeReleaseId);
        if (release) await this.actOnRelease(release);
      }
    }
  }
}

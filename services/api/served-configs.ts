// Keeps the SDK configuration documents that are being served up to date: every API process runs one, fed by its own projection
// runner, so a change stored through any process reaches the streams of every process.
//
// Documents are built lazily (only environments someone reads or streams) and incrementally: a
// feature's entry is serialised once per state of the feature and its release (read-model states are
// immutable values, so object identity says "unchanged"). A version is the content's hash, so the same
// content has the same version — and ETag — on every process (docs/decisions/0015-sdk-config-versions.md).

import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { Feature } from "../feature/feature.ts";
import type { Project } from "../project/project.ts";
import type { AppliedChange, ReadModels } from "../projections/read-models.ts";
import type { ProjectionRunner } from "../projections/runner.ts";
import type { Release } from "../release/release.ts";
import type { SdkKey } from "../sdk-key/sdk-key.ts";
import { configFeature } from "../serving/config-builder.ts";
import { CONFIG_SCHEMA_VERSION, type ConfigPatch } from "../serving/config-document.ts";

/** One environment's document as served: its JSON text (and gzip, made on first ask), version and parts. */
export interface ConfigSnapshot {
  readonly projectId: string;
  readonly environment: string;
  readonly version: string;
  readonly json: string;
  /** The `put` event of the change stream, encoded once for every stream. */
  readonly putFrame: Buffer;
  readonly gzip: () => Buffer;
  /** Feature key → its entry's JSON. */
  readonly features: ReadonlyMap<string, string>;
  readonly segmentsJson: string;
}

/** A patch as served: the JSON and the SSE frame, made once for every stream. */
export interface ServedPatch {
  readonly from: string;
  readonly to: string;
  readonly json: string;
  /** The `patch` event, encoded once for every stream. */
  readonly frame: Buffer;
  readonly changedKeys: readonly string[];
}

export type PatchListener = (patch: ServedPatch) => void;
export type KeyListener = (key: SdkKey) => void;

export interface ServedConfigsOptions {
  readModels: ReadModels;
  runner: Pick<ProjectionRunner, "onEvent">;
  /** Patches kept per environment for Last-Event-ID resumes (default 256). */
  historySize?: number;
}

const hash16 = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 16);

const sseFrame = (event: string, id: string, json: string): Buffer =>
  Buffer.from(`id: ${id}\nevent: ${event}\ndata: ${json}\n\n`);

interface EnvironmentEntry {
  snapshot: ConfigSnapshot | null;
  listeners: Set<PatchListener>;
  history: ServedPatch[];
}

interface FeatureCacheEntry {
  release: Release | null;
  json: Map<string, string | null>;
}

export class ServedConfigs {
  readonly #readModels: ReadModels;
  readonly #historySize: number;
  /** `${projectId}\0${environment}` → what is served there. */
  readonly #environments = new Map<string, EnvironmentEntry>();
  readonly #dirty = new Set<string>();
  #flushScheduled = false;
  readonly #featureCache = new WeakMap<Feature, FeatureCacheEntry>();
  readonly #keyListeners = new Set<KeyListener>();
  readonly #off: () => void;

  constructor(options: ServedConfigsOptions) {
    this.#readModels = options.readModels;
    this.#historySize = options.historySize ?? 256;
    this.#off = options.runner.onEvent((_event, _readModels, change) => this.#onChange(change));
  }

  close(): void {
    this.#off();
    this.#environments.clear();
    this.#keyListeners.clear();
  }

  /** The environment's current document; null when the project or the environment does not exist. */
  snapshot(projectId: string, environment: string): ConfigSnapshot | null {
    if (this.#dirty.has(projectId)) this.#flushProject(projectId);
    const entry = this.#entry(projectId, environment);
    entry.snapshot ??= this.#build(projectId, environment);
    return entry.snapshot;
  }

  /** Listens to the environment's patches (after `snapshot` was taken, so none is missed). */
  subscribe(projectId: string, environment: string, listener: PatchListener): () => void {
    const entry = this.#entry(projectId, environment);
    entry.listeners.add(listener);
    return () => {
      entry.listeners.delete(listener);
    };
  }

  /** The patches that lead from `version` to the current one ([] when current), or null when not known here. */
  patchesSince(projectId: string, environment: string, version: string): ServedPatch[] | null {
    const entry = this.#entry(projectId, environment);
    if (entry.snapshot?.version === version) return [];
    for (let i = entry.history.length - 1; i >= 0; i--) {
      if (entry.history[i]?.to === version) return entry.history.slice(i + 1);
    }
    return null;
  }

  /** Listens to SDK keys as they change (revocations close streams). */
  onKeyChange(listener: KeyListener): () => void {
    this.#keyListeners.add(listener);
    return () => {
      this.#keyListeners.delete(listener);
    };
  }

  #entry(projectId: string, environment: string): EnvironmentEntry {
    const id = `${projectId}\u0000${environment}`;
    let entry = this.#environments.get(id);
    if (entry === undefined) {
      entry = { snapshot: null, listeners: new Set(), history: [] };
      this.#environments.set(id, entry);
    }
    return entry;
  }

  #onChange(change: AppliedChange): void {
    let projectId: string | null = null;
    switch (change.kind) {
      case "project":
        projectId = change.id;
        break;
      case "feature":
      case "release":
        projectId = ((change.after ?? change.before) as { projectId?: string } | null)?.projectId ?? null;
        break;
      case "sdkKey": {
        const key = change.after as SdkKey | null;
        if (key !== null) for (const listener of this.#keyListeners) listener(key);
        return;
      }
      default:
        return;
    }
    if (projectId === null) return;
    this.#dirty.add(projectId);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Events of one command arrive together: one document (and one patch) for all of them.
      setImmediate(() => {
        this.#flushScheduled = false;
        for (const id of [...this.#dirty]) this.#flushProject(id);
      });
    }
  }

  /** Rebuilds the project's documents that are served, and sends a patch where the content changed. */
  #flushProject(projectId: string): void {
    this.#dirty.delete(projectId);
    const prefix = `${projectId}\u0000`;
    for (const [id, entry] of this.#environments) {
      if (!id.startsWith(prefix)) continue;
      const previous = entry.snapshot;
      if (previous === null && entry.listeners.size === 0) continue;
      const next = this.#build(projectId, id.slice(prefix.length));
      entry.snapshot = next;
      if (previous === null || next === null || next.version === previous.version) continue;
      const patch = diff(previous, next);
      entry.history.push(patch);
      if (entry.history.length > this.#historySize) entry.history.shift();
      for (const listener of entry.listeners) listener(patch);
    }
  }

  #featureJson(feature: Feature, environment: string): string | null {
    const active = feature.activeReleaseId === null ? null : this.#readModels.release(feature.activeReleaseId);
    let cached = this.#featureCache.get(feature);
    if (cached === undefined || cached.release !== active) {
      cached = { release: active, json: new Map() };
      this.#featureCache.set(feature, cached);
    }
    let json = cached.json.get(environment);
    if (json === undefined) {
      const entry = configFeature(feature, active, environment);
      json = entry === null ? null : JSON.stringify(entry);
      cached.json.set(environment, json);
    }
    return json;
  }

  #build(projectId: string, environment: string): ConfigSnapshot | null {
    const project: Project | null = this.#readModels.project(projectId);
    if (project === null || !project.environments.includes(environment)) return null;
    const features = new Map<string, string>();
    for (const feature of this.#readModels.features(projectId)) {
      const json = this.#featureJson(feature, environment);
      if (json !== null) features.set(feature.key, json);
    }
    const segmentsJson = JSON.stringify(project.segments);
    const featureList = [...features.values()].join(",");
    const version = hash16(`${CONFIG_SCHEMA_VERSION}\n${segmentsJson}\n${featureList}`);
    const json =
      `{"schemaVersion":${CONFIG_SCHEMA_VERSION},"projectId":${JSON.stringify(projectId)},` +
      `"environment":${JSON.stringify(environment)},"version":"${version}",` +
      `"segments":${segmentsJson},"features":[${featureList}]}`;
    let gzipped: Buffer | null = null;
    return {
      projectId,
      environment,
      version,
      json,
      putFrame: sseFrame("put", version, json),
      gzip: () => {
        gzipped ??= gzipSync(json);
        return gzipped;
      },
      features,
      segmentsJson,
    };
  }
}

/** The patch from `previous` to `next`: the entries that differ, the keys that went away, the segments if changed. */
function diff(previous: ConfigSnapshot, next: ConfigSnapshot): ServedPatch {
  const changed: string[] = [];
  const changedKeys: string[] = [];
  for (const [key, json] of next.features) {
    if (previous.features.get(key) !== json) {
      changed.push(json);
      changedKeys.push(key);
    }
  }
  const removed = [...previous.features.keys()].filter((key) => !next.features.has(key));
  const segments = previous.segmentsJson === next.segmentsJson ? "" : `,"segments":${next.segmentsJson}`;
  const json =
    `{"version":"${next.version}","previousVersion":"${previous.version}",` +
    `"features":[${changed.join(",")}],"removed":${JSON.stringify(removed)}${segments}}`;
  return {
    from: previous.version,
    to: next.version,
    json,
    frame: sseFrame("patch", next.version, json),
    changedKeys: [...changedKeys, ...removed],
  };
}

/** Type check: a patch's JSON has the ConfigPatch shape (kept next to `diff`, which writes it by hand). */
export type { ConfigPatch };

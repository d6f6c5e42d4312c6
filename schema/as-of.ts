// Audit replay through the graph: `projectAsOf`, `featureAsOf`, `pipelineAsOf` and `releaseAsOf` answer an
// entity as it was at a point, and every entity reached from it is served as of the same point. The root
// resolver tags the entity with the point (`asOf`); the fields that lead to other entities (Feature.project,
// .activeRelease, .releases, .pipeline, .environments' rolledOutTargets; Release.feature, .pipeline;
// Pipeline.project, .attachedFeatures; Project.pipelines, .features, .releases) fold
// those entities' streams up to the same point instead of reading the live read models, and tag them too.
// A feature's environments are read in its project's environments as of the same point (decision 0024).

import type { AsOfOptions, AsOfPoint } from "../services/audit/as-of.ts";
import { featureAsOf, pipelineAsOf, projectAsOf, releaseAsOf } from "../services/audit/as-of.ts";
import type { EventStore } from "../services/event-store/port.ts";
import type { Feature } from "../services/feature/feature.ts";
import type { Pipeline } from "../services/pipeline/pipeline.ts";
import type { Project } from "../services/project/project.ts";
import type { ReadModels } from "../services/projections/read-models.ts";
import type { Release } from "../services/release/release.ts";
import { canSeeProject } from "./access.ts";
import type { AuthInfo } from "./context.ts";

/** An entity served by audit replay carries the point it was rebuilt at; a live one has none. */
export interface AsOfTag {
  asOf?: AsOfPoint;
}

export type FeatureNode = Feature & AsOfTag;
/** `includeArchivedFeatures`: listed by `Project.pipelines(includeArchived: true)`, for its attachedFeatures. */
export type PipelineNode = Pipeline & AsOfTag & { includeArchivedFeatures?: boolean };
export type ReleaseNode = Release & AsOfTag;
export type ProjectNode = Project & AsOfTag;

/**
 * Entities as of a point, each stream folded once per request: one query often reaches the same entity
 * through several fields (a feature's activeRelease, its releases and its environments' rolledOutTargets).
 */
export interface AsOfLoader {
  feature(id: string, point: AsOfPoint): Promise<FeatureNode | null>;
  pipeline(id: string, point: AsOfPoint): Promise<PipelineNode | null>;
  release(id: string, point: AsOfPoint): Promise<ReleaseNode | null>;
  project(id: string, point: AsOfPoint): Promise<ProjectNode | null>;
}

export interface AsOfLoaderOptions {
  /**
   * The caller: a project-bound token folds nothing of another project. Visibility is decided before any
   * folding, from the live read models (an entity never changes project), so another project's id
   * answers exactly as fast as a missing one: no timing oracle on other tenants' ids.
   */
  auth?: AuthInfo | null;
  readModels?: Pick<ReadModels, "feature" | "deletedFeature" | "pipeline" | "release" | "project" | "latestSnapshot">;
  /** Epoch ms after which no new fold starts (the request's time budget); `onOverBudget` is thrown. */
  deadline?: number;
  onOverBudget?: () => Error;
}

export function createAsOfLoader(store: EventStore, options: AsOfLoaderOptions = {}): AsOfLoader {
  const folded = new Map<string, Promise<unknown>>();
  const { auth = null, readModels } = options;
  /** Whether a project-bound caller may see `kind` `id` at all (unbound callers see every project). */
  const mayFold = (kind: "feature" | "pipeline" | "release" | "project", id: string): boolean => {
    if (auth === null || auth.projectId === null || readModels === undefined) return true;
    // A deleted feature is still its project's (audit replay shows it).
    const projectId =
      kind === "project"
        ? (readModels.project(id)?.id ?? null)
        : kind === "feature"
          ? ((readModels.feature(id) ?? readModels.deletedFeature(id))?.projectId ?? null)
          : (readModels[kind](id)?.projectId ?? null);
    return projectId !== null && canSeeProject(auth, projectId);
  };
  function load<T extends object>(
    kind: "feature" | "pipeline" | "release" | "project",
    id: string,
    point: AsOfPoint,
    fold: (store: EventStore, id: string, point: AsOfPoint, options?: AsOfOptions) => Promise<T | null>,
  ): Promise<(T & AsOfTag) | null> {
    const key = `${kind}\u0000${id}\u0000${point.position ?? ""}\u0000${point.at ?? ""}`;
    let entry = folded.get(key) as Promise<(T & AsOfTag) | null> | undefined;
    if (entry === undefined && !mayFold(kind, id)) return Promise.resolve(null);
    if (entry === undefined && options.deadline !== undefined && Date.now() > options.deadline) {
      return Promise.reject(options.onOverBudget?.() ?? new Error("time budget exceeded"));
    }
    if (entry === undefined) {
      // The point is kept as given (at or position), so every entity below answers for the same one.
      const asOf: AsOfPoint = { at: point.at ?? null, position: point.position ?? null };
      // The read models' snapshots: a fold reads at most SNAPSHOT_EVERY events of the stream.
      entry = fold(store, id, asOf, { snapshots: readModels ?? null }).then((entity) =>
        entity === null ? null : { ...entity, asOf },
      );
      folded.set(key, entry);
    }
    return entry;
  }
  return {
    feature: (id, point) => load("feature", id, point, featureAsOf),
    pipeline: (id, point) => load("pipeline", id, point, pipelineAsOf),
    release: (id, point) => load("release", id, point, releaseAsOf),
    project: (id, point) => load("project", id, point, projectAsOf),
  };
}

/** The non-null values of `values`, in order. */
export const present = <T>(values: readonly (T | null)[]): T[] => values.filter((value): value is T => value !== null);

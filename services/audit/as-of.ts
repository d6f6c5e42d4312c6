// Audit replay: an entity as it was at an instant or a global position — the same upcasters and the same
// evolve that build the live state, folded over a prefix of the entity's stream.
//
// The point is exactly one of `at` (an ISO-8601 instant, compared with the events' metadata.occurredAt)
// or `position` (a global position of the store, compared with store.comparePositions); giving both or
// neither is VALIDATION (there is no implicit "now": the live queries answer that). The prefix ends at
// the first event past the point, so the result is always a state the entity really had.

import type { Decider, DomainEvent } from "../core/decider.ts";
import { isDomainError, validation } from "../core/errors.ts";
import { streams } from "../core/streams.ts";
import { UPCASTERS } from "../core/upcasters.ts";
import { upcastEvent } from "../event-store/command-handler.ts";
import type { EventStore, RecordedEvent } from "../event-store/port.ts";
import { evolveFeature, type Feature } from "../feature/feature.ts";
import { evolvePipeline, type Pipeline } from "../pipeline/pipeline.ts";
import { evolveProject, type Project } from "../project/project.ts";
import { evolve as evolveRelease, type Release } from "../release/release.ts";
import { eventTimeOf } from "./audit-event.ts";

export interface AsOfPoint {
  /** ISO-8601 instant. */
  at?: string | null;
  /** A global position of the store (e.g. an audit event's `position`). */
  position?: string | null;
}

/** A state an entity's stream had after the event at `revision` (the read models keep one every few hundred). */
export interface AsOfSnapshot {
  revision: bigint;
  state: unknown;
}

/** Where folds may start from: the latest snapshot of a stream that `accept`s (its position, latest event time). */
export interface AsOfSnapshots {
  latestSnapshot(stream: string, accept: (position: string, maxAt: number) => boolean): AsOfSnapshot | null;
}

export interface AsOfOptions {
  /** Events read per page of the stream (default 1000). */
  pageSize?: number;
  /** Snapshots to start from (the read models'); without them a fold reads the stream from its start. */
  snapshots?: AsOfSnapshots | null;
}

type Evolve<State> = Decider<State, unknown, DomainEvent>["evolve"];

interface PointTest {
  /** Is this event at or before the point. */
  (event: RecordedEvent): boolean;
  /** Is a snapshot taken at `position`, after events up to `maxAt`, at or before the point. */
  snapshot: (position: string, maxAt: number) => boolean;
}

/** Returns a predicate "is this event at or before the point", validating the point. */
function pointTest(store: EventStore, point: AsOfPoint): PointTest {
  const hasAt = point.at !== undefined && point.at !== null;
  const hasPosition = point.position !== undefined && point.position !== null;
  if (hasAt === hasPosition) {
    throw validation(
      hasAt ? "position" : "at",
      "give exactly one of `at` (an instant) or `position` (a global position)",
    );
  }
  if (hasPosition) {
    const position = point.position as string;
    try {
      store.comparePositions(position, position);
    } catch (error) {
      if (isDomainError(error)) throw validation("position", `"${position}" is not a position of this event store`);
      throw error;
    }
    const test = (event: RecordedEvent) => store.comparePositions(event.position, position) <= 0;
    // Positions grow along a stream: every event before the snapshot's is at or before it too.
    return Object.assign(test, { snapshot: (at: string) => store.comparePositions(at, position) <= 0 });
  }
  const at = Date.parse(point.at as string);
  if (typeof point.at !== "string" || Number.isNaN(at)) {
    throw validation("at", `"${String(point.at)}" is not an ISO-8601 date-time`);
  }
  // The audit log's time of an event: its occurredAt, else when the store recorded it.
  const test = (event: RecordedEvent) => eventTimeOf(event.metadata, event.recordedAt) <= at;
  // Times need not grow along a stream: a snapshot serves only if no event up to it is later than `at`.
  return Object.assign(test, { snapshot: (_position: string, maxAt: number) => maxAt <= at });
}

/** Folds `evolve` over the prefix of `stream` up to the point; null when the entity did not exist by then. */
export async function foldAsOf<State>(
  store: EventStore,
  stream: string,
  evolve: Evolve<State>,
  point: AsOfPoint,
  options: AsOfOptions = {},
): Promise<State | null> {
  const included = pointTest(store, point);
  const pageSize = options.pageSize ?? 1000;
  let state: State | null = null;
  let any = false;
  let fromRevision = 0n;
  const snapshot = options.snapshots?.latestSnapshot(stream, included.snapshot) ?? null;
  if (snapshot !== null) {
    state = snapshot.state as State;
    any = true;
    fromRevision = snapshot.revision + 1n;
  }
  for (;;) {
    const page = await store.readStream(stream, { fromRevision, maxCount: pageSize });
    for (const event of page) {
      if (!included(event)) return any ? state : null;
      state = evolve(state as State, upcastEvent(event, UPCASTERS));
      any = true;
    }
    const last = page[page.length - 1];
    if (page.length < pageSize || last === undefined) return any ? state : null;
    fromRevision = last.revision + 1n;
  }
}

/** A project as renamed and edited by then (`projectAsOf`, and Feature.project / Pipeline.project under replay). */
export const projectAsOf = (store: EventStore, id: string, point: AsOfPoint, options?: AsOfOptions) =>
  foldAsOf<Project | null>(store, streams.project(id), evolveProject as Evolve<Project | null>, point, options);

export const pipelineAsOf = (store: EventStore, id: string, point: AsOfPoint, options?: AsOfOptions) =>
  foldAsOf<Pipeline | null>(store, streams.pipeline(id), evolvePipeline as Evolve<Pipeline | null>, point, options);

/** Null before the feature was created and after it was deleted (a point before the deletion still shows it). */
export const featureAsOf = async (store: EventStore, id: string, point: AsOfPoint, options?: AsOfOptions) => {
  const feature = await foldAsOf<Feature | null>(
    store,
    streams.feature(id),
    evolveFeature as Evolve<Feature | null>,
    point,
    options,
  );
  return feature === null || feature.deletedAt !== null ? null : feature;
};

export const releaseAsOf = (store: EventStore, id: string, point: AsOfPoint, options?: AsOfOptions) =>
  foldAsOf<Release | null>(store, streams.release(id), evolveRelease as Evolve<Release | null>, point, options);

// What the audit log says about a stored event — the entity it belongs to, its project, actor and time —
// computed the same way by the main thread (the live path: `toAuditEvent`) and by the audit worker
// (indexing, from the event's metadata JSON handed over as text). Pure functions, no I/O.

import { type EntityKind, parseStream } from "../core/streams.ts";

/** The metadata fields the audit log reads (any of them may be missing or malformed in a stored event). */
export type AuditMetadata = { readonly [key: string]: unknown } | null | undefined;

/** Where an event belongs: its stream's entity kind (null: no entity) and the entity's id. */
export interface Placement {
  kind: EntityKind | null;
  entityId: string;
}

export const stringOf = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

/** A stream's placement, worked out from its name (`<kind>-<id>`). */
export function placeStream(stream: string): Placement {
  const parsed = parseStream(stream);
  return parsed === null ? { kind: null, entityId: stream } : { kind: parsed.kind, entityId: parsed.id };
}

const placementCache = new Map<string, Placement>();

/** placeStream, remembered for the streams seen lately (the live path meets the same streams again and again). */
export function placementOf(stream: string): Placement {
  let placement = placementCache.get(stream);
  if (placement === undefined) {
    placement = placeStream(stream);
    if (placementCache.size > 200_000) placementCache.clear();
    placementCache.set(stream, placement);
  }
  return placement;
}

/** The project an event belongs to: its metadata's, else its data's, else a project's own events. */
export function projectOf(metadata: AuditMetadata, dataProjectId: string | null, placement: Placement): string | null {
  return stringOf(metadata?.projectId) ?? dataProjectId ?? (placement.kind === "project" ? placement.entityId : null);
}

/** `data.projectId` of an event's data, when it is a non-empty string. */
export const dataProjectOf = (data: unknown): string | null =>
  data !== null && typeof data === "object" ? stringOf((data as Record<string, unknown>).projectId) : null;

/** `data.featureId` of an event's data (a release's ReleaseStarted names its feature). */
export const dataFeatureOf = (data: unknown): string | null =>
  data !== null && typeof data === "object" ? stringOf((data as Record<string, unknown>).featureId) : null;

export const actorOf = (metadata: AuditMetadata): string => stringOf(metadata?.actor) ?? "system";

// The events of one command share their occurredAt: the last one read is kept with its time.
let lastOccurredAt = "";
let lastOccurredMs = Number.NaN;

/** Epoch ms of an occurredAt text, NaN when it is not a time. */
const occurredMs = (text: string): number => {
  if (text === lastOccurredAt) return lastOccurredMs;
  // Date.parse, not a hand-written parser of the canonical form: on a million events the difference is
  // about 60 ms of the audit worker's time, which is idle most of a rebuild (decision 0006).
  const ms = Date.parse(text);
  lastOccurredAt = text;
  lastOccurredMs = ms;
  return ms;
};

/** The event's time: metadata.occurredAt (when it was decided), else when the store recorded it (else 0). */
export function eventTimeOf(metadata: AuditMetadata, recordedAt: string): number {
  const occurred = metadata?.occurredAt;
  if (typeof occurred === "string") {
    const ms = occurredMs(occurred);
    if (!Number.isNaN(ms)) return ms;
  }
  const ms = Date.parse(recordedAt);
  return Number.isNaN(ms) ? 0 : ms;
}

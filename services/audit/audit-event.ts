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

const digit = (text: string, at: number): number => text.charCodeAt(at) - 48;

/** `YYYY-MM-DDTHH:mm:ss.sssZ`: the character code expected at each place, 0 where a digit goes. */
const CANONICAL = new Uint8Array(24);
CANONICAL[4] = 45; // -
CANONICAL[7] = 45; // -
CANONICAL[10] = 84; // T
CANONICAL[13] = 58; // :
CANONICAL[16] = 58; // :
CANONICAL[19] = 46; // .
CANONICAL[23] = 90; // Z

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const daysInMonth = (year: number, month: number): number =>
  month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : (DAYS_IN_MONTH[month - 1] as number);

/**
 * Epoch ms of a canonical `YYYY-MM-DDTHH:mm:ss.sssZ` (what every writer here stores), without the general
 * parser; NaN for anything else (then Date.parse decides).
 */
function canonicalMs(text: string): number {
  if (text.length !== 24) return Number.NaN;
  for (let i = 0; i < 24; i++) {
    const code = text.charCodeAt(i);
    const expected = CANONICAL[i] as number;
    if (expected === 0 ? code < 48 || code > 57 : code !== expected) return Number.NaN;
  }
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
  const month = digit(text, 5) * 10 + digit(text, 6);
  const day = digit(text, 8) * 10 + digit(text, 9);
  const hours = digit(text, 11) * 10 + digit(text, 12);
  const minutes = digit(text, 14) * 10 + digit(text, 15);
  const seconds = digit(text, 17) * 10 + digit(text, 18);
  const millis = digit(text, 20) * 100 + digit(text, 21) * 10 + digit(text, 22);
  // (Date.UTC reads years 0-99 as 1900-1999: those go to the general parser.)
  if (year < 100 || month < 1 || month > 12 || day < 1 || hours > 23 || minutes > 59 || seconds > 59) return Number.NaN;
  // A date that does not exist (2026-02-30) is not canonical: the general parser decides what it means.
  if (day > daysInMonth(year, month)) return Number.NaN;
  return Date.UTC(year, month - 1, day, hours, minutes, seconds, millis);
}

// The events of one command share their occurredAt: the last one read is kept with its time.
let lastOccurredAt = "";
let lastOccurredMs = Number.NaN;

/** Epoch ms of an occurredAt text, NaN when it is not a time. */
const occurredMs = (text: string): number => {
  if (text === lastOccurredAt) return lastOccurredMs;
  let ms = canonicalMs(text);
  if (Number.isNaN(ms)) ms = Date.parse(text);
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

// Rules both adapters share so they behave the same: input validation (same VALIDATION errors), the
// expected-revision check, conflict messages and subscription filter matching.

import { DomainError, validation } from "../core/errors.ts";
import type { EventToAppend, ExpectedRevision, RecordedEvent, SubscriptionFilter } from "./port.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Stream names: non-empty, and not `$`-prefixed (EventStoreDB reserves those for system streams). */
export const assertStreamName = (stream: string): void => {
  if (typeof stream !== "string" || stream.length === 0) throw validation("stream", "must be a non-empty string");
  if (stream.startsWith("$")) throw validation("stream", `"${stream}" is reserved: stream names must not start with $`);
};

export const assertExpectedRevision = (expected: ExpectedRevision): void => {
  if (typeof expected === "bigint") {
    if (expected < 0n) throw validation("expectedRevision", `must be >= 0, got ${expected}`);
    return;
  }
  if (expected !== "no_stream" && expected !== "any" && expected !== "stream_exists") {
    throw validation("expectedRevision", `must be "no_stream", "any", "stream_exists" or a bigint revision`);
  }
};

/**
 * Checks a batch before it reaches a store: at least one event, UUID ids (EventStoreDB requires them,
 * so the embedded store does too), distinct ids, a non-empty type not starting with `$`, an object as metadata.
 */
export const assertEventsToAppend = (events: readonly EventToAppend[]): void => {
  if (!Array.isArray(events) || events.length === 0) throw validation("events", "an append needs at least one event");
  const seen = events.length > 1 ? new Set<string>() : undefined;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as EventToAppend;
    if (typeof event.id !== "string" || !UUID.test(event.id)) {
      throw validation(`events[${i}].id`, `must be a UUID, got ${JSON.stringify(event.id)}`);
    }
    if (seen !== undefined) {
      const id = event.id.toLowerCase();
      if (seen.has(id)) throw validation(`events[${i}].id`, `duplicate event id ${event.id} in one append`);
      seen.add(id);
    }
    if (typeof event.type !== "string" || event.type.length === 0 || event.type.startsWith("$")) {
      throw validation(`events[${i}].type`, "must be a non-empty string not starting with $");
    }
    if (typeof event.metadata !== "object" || event.metadata === null || Array.isArray(event.metadata)) {
      throw validation(`events[${i}].metadata`, "must be an object");
    }
  }
};

/** JSON text of a value; VALIDATION when it cannot be represented (bigint, cycles, undefined). */
export const toJson = (value: unknown, field: string): string => {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw validation(field, `must be JSON-serializable (${(error as Error).message})`);
  }
  if (text === undefined) throw validation(field, "must be JSON-serializable (got undefined or a function)");
  return text;
};

export const assertMaxCount = (maxCount: number | undefined): void => {
  if (maxCount !== undefined && (!Number.isSafeInteger(maxCount) || maxCount < 0)) {
    throw validation("maxCount", `must be a non-negative integer, got ${maxCount}`);
  }
};

export const assertFromRevision = (fromRevision: bigint | undefined): void => {
  if (fromRevision !== undefined && (typeof fromRevision !== "bigint" || fromRevision < 0n)) {
    throw validation("fromRevision", "must be a bigint >= 0");
  }
};

/** `actual` is the revision of the stream's last event, or null when the stream does not exist. */
export const expectedRevisionMatches = (expected: ExpectedRevision, actual: bigint | null): boolean => {
  switch (expected) {
    case "any":
      return true;
    case "no_stream":
      return actual === null;
    case "stream_exists":
      return actual !== null;
    default:
      return actual === expected;
  }
};

const describeExpected = (expected: ExpectedRevision): string =>
  typeof expected === "bigint" ? `revision ${expected}` : expected;

const describeActual = (actual: bigint | null): string => (actual === null ? "no_stream" : `revision ${actual}`);

/** DomainError CONFLICT naming the stream, the expected revision and the actual one. */
export const conflict = (
  stream: string,
  expected: ExpectedRevision,
  actual: bigint | null,
  detail?: string,
): DomainError =>
  new DomainError(
    "CONFLICT",
    `Append to stream "${stream}" rejected: expected ${describeExpected(expected)}, actual ${describeActual(actual)}${
      detail === undefined ? "" : ` (${detail})`
    }`,
  );

/** A compiled subscription filter: stream prefixes OR-ed, event types OR-ed, the two AND-ed. Empty lists do not filter. */
export const compileFilter = (filter: SubscriptionFilter | undefined): ((stream: string, type: string) => boolean) => {
  const prefixes = filter?.streamPrefixes ?? [];
  const types = new Set(filter?.eventTypes ?? []);
  if (prefixes.length === 0 && types.size === 0) return () => true;
  return (stream, type) => {
    if (types.size > 0 && !types.has(type)) return false;
    if (prefixes.length === 0) return true;
    for (const prefix of prefixes) if (stream.startsWith(prefix)) return true;
    return false;
  };
};

export const matchesFilter = (
  match: (stream: string, type: string) => boolean,
  event: Pick<RecordedEvent, "stream" | "type">,
): boolean => match(event.stream, event.type);

/** Reports an error nobody asked to hear about without crashing the process. */
export const reportUnhandled = (error: unknown, context: string): void => {
  const err = error instanceof Error ? error : new Error(String(error));
  process.emitWarning(`${context}: ${err.message}`, { code: "EVENT_STORE_SUBSCRIPTION", detail: err.stack });
};

export const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

// EventStoreDB adapter (production): the port maps almost one to one onto @eventstore/db-client.
// Positions are `C<commit>/P<prepare>` with both numbers zero-padded to 20 digits, so string order is log order.
// System events (`$`-prefixed streams or types) never leave this adapter.
// Needs EventStoreDB 23.10 or later: stream reads carry $all positions only from 22.6 on, and a catch-up
// subscription is told it is live (`caughtUp`, which `onCaughtUp` waits for) only from 23.10 on.

import { AsyncLocalStorage } from "node:async_hooks";
import {
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  ANY,
  type AppendExpectedRevision,
  type AppendToStreamOptions,
  BACKWARDS,
  END,
  type AppendResult as EsdbAppendResult,
  type ReadAllOptions as EsdbReadAllOptions,
  type ReadStreamOptions as EsdbReadStreamOptions,
  type RecordedEvent as EsdbRecordedEvent,
  type EventData,
  eventTypeFilter,
  excludeSystemEvents,
  type Filter,
  FORWARDS,
  type JSONType,
  jsonEvent,
  MaxAppendSizeExceededError,
  NO_STREAM,
  type Position,
  type ReadPosition,
  type ResolvedEvent,
  START,
  STREAM_EXISTS,
  type StreamingRead,
  StreamNotFoundError,
  type SubscribeToAllOptions,
  streamNameFilter,
  WrongExpectedVersionError,
} from "@eventstore/db-client";
import { validation } from "../../core/errors.ts";
import { EVENT_SCHEMA_VERSION } from "../../core/upcasters.ts";
import type {
  AppendResult,
  EventMetadata,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from "../port.ts";
import {
  asError,
  assertEventsToAppend,
  assertExpectedRevision,
  assertFromRevision,
  assertMaxCount,
  assertStreamName,
  compileFilter,
  conflict,
  reportUnhandled,
  toJson,
} from "../shared.ts";
import { clientFromConnectionString, normalizeConnectionString } from "./connection-string.ts";

/** The part of `EventStoreDBClient` this adapter uses: tests hand in a fake (esdb/testing/fake-esdb-client.ts). */
export interface EsdbClient {
  appendToStream(
    streamName: string,
    events: EventData | EventData[],
    options?: AppendToStreamOptions,
  ): Promise<EsdbAppendResult>;
  readStream(streamName: string, options?: EsdbReadStreamOptions): StreamingRead<ResolvedEvent>;
  readAll(options?: EsdbReadAllOptions): StreamingRead<AllStreamResolvedEvent>;
  subscribeToAll(options?: SubscribeToAllOptions): AllStreamSubscription;
  dispose(): Promise<void>;
}

export interface EsdbEventStoreOptions {
  /** `esdb://…` / `esdb+discover://…` (or `kurrentdb…`) connection string (ignored when `client` is given); see connection-string.ts. */
  connectionString?: string;
  /** A client to use instead of connecting with `connectionString`; the store disposes it on close. */
  client?: EsdbClient;
  /**
   * Makes the client for `connectionString` (already normalised: kurrentdb:// → esdb://). Default: the
   * real client (connection-string.ts). Tests check the string with the real parser, then serve a fake.
   */
  createClient?: (connectionString: string) => EsdbClient;
  /** First delay before resubscribing after a dropped subscription (ms, default 250, doubling up to 10 s). */
  resubscribeDelayMs?: number;
  /** Consecutive failed resubscriptions (without any event delivered in between) before giving up (default 20). */
  maxResubscribeAttempts?: number;
}

const PAGE_SIZE = 512;
const POSITION = /^C(\d{1,20})\/P(\d{1,20})$/;

const pad = (value: bigint): string => value.toString().padStart(20, "0");

export const formatEsdbPosition = (position: Position): string => `C${pad(position.commit)}/P${pad(position.prepare)}`;

export const parseEsdbPosition = (position: string, field = "position"): Position => {
  const match = typeof position === "string" ? POSITION.exec(position) : null;
  if (match === null)
    throw validation(field, `"${String(position)}" is not an EventStoreDB position (C<commit>/P<prepare>)`);
  return { commit: BigInt(match[1] as string), prepare: BigInt(match[2] as string) };
};

const comparePositionValues = (a: Position, b: Position): number => {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
};

const toEsdbExpected = (expected: ExpectedRevision): AppendExpectedRevision => {
  switch (expected) {
    case "no_stream":
      return NO_STREAM;
    case "any":
      return ANY;
    case "stream_exists":
      return STREAM_EXISTS;
    default:
      return expected;
  }
};

const isSystemEvent = (event: { streamId: string; type: string }): boolean =>
  event.streamId.startsWith("$") || event.type.startsWith("$");

const decodeJson = (value: unknown): unknown => {
  if (value instanceof Uint8Array) {
    const text = Buffer.from(value).toString("utf8");
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return value;
};

const toMetadata = (value: unknown): EventMetadata => {
  const decoded = decodeJson(value);
  if (typeof decoded === "object" && decoded !== null && !Array.isArray(decoded)) return decoded as EventMetadata;
  // Written by someone else without our metadata: keep what we can, never invent an actor.
  return {
    actor: "unknown",
    occurredAt: "",
    correlationId: "",
    causationId: null,
    schemaVersion: EVENT_SCHEMA_VERSION,
    projectId: null,
  };
};

const toRecorded = (event: EsdbRecordedEvent, fallbackCommit?: bigint): RecordedEvent => {
  const position =
    event.position ?? (fallbackCommit === undefined ? undefined : { commit: fallbackCommit, prepare: fallbackCommit });
  if (position === undefined) {
    throw new Error("EventStoreDB did not return event positions: server 22.6 or later is required");
  }
  return {
    id: event.id,
    stream: event.streamId,
    revision: event.revision,
    position: formatEsdbPosition(position),
    type: event.type,
    data: decodeJson(event.data),
    metadata: toMetadata(event.metadata),
    recordedAt: event.created.toISOString(),
  };
};

const delivering = new AsyncLocalStorage<EsdbSubscription>();

/** Thrown through the read loop when the caller's handler fails: that is not a connection problem to retry. */
class HandlerFailed extends Error {
  readonly original: Error;
  constructor(original: Error) {
    super(original.message);
    this.original = original;
  }
}

class EsdbSubscription implements Subscription {
  readonly #client: EsdbClient;
  readonly #options: SubscribeOptions;
  readonly #settings: Required<Pick<EsdbEventStoreOptions, "resubscribeDelayMs" | "maxResubscribeAttempts">>;
  readonly #match: (stream: string, type: string) => boolean;
  readonly #serverFilter: Filter;
  #last: Position | undefined;
  #closed = false;
  #current: AllStreamSubscription | undefined;
  #cancelDelay: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(
    client: EsdbClient,
    options: SubscribeOptions,
    settings: Required<Pick<EsdbEventStoreOptions, "resubscribeDelayMs" | "maxResubscribeAttempts">>,
  ) {
    this.#client = client;
    this.#options = options;
    this.#settings = settings;
    this.#match = compileFilter(options.filter);
    this.#last = options.after === undefined ? undefined : parseEsdbPosition(options.after, "after");
    const prefixes = options.filter?.streamPrefixes ?? [];
    const types = options.filter?.eventTypes ?? [];
    // The server applies one filter; the other (and exact type equality) is checked here.
    this.#serverFilter =
      prefixes.length > 0
        ? streamNameFilter({ prefixes })
        : types.length > 0
          ? eventTypeFilter({ prefixes: types })
          : excludeSystemEvents();
    this.done = this.#run();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelDelay?.();
    const current = this.#current;
    if (current !== undefined) {
      await current.unsubscribe().catch(() => undefined);
      current.destroy();
    }
    if (delivering.getStore() === this) return;
    await this.done;
  }

  async #run(): Promise<void> {
    await Promise.resolve();
    let caughtUpSignalled = false;
    let failures = 0;
    let delay = this.#settings.resubscribeDelayMs;
    while (!this.#closed) {
      const subscription = this.#client.subscribeToAll({
        fromPosition: this.#last ?? START,
        filter: this.#serverFilter,
      });
      this.#current = subscription;
      let consumed = 0;
      let inFlight = false;
      let caughtUpAt: number | undefined;
      const signalCaughtUp = (): void => {
        if (caughtUpSignalled || this.#closed) return;
        caughtUpSignalled = true;
        this.#options.onCaughtUp?.();
      };
      // The client emits `caughtUp` when the server's message passes through its transform, while
      // events before it may still sit in the readable buffer: signal once those are delivered.
      subscription.on("caughtUp", () => {
        caughtUpAt = consumed + subscription.readableLength;
        if (!inFlight && caughtUpAt <= consumed) signalCaughtUp();
      });
      try {
        for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
          if (this.#closed) break;
          inFlight = true;
          consumed++;
          const event: AllStreamRecordedEvent | undefined = resolved.event;
          if (
            event !== undefined &&
            (this.#last === undefined || comparePositionValues(event.position, this.#last) > 0)
          ) {
            this.#last = event.position;
            if (!isSystemEvent(event) && this.#match(event.streamId, event.type)) {
              const recorded = toRecorded(event);
              try {
                await delivering.run(this, () => this.#options.onEvent(recorded));
              } catch (error) {
                throw new HandlerFailed(asError(error));
              }
            }
            failures = 0;
            delay = this.#settings.resubscribeDelayMs;
          }
          inFlight = false;
          if (caughtUpAt !== undefined && consumed >= caughtUpAt) signalCaughtUp();
        }
      } catch (error) {
        if (this.#closed) break;
        if (error instanceof HandlerFailed) {
          this.#fail(error.original);
          break;
        }
        failures++;
        if (failures > this.#settings.maxResubscribeAttempts) {
          this.#fail(asError(error));
          break;
        }
      } finally {
        await subscription.unsubscribe().catch(() => undefined);
        subscription.destroy();
      }
      if (this.#closed) break;
      // Dropped (error or server-side end): resubscribe from the last position seen.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#cancelDelay = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#cancelDelay = undefined;
      delay = Math.min(delay * 2, 10_000);
    }
    this.#closed = true;
  }

  #fail(error: Error): void {
    this.#closed = true;
    if (this.#options.onError) this.#options.onError(error);
    else reportUnhandled(error, "EventStoreDB subscription stopped");
  }
}

export class EsdbEventStore implements EventStore {
  readonly #client: EsdbClient;
  readonly #settings: Required<Pick<EsdbEventStoreOptions, "resubscribeDelayMs" | "maxResubscribeAttempts">>;
  readonly #subscriptions = new Set<EsdbSubscription>();
  #closed = false;

  constructor(options: EsdbEventStoreOptions) {
    if (options.client !== undefined) this.#client = options.client;
    else if (typeof options.connectionString === "string" && options.connectionString.trim() !== "") {
      const connectionString = normalizeConnectionString(options.connectionString);
      this.#client = (options.createClient ?? clientFromConnectionString)(connectionString);
    } else throw validation("connectionString", "an EventStoreDB connection string (or a client) is required");
    this.#settings = {
      resubscribeDelayMs: options.resubscribeDelayMs ?? 250,
      maxResubscribeAttempts: options.maxResubscribeAttempts ?? 20,
    };
  }

  /** The client would quietly reconnect after `dispose()`: refuse instead, like the embedded store. */
  #assertOpen(): void {
    if (this.#closed) throw new Error("event store is closed");
  }

  async append(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    this.#assertOpen();
    assertStreamName(stream);
    assertExpectedRevision(expected);
    assertEventsToAppend(events);
    const payload = events.map((event, i) => {
      // Same serialisability rule as the embedded store (the client would JSON.stringify anyway).
      toJson(event.data ?? null, `events[${i}].data`);
      toJson(event.metadata, `events[${i}].metadata`);
      return jsonEvent({
        id: event.id.toLowerCase(),
        type: event.type,
        data: (event.data ?? null) as JSONType,
        metadata: event.metadata,
      });
    });
    try {
      const result = await this.#client.appendToStream(stream, payload, { expectedRevision: toEsdbExpected(expected) });
      const position =
        result.position !== undefined
          ? formatEsdbPosition(result.position)
          : await this.#positionOf(stream, result.nextExpectedRevision);
      return { nextExpectedRevision: result.nextExpectedRevision, position };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion === NO_STREAM ? null : error.actualVersion;
        throw conflict(stream, expected, typeof actual === "bigint" ? actual : null);
      }
      if (error instanceof MaxAppendSizeExceededError) {
        throw validation("events", `the append is larger than the server accepts (${error.maxAppendSize} bytes)`);
      }
      throw error;
    }
  }

  /** An idempotent append may come back without a position: look the event up. */
  async #positionOf(stream: string, revision: bigint): Promise<string> {
    const [event] = await this.readStream(stream, { fromRevision: revision, maxCount: 1 });
    if (event === undefined) throw new Error(`event ${revision} of stream "${stream}" not found after append`);
    return event.position;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.#assertOpen();
    assertStreamName(stream);
    assertFromRevision(options.fromRevision);
    assertMaxCount(options.maxCount);
    if (options.maxCount === 0) return [];
    const backwards = options.direction === "backwards";
    const out: RecordedEvent[] = [];
    try {
      const read = this.#client.readStream(stream, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision ?? (backwards ? END : START),
        ...(options.maxCount === undefined ? {} : { maxCount: options.maxCount }),
      });
      for await (const resolved of read) {
        if (resolved.event !== undefined) out.push(toRecorded(resolved.event, resolved.commitPosition));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.#assertOpen();
    assertMaxCount(options.maxCount);
    const limit = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (limit === 0) return [];
    const backwards = options.direction === "backwards";
    let boundary = options.after === undefined ? undefined : parseEsdbPosition(options.after, "after");
    let from: ReadPosition = boundary ?? (backwards ? END : START);
    const out: RecordedEvent[] = [];
    // Pages of $all; system events are skipped, so maxCount counts only ours. `boundary` makes every page
    // exclusive of what was already seen, whatever the server's inclusivity at `from`.
    for (;;) {
      let read = 0;
      let lastSeen: Position | undefined;
      for await (const resolved of this.#client.readAll({
        fromPosition: from,
        direction: backwards ? BACKWARDS : FORWARDS,
        maxCount: PAGE_SIZE,
      })) {
        read++;
        const event = resolved.event;
        if (event === undefined) continue;
        lastSeen = event.position;
        if (boundary !== undefined) {
          const order = comparePositionValues(event.position, boundary);
          if (backwards ? order >= 0 : order <= 0) continue;
        }
        if (isSystemEvent(event)) continue;
        out.push(toRecorded(event));
        if (out.length >= limit) return out;
      }
      if (read < PAGE_SIZE || lastSeen === undefined) return out;
      boundary = lastSeen;
      from = lastSeen;
    }
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    this.#assertOpen();
    if (typeof options.onEvent !== "function") throw validation("onEvent", "must be a function");
    const subscription = new EsdbSubscription(this.#client, options, this.#settings);
    this.#subscriptions.add(subscription);
    void subscription.done.finally(() => this.#subscriptions.delete(subscription));
    return subscription;
  }

  comparePositions(a: string, b: string): number {
    return comparePositionValues(parseEsdbPosition(a), parseEsdbPosition(b));
  }

  async headPosition(): Promise<string | null> {
    const [last] = await this.readAll({ direction: "backwards", maxCount: 1 });
    return last?.position ?? null;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    for await (const _ of this.#client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) {
      // Reading one record proves the connection and the credentials.
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    this.#closed = true;
    await this.#client.dispose();
  }
}

export const createEsdbEventStore = (options: EsdbEventStoreOptions): EsdbEventStore => new EsdbEventStore(options);

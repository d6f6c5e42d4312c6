// The event store port: EventStoreDB's semantics, implemented by the embedded (node:sqlite) adapter
// and the EventStoreDB adapter. Everything above this file speaks only this interface.

/** What a writer hands to `append`. The writer chooses `id`, so a retried append is a no-op. */
export interface EventToAppend {
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

/** Carried by every event. */
export interface EventMetadata {
  /** Token name of the person, or "system" for automatic transitions. */
  actor: string;
  /** ISO-8601 UTC instant at which the command was decided (time is an input, never read in the domain). */
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  schemaVersion: number;
  /** The project the event belongs to (tokens without a project: null). */
  projectId: string | null;
  /** Anything else an adapter or a writer wants to keep (e.g. a signal's source). */
  [key: string]: unknown;
}

export interface RecordedEvent {
  id: string;
  stream: string;
  /** 0-based position of the event within its stream. */
  revision: bigint;
  /**
   * Global, totally ordered position in the store, as a string: positions of one store compare with
   * `store.comparePositions`. The embedded store uses zero-padded decimals; EventStoreDB `C<commit>/P<prepare>`.
   */
  position: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  /** When the store recorded it (ISO-8601). */
  recordedAt: string;
}

/**
 * A recorded event whose metadata is still the JSON text it was stored as: what `readAllStored` returns,
 * for a projection that rebuilds from the whole log and does not need every event's metadata parsed on
 * its own thread (it parses `metadataJson` when it does, or hands it to another thread).
 */
export interface StoredEvent extends Omit<RecordedEvent, "metadata"> {
  metadataJson: string;
}

/** Expected state of the stream for an append: EventStoreDB's `no_stream`, `any`, or an exact revision. */
export type ExpectedRevision = "no_stream" | "any" | "stream_exists" | bigint;

export interface AppendResult {
  /** Revision of the last event of the stream after the append. */
  nextExpectedRevision: bigint;
  /** Position of the last appended event. */
  position: string;
}

export interface ReadStreamOptions {
  direction?: "forwards" | "backwards";
  /** Inclusive revision to start from (forwards: default 0; backwards: default end). */
  fromRevision?: bigint;
  maxCount?: number;
}

export interface ReadAllOptions {
  direction?: "forwards" | "backwards";
  /** Exclusive: events strictly after (forwards) or before (backwards) this position. Default: the start (or end). */
  after?: string;
  maxCount?: number;
}

export interface SubscriptionFilter {
  streamPrefixes?: string[];
  eventTypes?: string[];
}

export interface SubscribeOptions {
  /** Exclusive: deliver events strictly after this position; omitted = from the very start. */
  after?: string;
  filter?: SubscriptionFilter;
  /** Called for each event in global order: first history, then live, no gap and no duplicate. */
  onEvent: (event: RecordedEvent) => void | Promise<void>;
  /** Called once when history is delivered and the subscription is live. */
  onCaughtUp?: () => void;
  /** Called if the subscription stops with an error it could not recover from. */
  onError?: (error: Error) => void;
}

export interface Subscription {
  /** Stops delivery; resolves once no more events will be delivered. */
  close(): Promise<void>;
}

export interface EventStore {
  /**
   * Appends events atomically to one stream. Throws DomainError CONFLICT when `expected` does not
   * match. An append whose event ids are all already stored at the end of the stream (a retry) is a
   * no-op that returns the original result.
   */
  append(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult>;
  /** Reads one stream. A stream that does not exist yields an empty list. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Reads the global log. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Optional (the embedded store has it): `readAll` forwards, each event with its metadata left as JSON
   * text. Same events, order and positions as `readAll({ after, maxCount })`.
   */
  readAllStored?(options?: { after?: string; maxCount?: number }): Promise<StoredEvent[]>;
  /** Catch-up subscription to all: history from `after`, then live. */
  subscribeToAll(options: SubscribeOptions): Subscription;
  /** Negative, zero or positive like a sort comparator. */
  comparePositions(a: string, b: string): number;
  /** Position of the last event in the store, or null when empty. */
  headPosition(): Promise<string | null>;
  /** Reachability check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

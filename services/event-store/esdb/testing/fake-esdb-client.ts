// An in-memory EventStoreDB node and a client for it, shaped like the subset of `EventStoreDBClient`
// (@eventstore/db-client v6) that the adapter uses, so the adapter's real code path runs in CI.
//
// What it copies from the server (EventStoreDB 23.10+, gRPC):
// - One transaction log with byte-offset positions. Every appended event is a committed prepare, so its
//   $all position has commit === prepare === its log position; positions grow by the record's size and
//   jump to the next 256 MiB chunk when a record does not fit. An append answers the last event's position.
// - The write check of IndexWriter.CheckCommit: exact revision / no_stream idempotency checked against the
//   stream itself (the whole batch must already sit right after `expected`, else WrongExpectedVersion,
//   including a batch that matches only partly), any / stream_exists idempotency checked against a bounded
//   cache of recently committed ids (best effort: lost on restart), stream_exists failing on a missing
//   stream. Event ids are not unique store-wide: an id already stored is written again when the check
//   passes. An idempotent append answers the last event of the original write and its position.
// - Reads: a missing stream fails with StreamNotFoundError while iterating; $all forwards from a position is
//   inclusive, backwards exclusive; a position that is not a record boundary fails; $all holds system
//   events ($-streams, $-types, `$>` links of the standard projections, `Result` events of a projection).
// - Catch-up subscriptions to $all: strictly after `fromPosition`, server-side stream-name / event-type
//   prefix or regex filters, a confirmation, `caughtUp` once the history is sent (`fellBehind` then
//   `caughtUp` again when the reader lags too far behind live), checkpoints for filtered subscriptions.
// What it copies from the client: each read is a Transform fed by a "gRPC" stream through `pipe`, messages
// are converted in `_transform` exactly like the client does (so `caughtUp` is emitted while earlier
// events may still wait in the readable buffer), a server error is *emitted* (not destroyed) so buffered
// events are still iterated before the error is thrown, `unsubscribe` cancels on the next macrotask and
// ends the iteration without an error, JSON data/metadata go through JSON text and back.
// Faults can be injected: failed or lost-response appends, failing reads, subscriptions that error or end.

import { randomUUID } from "node:crypto";
import { PassThrough, Transform, type TransformCallback } from "node:stream";
import {
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  ANY,
  type AppendExpectedRevision,
  type AppendResult,
  type AppendToStreamOptions,
  BACKWARDS,
  END,
  type EventData,
  type Filter,
  type JSONType,
  MaxAppendSizeExceededError,
  type MetadataType,
  NO_STREAM,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ResolvedEvent,
  START,
  STREAM_EXISTS,
  STREAM_NAME,
  type StreamingRead,
  StreamNotFoundError,
  type SubscribeToAllOptions,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from "@eventstore/db-client";

export interface FakeEsdbServerOptions {
  /** Log position the store starts at (default 0). Use a huge value to exercise bigints past 2^53. */
  firstPosition?: bigint;
  /** Chunk size of the transaction log (default 256 MiB): a record that does not fit moves to the next chunk. */
  chunkSize?: bigint;
  /**
   * Run the standard projections (default false): every user event is followed by `$>` link events in
   * `$ce-<category>` and `$et-<type>`, and a user projection writes a `Result` event to `$projections-tally-result`.
   */
  projections?: boolean;
  /** Send `caughtUp` / `fellBehind` to subscriptions (default true; servers before 23.10 never do). */
  caughtUpMessages?: boolean;
  /** Return $all positions on stream reads (default true; servers before 22.6 do not). */
  positionsOnStreamReads?: boolean;
  /** Return the position of an idempotent append (default true; older servers answer without one). */
  idempotentPositions?: boolean;
  /** Ids remembered for `any` / `stream_exists` idempotency (default unbounded). */
  idempotencyCacheSize?: number;
  /** Largest append in bytes of data + metadata (default 1 MiB, the server's default). */
  maxAppendSize?: number;
  /** How far (in records) a live subscription may lag behind the head before it falls behind (default 64). */
  liveBufferSize?: number;
  /** Server clock (default `new Date()`). */
  now?: () => Date;
}

interface StoredRecord {
  readonly streamId: string;
  readonly revision: bigint;
  readonly id: string;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  readonly created: Date;
  /** Log position (commit and prepare of a committed prepare). */
  readonly position: bigint;
}

interface ProposedEvent {
  id: string;
  type: string;
  isJson: boolean;
  data: Uint8Array;
  metadata: Uint8Array;
}

type ServerMessage =
  | { kind: "confirmation"; id: string }
  | { kind: "event"; record: StoredRecord }
  | { kind: "caughtUp" }
  | { kind: "fellBehind" }
  | { kind: "checkpoint"; position: Position };

/** Where an injected append fault strikes: before the write (nothing stored) or after it (the reply is lost). */
export type AppendFaultTiming = "before" | "after";

interface AppendFault {
  error: Error;
  when: AppendFaultTiming;
  stream: string | undefined;
}

interface SubscriptionFault {
  afterEvents: number;
  error: Error | undefined;
  counts: WeakMap<ServerCall, number>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
/** Bytes of a prepare record besides its variable parts (an approximation of the V2 log format). */
const RECORD_OVERHEAD = 96n;
/** The epoch record at the head of a new database. */
const EPOCH_RECORD_SIZE = 128n;
const DEFAULT_CHUNK_SIZE = 256n * 1024n * 1024n;
const MAX_SEARCH_WINDOW = 32;

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const toBigInt = (value: number | bigint | undefined, fallback: bigint): bigint =>
  value === undefined ? fallback : typeof value === "bigint" ? value : BigInt(Math.trunc(value));

const comparePositions = (a: Position, b: Position): number =>
  a.commit === b.commit ? (a.prepare === b.prepare ? 0 : a.prepare < b.prepare ? -1 : 1) : a.commit < b.commit ? -1 : 1;

const at = (position: bigint): Position => ({ commit: position, prepare: position });

const matchesFilter = (filter: Filter | undefined, record: StoredRecord): boolean => {
  if (filter === undefined) return true;
  const subject = filter.filterOn === STREAM_NAME ? record.streamId : record.type;
  if ("prefixes" in filter) return filter.prefixes.some((prefix) => subject.startsWith(prefix));
  return new RegExp(filter.regex).test(subject);
};

/** One server-side read or subscription: the "gRPC" stream it writes to, and its cancellation. */
class ServerCall {
  readonly source = new PassThrough({ objectMode: true });
  #cancelled = false;
  readonly #onCancel = new Set<() => void>();

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Stops the call: the stream ends after what it already holds (a client cancellation is not an error). */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    for (const wake of [...this.#onCancel]) wake();
    this.#onCancel.clear();
    this.source.end();
  }

  /** Runs `listener` once when the call is cancelled (at once if it already is). */
  onCancel(listener: () => void): void {
    if (this.#cancelled) listener();
    else this.#onCancel.add(listener);
  }

  /** Fails the call: the error reaches the client, then the stream ends. */
  fail(error: Error): void {
    if (this.#cancelled) return;
    this.source.emit("error", error);
    this.cancel();
  }

  /** Resolves when `promise` settles or the call is cancelled. */
  async until(promise: Promise<void>, cancel: () => void): Promise<void> {
    if (this.#cancelled) {
      cancel();
      return;
    }
    let stopped = (): void => undefined;
    const stop = new Promise<void>((resolve) => {
      stopped = resolve;
      this.#onCancel.add(resolve);
    });
    await Promise.race([promise, stop]);
    this.#onCancel.delete(stopped);
    cancel();
  }

  /** Writes one message, waiting while the client is not reading (backpressure). */
  async send(message: ServerMessage): Promise<void> {
    if (this.#cancelled) return;
    if (this.source.write(message)) return;
    let done = (): void => undefined;
    const drained = new Promise<void>((resolve) => {
      done = resolve;
      this.source.once("drain", resolve);
    });
    await this.until(drained, () => {
      this.source.off("drain", done);
    });
  }
}

/** The client half of a read, as in the real client: a Transform fed through `pipe`, errors re-emitted. */
class PipedCall<E> extends Transform {
  readonly #call: ServerCall;
  readonly #convert: (record: StoredRecord) => E;
  readonly #checkpointReached: ((position: Position) => Promise<void> | void) | undefined;
  id?: string;

  constructor(
    call: ServerCall,
    convert: (record: StoredRecord) => E,
    checkpointReached?: (position: Position) => Promise<void> | void,
  ) {
    super({ objectMode: true });
    this.#call = call;
    this.#convert = convert;
    this.#checkpointReached = checkpointReached;
    call.source.on("error", (error: Error) => this.emit("error", error)).pipe(this);
  }

  override async _transform(message: ServerMessage, _encoding: string, next: TransformCallback): Promise<void> {
    switch (message.kind) {
      case "confirmation":
        this.id = message.id;
        this.emit("confirmation");
        return next();
      case "caughtUp":
        this.emit("caughtUp");
        return next();
      case "fellBehind":
        this.emit("fellBehind");
        return next();
      case "checkpoint":
        if (this.#checkpointReached !== undefined) await this.#checkpointReached(message.position);
        return next();
      case "event":
        return next(null, this.#convert(message.record));
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // The real client leaves the gRPC call open until unsubscribe/cancel; the fake stops it so tests do not leak.
    this.#call.cancel();
    callback(error);
  }

  /** `unsubscribe` / `cancel`: the client cancels the gRPC call on the next macrotask. */
  async stop(): Promise<void> {
    await macrotask();
    this.#call.cancel();
  }
}

class FakeStreamingRead<E> extends PipedCall<E> implements StreamingRead<E> {
  cancel(): Promise<void> {
    return this.stop();
  }
}

class FakeAllStreamSubscription extends PipedCall<AllStreamResolvedEvent> implements AllStreamSubscription {
  unsubscribe(): Promise<void> {
    return this.stop();
  }
}

/** The shared data of one EventStoreDB node. Clients connect to it with `connect()`. */
export class FakeEsdbServer {
  readonly #options: Required<Omit<FakeEsdbServerOptions, "firstPosition">>;
  readonly #log: StoredRecord[] = [];
  readonly #streams = new Map<string, StoredRecord[]>();
  /** Recently committed ids (IndexWriter's `_committedEvents`), in insertion order for eviction. */
  readonly #committedIds = new Map<string, { streamId: string; revision: bigint }>();
  readonly #growth = new Set<() => void>();
  readonly #appendFaults: AppendFault[] = [];
  readonly #readFaults: Error[] = [];
  #subscriptionFault: SubscriptionFault | undefined;
  readonly #subscriptions = new Set<ServerCall>();
  #writer: bigint;
  #queue: Promise<unknown> = Promise.resolve();
  #subscriptionIds = 0;
  /** Calls of subscribeToAll received, for tests. */
  subscriptionsOpened = 0;
  /** Calls of appendToStream received, for tests. */
  appendCalls = 0;

  constructor(options: FakeEsdbServerOptions = {}) {
    this.#options = {
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      projections: options.projections ?? false,
      caughtUpMessages: options.caughtUpMessages ?? true,
      positionsOnStreamReads: options.positionsOnStreamReads ?? true,
      idempotentPositions: options.idempotentPositions ?? true,
      idempotencyCacheSize: options.idempotencyCacheSize ?? Number.POSITIVE_INFINITY,
      maxAppendSize: options.maxAppendSize ?? 1024 * 1024,
      liveBufferSize: options.liveBufferSize ?? 64,
      now: options.now ?? (() => new Date()),
    };
    this.#writer = (options.firstPosition ?? 0n) + EPOCH_RECORD_SIZE;
    // What a new node writes before anyone else: users and the projections subsystem.
    this.#writeSystem("$users", "$User", { loginName: "admin" });
    this.#writeSystem("$user-admin", "$UserCreated", { loginName: "admin", fullName: "Event Store Administrator" });
    this.#writeSystem("$projections-$all", "$ProjectionsInitialized", {});
  }

  /** A new client connected to this node. */
  connect(): FakeEventStoreDBClient {
    return new FakeEventStoreDBClient(this);
  }

  /** Every record of $all (user and system), in log order. */
  get records(): readonly AllStreamRecordedEvent[] {
    return this.#log.map((record) => toRecorded(record, true) as AllStreamRecordedEvent);
  }

  /** Position after the last record (the writer checkpoint). */
  get writerPosition(): bigint {
    return this.#writer;
  }

  /** Subscriptions the server is still serving. */
  get activeSubscriptions(): number {
    return this.#subscriptions.size;
  }

  /** The next append (to `stream`, or to any stream) fails with `error`, before writing or after (reply lost). */
  failNextAppend(error: Error, options: { when?: AppendFaultTiming; stream?: string } = {}): void {
    this.#appendFaults.push({ error, when: options.when ?? "before", stream: options.stream });
  }

  /** The next readStream / readAll fails with `error` while iterating, before any event. */
  failNextRead(error: Error): void {
    this.#readFaults.push(error);
  }

  /**
   * The first subscription to send `afterEvents` more events fails with `error` right after that event
   * (or, without an error, the server ends it as on a graceful shutdown). One shot.
   */
  failSubscriptionAfter(afterEvents: number, error?: Error): void {
    this.#subscriptionFault = { afterEvents, error, counts: new WeakMap() };
  }

  /** Every open subscription fails now (connection lost), or ends without an error. */
  dropSubscriptions(error?: Error): void {
    for (const call of [...this.#subscriptions]) {
      if (error === undefined) call.cancel();
      else call.fail(error);
    }
  }

  /** A node restart: subscriptions drop, the idempotency cache of recent ids is gone, the log stays. */
  restart(): void {
    this.dropSubscriptions(new UnavailableError(undefined, "Connection dropped: the server restarted"));
    this.#committedIds.clear();
  }

  // ---- writes -------------------------------------------------------------------------------------------

  async append(
    streamName: string,
    events: readonly EventData[],
    expected: AppendExpectedRevision,
  ): Promise<AppendResult> {
    this.appendCalls++;
    const proposed = events.map(toProposed);
    // Requests are handled one at a time in arrival order, like the single writer thread of a node.
    const result = this.#queue.then(async () => {
      await macrotask();
      const fault = this.#takeAppendFault(streamName);
      if (fault?.when === "before") throw fault.error;
      const outcome = this.#write(streamName, proposed, expected);
      if (fault?.when === "after") throw fault.error;
      return outcome;
    });
    this.#queue = result.catch(() => undefined);
    const outcome = await result;
    await macrotask();
    return outcome;
  }

  #takeAppendFault(stream: string): AppendFault | undefined {
    const index = this.#appendFaults.findIndex((fault) => fault.stream === undefined || fault.stream === stream);
    if (index < 0) return undefined;
    return this.#appendFaults.splice(index, 1)[0];
  }

  #lastRevision(streamId: string): bigint {
    const stream = this.#streams.get(streamId);
    return stream === undefined ? -1n : BigInt(stream.length - 1);
  }

  #write(streamName: string, events: readonly ProposedEvent[], expected: AppendExpectedRevision): AppendResult {
    if (streamName.length === 0) throw new UnknownError(undefined, "Stream name must not be empty");
    const size = events.reduce((sum, event) => sum + event.data.length + event.metadata.length, 0);
    if (size > this.#options.maxAppendSize)
      throw MaxAppendSizeExceededError.fromMaxAppendSize(this.#options.maxAppendSize);

    const current = this.#lastRevision(streamName);
    const check = this.#checkCommit(streamName, expected, events, current);
    if (check.decision === "wrong-expected-version") {
      throw new WrongExpectedVersionError(undefined, {
        streamName,
        expected,
        current: current < 0n ? NO_STREAM : current,
      });
    }
    if (check.decision === "idempotent") {
      const last = this.#streams.get(streamName)?.[Number(check.end)];
      return {
        success: true,
        nextExpectedRevision: check.end,
        position: this.#options.idempotentPositions && last !== undefined ? at(last.position) : undefined,
      };
    }
    if (events.length === 0) return { success: true, nextExpectedRevision: current, position: undefined };
    let last: StoredRecord | undefined;
    for (const event of events) last = this.#writeRecord(streamName, event);
    if (this.#options.projections) for (const event of events) this.#project(streamName, event);
    this.#grew();
    const written = last as StoredRecord;
    return { success: true, nextExpectedRevision: written.revision, position: at(written.position) };
  }

  /** IndexWriter.CheckCommit, for one stream without deletes or metadata. */
  #checkCommit(
    streamId: string,
    expected: AppendExpectedRevision,
    events: readonly ProposedEvent[],
    current: bigint,
  ):
    | { decision: "ok" }
    | { decision: "wrong-expected-version" }
    | { decision: "idempotent"; start: bigint; end: bigint } {
    if (expected === STREAM_EXISTS && current < 0n) return { decision: "wrong-expected-version" };
    if (expected === ANY || expected === STREAM_EXISTS) {
      // Best effort: only ids still in the cache of recently committed events count.
      let start = -1n;
      let end = -1n;
      for (let i = 0; i < events.length; i++) {
        const known = this.#committedIds.get((events[i] as ProposedEvent).id);
        if (known === undefined || known.streamId !== streamId) {
          return { decision: i === 0 ? "ok" : "wrong-expected-version" };
        }
        if (i === 0) start = known.revision;
        end = known.revision;
      }
      return events.length === 0 ? { decision: "ok" } : { decision: "idempotent", start, end };
    }
    const from = expected === NO_STREAM ? -1n : expected;
    if (from < current) {
      // A retry? Every event must already sit right after `from`, in order.
      const stream = this.#streams.get(streamId) ?? [];
      let revision = from;
      for (const event of events) {
        revision += 1n;
        const stored = stream[Number(revision)];
        if (stored !== undefined && stored.id === event.id) continue;
        // First event different: a plain conflict; a later one: "corrupted idempotency", also a conflict.
        return { decision: "wrong-expected-version" };
      }
      if (revision === from) return { decision: "wrong-expected-version" };
      return { decision: "idempotent", start: from + 1n, end: revision };
    }
    if (from > current) return { decision: "wrong-expected-version" };
    return { decision: "ok" };
  }

  #writeRecord(streamId: string, event: ProposedEvent): StoredRecord {
    const streamBytes = encoder.encode(streamId).length;
    const typeBytes = encoder.encode(event.type).length;
    const size = RECORD_OVERHEAD + BigInt(streamBytes + typeBytes + event.data.length + event.metadata.length);
    const chunkEnd = (this.#writer / this.#options.chunkSize + 1n) * this.#options.chunkSize;
    if (this.#writer + size > chunkEnd) this.#writer = chunkEnd; // does not fit: completes the chunk
    const stream = this.#streams.get(streamId) ?? [];
    const record: StoredRecord = {
      streamId,
      revision: BigInt(stream.length),
      id: event.id,
      type: event.type,
      isJson: event.isJson,
      data: event.data,
      metadata: event.metadata,
      created: new Date(this.#options.now().getTime()),
      position: this.#writer,
    };
    this.#writer += size;
    stream.push(record);
    this.#streams.set(streamId, stream);
    this.#log.push(record);
    this.#committedIds.delete(event.id);
    this.#committedIds.set(event.id, { streamId, revision: record.revision });
    while (this.#committedIds.size > this.#options.idempotencyCacheSize) {
      const oldest = this.#committedIds.keys().next();
      if (oldest.done === true) break;
      this.#committedIds.delete(oldest.value);
    }
    return record;
  }

  #writeSystem(streamId: string, type: string, data: unknown, isJson = true): void {
    const bytes = isJson ? encoder.encode(JSON.stringify(data)) : encoder.encode(String(data));
    this.#writeRecord(streamId, { id: randomUUID(), type, isJson, data: bytes, metadata: EMPTY });
  }

  /** What the standard projections (and one user projection) write after a user event. */
  #project(streamId: string, event: ProposedEvent): void {
    const stream = this.#streams.get(streamId) ?? [];
    const record = stream.find((stored) => stored.id === event.id) ?? stream[stream.length - 1];
    const link = `${record?.revision ?? 0n}@${streamId}`;
    const dash = streamId.indexOf("-");
    if (dash > 0) this.#writeSystem(`$ce-${streamId.slice(0, dash)}`, "$>", link, false);
    this.#writeSystem(`$et-${event.type}`, "$>", link, false);
    this.#writeSystem("$projections-tally-result", "Result", { last: link });
  }

  #grew(): void {
    for (const wake of [...this.#growth]) wake();
  }

  #waitForGrowth(call: ServerCall): Promise<void> {
    let wake = (): void => undefined;
    const grown = new Promise<void>((resolve) => {
      wake = resolve;
      this.#growth.add(resolve);
    });
    return call.until(grown, () => {
      this.#growth.delete(wake);
    });
  }

  // ---- reads --------------------------------------------------------------------------------------------

  /** Index of the first record at or after `position`; throws for a position inside a record. */
  #indexAt(position: Position): number {
    let low = 0;
    let high = this.#log.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (comparePositions(at((this.#log[mid] as StoredRecord).position), position) < 0) low = mid + 1;
      else high = mid;
    }
    const boundary =
      position.commit === 0n ||
      position.commit === this.#writer ||
      (this.#log[low] !== undefined && (this.#log[low] as StoredRecord).position === position.commit);
    if (!boundary || position.commit > this.#writer || position.commit < 0n) {
      throw new UnknownError(
        undefined,
        `Invalid position C:${position.commit}/P:${position.prepare}: not the start of a record in the transaction log`,
      );
    }
    return low;
  }

  readStream(
    streamName: string,
    options: ReadStreamOptions,
    call = new ServerCall(),
  ): FakeStreamingRead<ResolvedEvent> {
    const positions = this.#options.positionsOnStreamReads;
    const read = new FakeStreamingRead<ResolvedEvent>(call, (record) => {
      const event = toRecorded(record, positions);
      return positions ? { event, commitPosition: record.position } : { event };
    });
    void this.#serveRead(call, () => {
      const stream = this.#streams.get(streamName);
      if (stream === undefined) throw new StreamNotFoundError(undefined, streamName);
      const last = BigInt(stream.length - 1);
      const backwards = options.direction === BACKWARDS;
      const from = options.fromRevision ?? (backwards ? END : START);
      const count = toBigInt(options.maxCount, BigInt(Number.MAX_SAFE_INTEGER));
      const out: StoredRecord[] = [];
      if (backwards) {
        let revision = from === END ? last : from === START ? 0n : from > last ? last : from;
        for (; revision >= 0n && BigInt(out.length) < count; revision--)
          out.push(stream[Number(revision)] as StoredRecord);
      } else {
        let revision = from === START ? 0n : from === END ? last + 1n : from;
        for (; revision <= last && BigInt(out.length) < count; revision++)
          out.push(stream[Number(revision)] as StoredRecord);
      }
      return out;
    });
    return read;
  }

  readAll(options: ReadAllOptions, call = new ServerCall()): FakeStreamingRead<AllStreamResolvedEvent> {
    const read = new FakeStreamingRead<AllStreamResolvedEvent>(call, (record) => ({
      event: toRecorded(record, true) as AllStreamRecordedEvent,
      commitPosition: record.position,
    }));
    void this.#serveRead(call, () => {
      const backwards = options.direction === BACKWARDS;
      const from = options.fromPosition ?? (backwards ? END : START);
      const count = toBigInt(options.maxCount, BigInt(Number.MAX_SAFE_INTEGER));
      const out: StoredRecord[] = [];
      if (backwards) {
        // Backwards from a position: the records before it.
        let index = from === END ? this.#log.length : from === START ? 0 : this.#indexAt(from);
        while (--index >= 0 && BigInt(out.length) < count) out.push(this.#log[index] as StoredRecord);
      } else {
        // Forwards from a position: that record and the ones after it.
        let index = from === START ? 0 : from === END ? this.#log.length : this.#indexAt(from);
        for (; index < this.#log.length && BigInt(out.length) < count; index++)
          out.push(this.#log[index] as StoredRecord);
      }
      return out;
    });
    return read;
  }

  async #serveRead(call: ServerCall, snapshot: () => StoredRecord[]): Promise<void> {
    await macrotask();
    const fault = this.#readFaults.shift();
    if (fault !== undefined) return call.fail(fault);
    let records: StoredRecord[];
    try {
      records = snapshot();
    } catch (error) {
      return call.fail(error as Error);
    }
    for (const record of records) {
      if (call.cancelled) return;
      await call.send({ kind: "event", record });
    }
    call.cancel();
  }

  // ---- subscriptions ------------------------------------------------------------------------------------

  subscribeToAll(options: SubscribeToAllOptions, call = new ServerCall()): FakeAllStreamSubscription {
    this.subscriptionsOpened++;
    const checkpointReached = options.filter?.checkpointReached;
    const subscription = new FakeAllStreamSubscription(
      call,
      (record) => ({ event: toRecorded(record, true) as AllStreamRecordedEvent, commitPosition: record.position }),
      checkpointReached === undefined ? undefined : (position) => checkpointReached(subscription, position),
    );
    this.#subscriptions.add(call);
    void this.#serveSubscription(call, options).finally(() => this.#subscriptions.delete(call));
    return subscription;
  }

  async #serveSubscription(call: ServerCall, options: SubscribeToAllOptions): Promise<void> {
    await macrotask();
    if (call.cancelled) return;
    const from = options.fromPosition ?? START;
    let index: number;
    try {
      if (from === START) index = 0;
      else if (from === END) index = this.#log.length;
      else {
        // Strictly after the position.
        index = this.#indexAt(from);
        const atFrom = this.#log[index];
        if (atFrom !== undefined && comparePositions(at(atFrom.position), from) === 0) index++;
      }
    } catch (error) {
      return call.fail(error as Error);
    }
    await call.send({ kind: "confirmation", id: `fake-subscription-${++this.#subscriptionIds}` });
    const filter = options.filter;
    const checkpointEvery =
      filter === undefined ? 0 : filter.checkpointInterval * (filter.maxSearchWindow ?? MAX_SEARCH_WINDOW);
    let considered = 0;
    let live = false;
    while (!call.cancelled) {
      const record = this.#log[index];
      if (record === undefined) {
        if (!live) {
          live = true;
          if (this.#options.caughtUpMessages) await call.send({ kind: "caughtUp" });
          continue;
        }
        await this.#waitForGrowth(call);
        continue;
      }
      if (live && this.#log.length - index > this.#options.liveBufferSize) {
        // Too far behind the head for the live queue: back to reading the log.
        live = false;
        if (this.#options.caughtUpMessages) await call.send({ kind: "fellBehind" });
      }
      index++;
      considered++;
      if (matchesFilter(filter, record)) {
        await call.send({ kind: "event", record });
        if (this.#subscriptionFaultStrikes(call)) return;
      } else if (checkpointEvery > 0 && considered % checkpointEvery === 0) {
        await call.send({ kind: "checkpoint", position: at(record.position) });
      }
      // Let appends and other calls run while a long history is sent.
      if (considered % 64 === 0) await macrotask();
    }
  }

  #subscriptionFaultStrikes(call: ServerCall): boolean {
    const fault = this.#subscriptionFault;
    if (fault === undefined) return false;
    const count = (fault.counts.get(call) ?? 0) + 1;
    fault.counts.set(call, count);
    if (count < fault.afterEvents) return false;
    this.#subscriptionFault = undefined;
    if (fault.error === undefined) call.cancel();
    else call.fail(fault.error);
    return true;
  }
}

/**
 * The subset of `EventStoreDBClient` the adapter uses, served by a `FakeEsdbServer`. Like the real client,
 * `dispose()` cancels the reads and subscriptions still open and leaves the client usable.
 */
export class FakeEventStoreDBClient {
  readonly #server: FakeEsdbServer;
  readonly #open = new Set<ServerCall>();
  /** How many times `dispose()` was called, for tests. */
  disposeCalls = 0;

  constructor(server: FakeEsdbServer) {
    this.#server = server;
  }

  /** Reads and subscriptions of this client that the server is still serving. */
  get openCalls(): number {
    return this.#open.size;
  }

  #track(): ServerCall {
    const call = new ServerCall();
    this.#open.add(call);
    call.source.once("close", () => this.#open.delete(call));
    call.onCancel(() => this.#open.delete(call));
    return call;
  }

  async appendToStream(
    streamName: string,
    events: EventData | EventData[],
    options: AppendToStreamOptions = {},
  ): Promise<AppendResult> {
    return this.#server.append(streamName, Array.isArray(events) ? events : [events], options.expectedRevision ?? ANY);
  }

  readStream(streamName: string, options: ReadStreamOptions = {}): StreamingRead<ResolvedEvent> {
    return this.#server.readStream(streamName, options, this.#track());
  }

  readAll(options: ReadAllOptions = {}): StreamingRead<AllStreamResolvedEvent> {
    return this.#server.readAll(options, this.#track());
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AllStreamSubscription {
    return this.#server.subscribeToAll(options, this.#track());
  }

  async dispose(): Promise<void> {
    this.disposeCalls++;
    for (const call of [...this.#open]) call.cancel();
    this.#open.clear();
  }
}

/** What the client puts on the wire for one event (JSON via JSON text, metadata likewise). */
const toProposed = (event: EventData): ProposedEvent => {
  const data =
    event.contentType === "application/json" ? encoder.encode(JSON.stringify(event.data)) : (event.data as Uint8Array);
  const metadata = event.metadata
    ? event.metadata instanceof Uint8Array
      ? event.metadata
      : encoder.encode(JSON.stringify(event.metadata))
    : EMPTY;
  return {
    id: event.id.toLowerCase(),
    type: event.type,
    isJson: event.contentType === "application/json",
    data,
    metadata,
  };
};

/** What the client makes of a record it receives (convertGrpcRecord). */
const toRecorded = (record: StoredRecord, withPosition: boolean): ResolvedEvent["event"] => {
  const metadata = parseMetadata(record.metadata);
  const base = {
    streamId: record.streamId,
    id: record.id,
    revision: record.revision,
    type: record.type,
    created: new Date(record.created.getTime()),
    metadata,
    ...(withPosition ? { position: at(record.position) } : {}),
  };
  if (record.isJson) {
    const text = decoder.decode(record.data);
    let data: JSONType;
    try {
      data = JSON.parse(text) as JSONType;
    } catch {
      data = text;
    }
    return { ...base, isJson: true, data };
  }
  return { ...base, isJson: false, data: record.data };
};

const parseMetadata = (bytes: Uint8Array): MetadataType | undefined => {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes)) as MetadataType;
  } catch {
    return bytes;
  }
};

/** What a connection string asked for, as the real client parsed it. */
export interface ParsedConnection {
  connectionString: string;
  dnsDiscover: boolean;
  hosts: string[];
  tls: boolean;
  tlsVerifyCert: boolean;
  tlsCAFile: string | undefined;
  userCertFile: string | undefined;
  username: string | undefined;
  nodePreference: string | undefined;
}

/**
 * A `createClient` for the adapter that accepts exactly what the real client accepts: the string goes
 * through the real client first (its parser, and its reading of tlsCAFile / userCertFile / userKeyFile),
 * which throws for a string it refuses; then a fake client of `server` serves the store. `parsed` lists
 * what each accepted string asked for.
 */
export function fakeClientFactory(
  server: FakeEsdbServer,
  realClient: (connectionString: string) => { dispose(): Promise<void> },
  parse: (connectionString: string) => {
    dnsDiscover: boolean;
    hosts: { address: string; port: number }[];
    tls?: boolean;
    tlsVerifyCert?: boolean;
    tlsCAFile?: string;
    userCertFile?: string;
    defaultCredentials?: { username?: string };
    nodePreference?: string;
  },
): ((connectionString: string) => FakeEventStoreDBClient) & { parsed: ParsedConnection[] } {
  const parsed: ParsedConnection[] = [];
  const create = (connectionString: string): FakeEventStoreDBClient => {
    const real = realClient(connectionString);
    void real.dispose();
    const options = parse(connectionString);
    parsed.push({
      connectionString,
      dnsDiscover: options.dnsDiscover,
      hosts: options.hosts.map((host) => `${host.address}:${host.port}`),
      tls: options.tls ?? true,
      tlsVerifyCert: options.tlsVerifyCert ?? true,
      tlsCAFile: options.tlsCAFile,
      userCertFile: options.userCertFile,
      username: options.defaultCredentials?.username,
      nodePreference: options.nodePreference,
    });
    return server.connect();
  };
  return Object.assign(create, { parsed });
}

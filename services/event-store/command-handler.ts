// Runs a decider against a stream: load → fold → decide → append with optimistic concurrency, retrying
// on CONFLICT by re-loading and re-deciding. Old event shapes are upcast on load: by the service's
// registry (services/core/upcasters.ts) unless the caller passes its own.

import { randomUUID } from "node:crypto";
import type { Decider, DomainEvent } from "../core/decider.ts";
import { isDomainError } from "../core/errors.ts";
import { EVENT_SCHEMA_VERSION, UPCASTERS, type Upcasters } from "../core/upcasters.ts";
import { withSpan } from "../platform/tracing.ts";
import type { EventMetadata, EventStore, EventToAppend, ExpectedRevision, RecordedEvent } from "./port.ts";

export type { Upcasters } from "../core/upcasters.ts";

/** What the caller knows about the command; becomes every appended event's metadata. */
export interface CommandMetadata {
  actor: string;
  occurredAt: string;
  correlationId: string;
  causationId?: string | null;
  projectId: string | null;
  /** Extra metadata keys (e.g. a signal's source). */
  extra?: Readonly<Record<string, unknown>>;
}

export interface LoadedStream<State, Event extends DomainEvent> {
  state: State;
  events: Event[];
  /** Revision of the stream's last event, or "no_stream". */
  revision: ExpectedRevision;
}

export interface HandleCommandOptions<Command> {
  stream: string;
  command: Command;
  metadata: CommandMetadata;
  /** Event id generator (default crypto.randomUUID); ids must be UUIDs. */
  newId?: () => string;
  /** Total tries when the append hits CONFLICT (default 3). */
  maxAttempts?: number;
  /** Default: the service's registry (UPCASTERS). Pass NO_UPCASTERS to read events exactly as stored. */
  upcasters?: Upcasters;
  /** Written into metadata (default EVENT_SCHEMA_VERSION). */
  schemaVersion?: number;
}

export interface CommandResult<State, Event extends DomainEvent> {
  /** State after the new events. */
  state: State;
  /** The domain events decided and appended (empty when the command changed nothing). */
  events: Event[];
  /** Exactly what was appended (ids, metadata). */
  appended: EventToAppend[];
  /** Pass as `expected` to the next append on this stream. */
  nextExpectedRevision: ExpectedRevision;
  /** Position of the last appended event; null when nothing was appended. */
  position: string | null;
  /** How many tries it took (1 = no conflict). */
  attempts: number;
}

/** Applies the upcaster registered for the event's type, if any (own keys only: not `toString` & co.). */
export const upcastEvent = (
  event: Pick<RecordedEvent, "type" | "data" | "metadata">,
  upcasters: Upcasters | undefined,
): DomainEvent => {
  const upcast = upcasters !== undefined && Object.hasOwn(upcasters, event.type) ? upcasters[event.type] : undefined;
  if (upcast === undefined) return { type: event.type, data: event.data };
  const version = typeof event.metadata?.schemaVersion === "number" ? event.metadata.schemaVersion : 1;
  return { type: event.type, data: upcast(event.data, version) };
};

/** Reads a stream and folds it, upcasting old shapes (default: the service's registry, UPCASTERS). */
export const loadStream = async <State, Command, Event extends DomainEvent>(
  store: EventStore,
  decider: Decider<State, Command, Event>,
  stream: string,
  upcasters: Upcasters = UPCASTERS,
): Promise<LoadedStream<State, Event>> => {
  const recorded = await store.readStream(stream);
  let state = decider.initialState();
  const events: Event[] = [];
  for (const record of recorded) {
    const event = upcastEvent(record, upcasters) as Event;
    state = decider.evolve(state, event);
    events.push(event);
  }
  const last = recorded[recorded.length - 1];
  return { state, events, revision: last === undefined ? "no_stream" : last.revision };
};

const toMetadata = (metadata: CommandMetadata, schemaVersion: number): EventMetadata => ({
  ...metadata.extra,
  actor: metadata.actor,
  occurredAt: metadata.occurredAt,
  correlationId: metadata.correlationId,
  causationId: metadata.causationId ?? null,
  projectId: metadata.projectId,
  schemaVersion,
});

/** load → decide → append, traced as one `command <type>` span (services/platform/tracing.ts; a no-op when off). */
export const handleCommand = <State, Command, Event extends DomainEvent>(
  store: EventStore,
  decider: Decider<State, Command, Event>,
  options: HandleCommandOptions<Command>,
): Promise<CommandResult<State, Event>> => {
  const type = (options.command as { type?: unknown } | null)?.type;
  const name = typeof type === "string" ? type : "command";
  return withSpan(`command ${name}`, { "rp.command": name, "rp.stream": options.stream }, async (span) => {
    const result = await handleUntraced(store, decider, options);
    span.setAttribute("rp.events", result.events.length);
    span.setAttribute("rp.attempts", result.attempts);
    return result;
  });
};

const handleUntraced = async <State, Command, Event extends DomainEvent>(
  store: EventStore,
  decider: Decider<State, Command, Event>,
  options: HandleCommandOptions<Command>,
): Promise<CommandResult<State, Event>> => {
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError("maxAttempts must be an integer >= 1");
  const newId = options.newId ?? randomUUID;
  const metadata = toMetadata(options.metadata, options.schemaVersion ?? EVENT_SCHEMA_VERSION);

  for (let attempt = 1; ; attempt++) {
    const loaded = await loadStream(store, decider, options.stream, options.upcasters ?? UPCASTERS);
    // A refusal (DomainError thrown by decide) propagates: nothing is written.
    const events = decider.decide(options.command, loaded.state);
    let state = loaded.state;
    for (const event of events) state = decider.evolve(state, event);
    if (events.length === 0) {
      return {
        state,
        events,
        appended: [],
        nextExpectedRevision: loaded.revision,
        position: null,
        attempts: attempt,
      };
    }
    const appended: EventToAppend[] = events.map((event) => ({
      id: newId(),
      type: event.type,
      data: event.data,
      metadata: { ...metadata },
    }));
    try {
      const result = await store.append(options.stream, appended, loaded.revision);
      return {
        state,
        events,
        appended,
        nextExpectedRevision: result.nextExpectedRevision,
        position: result.position,
        attempts: attempt,
      };
    } catch (error) {
      if (!(isDomainError(error) && error.code === "CONFLICT") || attempt >= maxAttempts) throw error;
    }
  }
};

/** Runs one command of one decider on one stream: the command handler, or a stand-in (a batching simulation). */
export interface CommandExecutor {
  execute<State, Command, Event extends DomainEvent>(
    decider: Decider<State, Command, Event>,
    stream: string,
    command: Command,
    metadata: CommandMetadata,
    /** Tries on CONFLICT (re-load, re-decide): the command handler's default is 3. */
    options?: { maxAttempts?: number },
  ): Promise<{ state: State; events: Event[]; position: string | null }>;
}

/** Through the command handler: load → decide → append with optimistic concurrency (the API's path). */
export const storeExecutor = (store: EventStore, newId?: () => string): CommandExecutor => ({
  execute: (decider, stream, command, metadata, options) =>
    handleCommand(store, decider, {
      stream,
      command,
      metadata,
      ...(newId !== undefined && { newId }),
      ...(options?.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
    }),
});

// What every slice's command handlers share around the command handler (./command-handler.ts): the
// events' metadata from the caller, loading an entity the caller may see, and read-your-writes — waiting
// until this process's projections have applied what a command appended, so the answer is read from the
// read models the next query reads too.

import { type Caller, canSeeProject } from "../core/caller.ts";
import type { Command, Decider, DomainEvent } from "../core/decider.ts";
import { DomainError } from "../core/errors.ts";
import { type CommandMetadata, handleCommand, loadStream } from "./command-handler.ts";
import type { EventStore } from "./port.ts";

/** What command handlers need of the projection runner (services/projections/runner.ts). */
export interface Projections {
  /** Resolves once the read models have applied the event at `position`. */
  waitFor(position: string): Promise<void>;
  /** Calls `listener` after each applied event; returns the unsubscribe. */
  onEvent(listener: () => void): () => void;
}

/** The dependencies every slice's command handlers take. */
export interface CommandDeps {
  store: EventStore;
  projections: Projections;
  /** Wall-clock time (an input, so tests can fix it). */
  now: () => Date;
}

/** The metadata of every event a caller's command appends, but its time. */
export const callerMetadata = (caller: Caller, projectId: string | null): Omit<CommandMetadata, "occurredAt"> => ({
  actor: caller.auth.name,
  correlationId: caller.request.correlationId,
  causationId: null,
  projectId,
});

/** The metadata of every event a caller's command appends. */
export const commandMetadata = (caller: Caller, projectId: string | null, at: string): CommandMetadata => ({
  ...callerMetadata(caller, projectId),
  occurredAt: at,
});

/** Read-your-writes: the read models have applied `position` (or, for a no-op, everything stored so far). */
export async function caughtUp(deps: Pick<CommandDeps, "store" | "projections">, position: string | null) {
  const target = position ?? (await deps.store.headPosition());
  if (target !== null) await deps.projections.waitFor(target);
}

/**
 * A caller's command on one stream: load → decide → append (the command handler), then read your write.
 * Answers the appended position (null when the command changed nothing).
 */
export async function runCommand<State, C extends Command, Event extends DomainEvent>(
  deps: Pick<CommandDeps, "store" | "projections">,
  decider: Decider<State, C, Event>,
  caller: Caller,
  target: { stream: string; projectId: string | null },
  command: C,
): Promise<string | null> {
  const result = await handleCommand(deps.store, decider, {
    stream: target.stream,
    command,
    metadata: commandMetadata(caller, target.projectId, command.now),
  });
  await caughtUp(deps, result.position);
  return result.position;
}

/** Resolves with `check()`'s value once it is not null, re-checking after each projected event; null at the deadline. */
export function waitUntil<T>(projections: Projections, check: () => T | null, timeoutMs: number): Promise<T | null> {
  const first = check();
  if (first !== null) return Promise.resolve(first);
  return new Promise((resolve) => {
    const finish = (value: T | null): void => {
      clearTimeout(timer);
      off();
      resolve(value);
    };
    const off = projections.onEvent(() => {
      const value = check();
      if (value !== null) finish(value);
    });
    const timer = setTimeout(() => finish(check()), timeoutMs);
  });
}

/** The read model's view of what a command just wrote (after `caughtUp`): missing is a bug, not a refusal. */
export function fromView<T>(value: T | null, kind: string, id: string): T {
  if (value === null) throw new DomainError("INTERNAL", `${kind} ${id} is missing from the read models`);
  return value;
}

/**
 * An entity's current state, from its stream, when the caller may see it; NOT_FOUND otherwise (missing or
 * another project's: the same answer).
 */
export async function loadVisible<State extends object, Command, Event extends DomainEvent>(
  store: EventStore,
  caller: Caller,
  decider: Decider<State | null, Command, Event>,
  stream: string,
  projectIdOf: (state: State) => string,
  what: string,
): Promise<State> {
  const { state } = await loadStream(store, decider, stream);
  if (state === null || !canSeeProject(caller.auth, projectIdOf(state))) {
    throw new DomainError("NOT_FOUND", `${what} not found`);
  }
  return state;
}

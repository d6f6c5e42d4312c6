// The decider pattern (Jérémie Chassaing's): pure domain logic with no I/O. `decide` turns a command and the
// current state into events (or throws a DomainError to refuse); `evolve` folds an event into the state.
// Time and ids arrive inside commands. services/event-store/command-handler.ts does the loading and
// appending around it.

import type { DomainEvent } from "./event.ts";
import type { Actor } from "./model.ts";

export type { DomainEvent } from "./event.ts";

/** A command: what someone (`actor`, or the system) asks for, taking effect at `now` (an ISO instant). */
export interface Command<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  actor: Actor;
  now: string;
}

export interface Decider<State, Command, Event extends DomainEvent> {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  decide: (command: Command, state: State) => Event[];
}

/** Folds events into a state, starting from `state` (default: the decider's initial state). */
export const fold = <State, Command, Event extends DomainEvent>(
  decider: Decider<State, Command, Event>,
  events: readonly Event[],
  state: State = decider.initialState(),
): State => {
  let current = state;
  for (const event of events) current = decider.evolve(current, event);
  return current;
};

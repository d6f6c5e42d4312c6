// The decider pattern (Jérémie Chassaing's): pure domain logic with no I/O. `decide` turns a command and the
// current state into events (or throws a DomainError to refuse); `evolve` folds an event into the state.
// Time and ids arrive inside commands. services/event-store/command-handler.ts does the loading and
// appending around it.

/**
 * A domain event as the decider sees it: a type and its payload (no ids, positions or metadata).
 * Structurally the same as `DomainEvent` in ./event.ts.
 */
export interface DomainEvent {
  type: string;
  data: unknown;
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

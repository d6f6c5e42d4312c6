/**
 * A decider (Jérémie Chassaing's pattern): pure `decide` (command + state → events, or a thrown
 * DomainError) and `evolve` (state + event → state). Time and ids arrive inside commands.
 */
export interface Decider<State, Command, Event extends { type: string; data: unknown }> {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  decide: (command: Command, state: State) => Event[];
}

// Decider specifications that read as given/when/then (after oskardudycz's decider `specification`):
//
//   specification(pipelineDecider)
//     .given([created, published])
//     .when(updatePipeline)
//     .thenThrows("IMMUTABLE", "published");
//
// The given events and the command are deep-frozen first, so a `decide` or `evolve` that mutates its
// inputs instead of returning new values fails the spec.

import { expect } from "vitest";
import type { Decider } from "../decider.ts";
import { type ErrorCode, isDomainError } from "../errors.ts";

type AnyEvent = { type: string; data: unknown };

export interface Specification<State, Command, Event> {
  given(events: Event | Event[]): {
    when(command: Command): Outcome<State, Event>;
  };
}

export interface Outcome<State, Event> {
  /** The command yields exactly these events, in order. Returns them. */
  then(expected: Event[]): Event[];
  /** The command is refused with a DomainError of `code` (and a message containing `messageIncludes`). */
  thenThrows(code: ErrorCode, messageIncludes?: string | RegExp): void;
  /** The command succeeds; `check` gets the events and the state they evolve to. */
  thenState(check: (state: State, events: Event[]) => void): State;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function specification<State, Command, Event extends AnyEvent>(
  decider: Decider<State, Command, Event>,
): Specification<State, Command, Event> {
  return {
    given(events) {
      const history = deepFreeze(structuredClone(Array.isArray(events) ? events : [events]));
      const state = history.reduce(decider.evolve, decider.initialState());
      return {
        when(command) {
          const run = () => decider.decide(deepFreeze(structuredClone(command)), state);
          return {
            // biome-ignore lint/suspicious/noThenProperty: given/when/then is the vocabulary; an outcome is never awaited.
            then(expected) {
              const produced = run();
              expect(produced).toEqual(expected);
              return produced;
            },
            thenThrows(code, messageIncludes) {
              let thrown: unknown;
              try {
                const produced = run();
                expect.fail(`expected ${code}, but the command succeeded with ${JSON.stringify(produced)}`);
              } catch (error) {
                thrown = error;
              }
              if (!isDomainError(thrown)) throw thrown;
              expect({ code: thrown.code, message: thrown.message }).toMatchObject({ code });
              if (messageIncludes !== undefined) expect(thrown.message).toMatch(messageIncludes);
            },
            thenState(check) {
              const produced = run();
              const next = produced.reduce(decider.evolve, state);
              check(next, produced);
              return next;
            },
          };
        },
      };
    },
  };
}

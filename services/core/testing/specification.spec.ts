import { describe, expect, it } from "vitest";
import type { Decider } from "../decider.ts";
import { DomainError } from "../errors.ts";
import { specification } from "./specification.ts";

type Event = { type: "Added"; data: { n: number } };
type Command = { type: "Add"; data: { n: number } } | { type: "Mutate"; data: { n: number } };

// A counter that refuses to go above 10; "Mutate" writes into its command, which the helper must catch.
const counter: Decider<number, Command, Event> = {
  initialState: () => 0,
  evolve: (state, event) => state + event.data.n,
  decide: (command, state) => {
    if (command.type === "Mutate") {
      command.data.n += 1;
      return [];
    }
    if (state + command.data.n > 10) throw new DomainError("VALIDATION", `n: ${state} + ${command.data.n} > 10`);
    return [{ type: "Added", data: { n: command.data.n } }];
  },
};
const add = (n: number): Command => ({ type: "Add", data: { n } });
const added = (n: number): Event => ({ type: "Added", data: { n } });

describe("specification", () => {
  it("passes when the command yields the expected events", () => {
    expect(
      specification(counter)
        .given([added(3)])
        .when(add(2))
        .then([added(2)]),
    ).toEqual([added(2)]);
  });

  it("fails when the events differ", () => {
    expect(() =>
      specification(counter)
        .given([])
        .when(add(2))
        .then([added(3)]),
    ).toThrow();
  });

  it("passes thenThrows on the expected code and message", () => {
    specification(counter).given(added(9)).when(add(2)).thenThrows("VALIDATION", "9 + 2 > 10");
  });

  it("fails thenThrows when the command succeeds, the code differs or the message does not match", () => {
    expect(() => specification(counter).given([]).when(add(2)).thenThrows("VALIDATION")).toThrow(/succeeded/);
    expect(() =>
      specification(counter)
        .given([added(9)])
        .when(add(2))
        .thenThrows("CONFLICT"),
    ).toThrow();
    expect(() =>
      specification(counter)
        .given([added(9)])
        .when(add(2))
        .thenThrows("VALIDATION", "nope"),
    ).toThrow();
  });

  it("gives thenState the evolved state", () => {
    const state = specification(counter)
      .given([added(1)])
      .when(add(4))
      .thenState((s, events) => expect([s, events]).toEqual([5, [added(4)]]));
    expect(state).toBe(5);
  });

  it("freezes the command so a decider that mutates its input fails", () => {
    expect(() =>
      specification(counter)
        .given([])
        .when({ type: "Mutate", data: { n: 1 } })
        .then([]),
    ).toThrow(TypeError);
  });
});

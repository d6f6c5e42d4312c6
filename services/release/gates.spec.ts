// The release decider under governance: a project freeze and the pipeline's promotion windows hold a
// phase that is ready to roll out (FROZEN, AWAITING_WINDOW); timers still run out and approvals are still
// recorded; break glass (ADMIN, with a reason) lets the current phase through, approvals still applying.

import { describe, expect, it } from "vitest";
import type { Actor, Definition, EnvironmentDefinition, Phase } from "../core/model.ts";
import type { PromotionWindow } from "../pipeline/windows.ts";
import type { ReleaseEvent, ReleaseStarted } from "./events.ts";
import {
  computeAfter,
  decide,
  evolve,
  nextWakeAt,
  type Release,
  type ReleaseCommand,
  type ReleaseGates,
  type ReleaseState,
} from "./release.ts";

const HOUR = 3_600_000;
// A Saturday.
const T0 = "2026-12-05T10:00:00.000Z";
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

const system: Actor = { name: "system", role: "ADMIN" };
const root: Actor = { name: "root", role: "ADMIN" };
const bob: Actor = { name: "bob", role: "APPROVER" };

const on: Definition = { enabled: true, value: null, rules: [] };
const off: Definition = { enabled: false, value: null, rules: [] };
const environments = ["staging", "production"];
const env = (environment: string, definition: Definition): EnvironmentDefinition => ({ environment, definition });

const phases: Phase[] = [
  {
    name: "staging",
    waitFor: "PT1H",
    waitForMs: HOUR,
    requiresApproval: false,
    approvalsRequired: 1,
    action: "APPLY_CHANGE",
    targets: [{ environment: "staging", segment: null }],
  },
  {
    name: "production",
    waitFor: null,
    waitForMs: null,
    requiresApproval: true,
    approvalsRequired: 1,
    action: "APPLY_CHANGE",
    targets: [{ environment: "production", segment: null }],
  },
];

const started = (windows?: PromotionWindow[]): ReleaseStarted => {
  const change = environments.map((e) => env(e, on));
  return {
    type: "ReleaseStarted",
    data: {
      releaseId: "r1",
      featureId: "f1",
      featureKey: "checkout",
      projectId: "p1",
      pipelineId: "pl1",
      pipelineVersion: 1,
      pipelineName: "standard",
      phases,
      selfApproval: "ALLOWED",
      environments,
      before: environments.map((e) => env(e, off)),
      change,
      after: computeAfter(phases, environments, change),
      trigger: "UPDATE",
      by: "starter",
      reason: null,
      ...(windows && { windows }),
      at: T0,
    },
  };
};

const frozen = (until: string | null = null): ReleaseGates => ({ freeze: { reason: "incident 42", until } });
const open: ReleaseGates = { freeze: null };

const tick = (now: string): ReleaseCommand => ({ type: "Tick", data: {}, actor: system, now });
const approve = (now: string): ReleaseCommand => ({ type: "ApproveRelease", data: { comment: null }, actor: bob, now });
const breakGlass = (
  now: string,
  actor: Actor = root,
  reason: string | null = "hotfix for incident 42",
): ReleaseCommand => ({
  type: "BreakGlass",
  data: { reason },
  actor,
  now,
});

/** Folds the given events, then decides each [command, gates] in turn; answers every new event and the state. */
function run(history: ReleaseEvent[], steps: [ReleaseCommand, ReleaseGates][]) {
  let state = history.reduce(evolve, null as ReleaseState);
  const events: ReleaseEvent[] = [];
  for (const [command, gates] of steps) {
    const produced = decide(command, state, gates);
    events.push(...produced);
    state = produced.reduce(evolve, state);
  }
  return { events, types: events.map((e) => e.type), state: state as Release };
}

const status = (release: Release, index: number) => release.phases[index]?.status;

describe("a release in a frozen project", () => {
  it("lets the bake timer run out, then holds the ready phase FROZEN until the freeze ends", () => {
    const { types, state, events } = run(
      [started()],
      [
        [tick(T0), frozen()],
        [tick(at(HOUR)), frozen()],
        [tick(at(2 * HOUR)), frozen()],
      ],
    );
    expect(types).toEqual(["ReleasePhaseWaitStarted", "ReleasePhaseHeld"]);
    expect(events[1]?.data).toMatchObject({ phaseIndex: 0, status: "FROZEN", until: null, reason: "incident 42" });
    expect(status(state, 0)).toBe("FROZEN");
    expect(nextWakeAt(state)).toBeNull();
    const after = run([started(), ...events], [[tick(at(3 * HOUR)), open]]);
    expect(after.types).toEqual(["ReleasePhaseRolledOut", "ReleaseApprovalRequested"]);
  });

  it("wakes at the freeze's `until` and rolls out then", () => {
    const until = at(5 * HOUR);
    const { state, events } = run(
      [started()],
      [
        [tick(T0), frozen(until)],
        [tick(at(HOUR)), frozen(until)],
      ],
    );
    expect(status(state, 0)).toBe("FROZEN");
    expect(nextWakeAt(state)).toBe(until);
    expect(run([started(), ...events], [[tick(until), frozen(until)]]).types).toEqual([
      "ReleasePhaseRolledOut",
      "ReleaseApprovalRequested",
    ]);
  });

  it("still records approvals; the approved phase is held FROZEN", () => {
    const { types, state } = run(
      [started()],
      [
        [tick(T0), open],
        [tick(at(HOUR)), open],
        [approve(at(2 * HOUR)), frozen()],
      ],
    );
    expect(types.slice(-2)).toEqual(["ReleasePhaseApproved", "ReleasePhaseHeld"]);
    expect(status(state, 1)).toBe("FROZEN");
    expect(state.phases[1]?.approvals.map((a) => a.by)).toEqual(["bob"]);
  });

  it("refuses a full rollout (INVALID_STATE) while frozen", () => {
    const { state } = run([started()], [[tick(T0), open]]);
    expect(() =>
      decide({ type: "FullRollout", data: { reason: null }, actor: bob, now: at(1) }, state, frozen()),
    ).toThrow(expect.objectContaining({ code: "INVALID_STATE" }));
  });
});

describe("promotion windows", () => {
  const weekdays: PromotionWindow[] = [
    { days: ["MON", "TUE", "WED", "THU", "FRI"], start: "09:00", end: "17:00", timeZone: "Europe/Berlin" },
  ];

  it("hold a ready phase AWAITING_WINDOW until the next window opens, and roll it out then", () => {
    const { events, state } = run(
      [started(weekdays)],
      [
        [tick(T0), open],
        [tick(at(HOUR)), open],
      ],
    );
    const monday = "2026-12-07T08:00:00.000Z"; // 09:00 CET
    expect(events.at(-1)?.data).toMatchObject({ status: "AWAITING_WINDOW", until: monday });
    expect(nextWakeAt(state)).toBe(monday);
    expect(run([started(weekdays), ...events], [[tick(monday), open]]).types).toEqual([
      "ReleasePhaseRolledOut",
      "ReleaseApprovalRequested",
    ]);
  });

  it("a freeze ending while the window is closed turns FROZEN into AWAITING_WINDOW", () => {
    const { types, state } = run(
      [started(weekdays)],
      [
        [tick(T0), open],
        [tick(at(HOUR)), frozen()],
        [tick(at(2 * HOUR)), open],
      ],
    );
    expect(types).toEqual(["ReleasePhaseWaitStarted", "ReleasePhaseHeld", "ReleasePhaseHeld"]);
    expect(status(state, 0)).toBe("AWAITING_WINDOW");
  });
});

describe("break glass", () => {
  const heldByFreeze = () =>
    run(
      [started()],
      [
        [tick(T0), frozen()],
        [tick(at(HOUR)), frozen()],
      ],
    );

  it("rolls the held phase out despite the freeze, recorded as a BREAK_GLASS action", () => {
    const held = heldByFreeze();
    const { types, state } = run([started(), ...held.events], [[breakGlass(at(2 * HOUR)), frozen()]]);
    expect(types).toEqual(["ReleaseGlassBroken", "ReleasePhaseRolledOut", "ReleaseApprovalRequested"]);
    expect(state.actions.at(-1)).toMatchObject({
      kind: "BREAK_GLASS",
      by: "root",
      reason: "hotfix for incident 42",
      phaseIndex: 0,
    });
    // Only the current phase: the next one, once approved, is held by the freeze again.
    const next = run(
      [started(), ...held.events, ...run([started(), ...held.events], [[breakGlass(at(2 * HOUR)), frozen()]]).events],
      [[approve(at(3 * HOUR)), frozen()]],
    );
    expect(next.types).toEqual(["ReleasePhaseApproved", "ReleasePhaseHeld"]);
  });

  it("still requires the phase's approvals", () => {
    const waiting = run(
      [started()],
      [
        [tick(T0), open],
        [tick(at(HOUR)), open],
      ],
    );
    expect(status(waiting.state, 1)).toBe("AWAITING_APPROVAL");
    const broken = run([started(), ...waiting.events], [[breakGlass(at(2 * HOUR)), frozen()]]);
    expect(broken.types).toEqual(["ReleaseGlassBroken"]);
    expect(status(broken.state, 1)).toBe("AWAITING_APPROVAL");
    const approved = run([started(), ...waiting.events, ...broken.events], [[approve(at(3 * HOUR)), frozen()]]);
    expect(approved.types).toEqual(["ReleasePhaseApproved", "ReleasePhaseRolledOut", "ReleaseCompleted"]);
  });

  it("is ADMIN only, needs a reason, and has nothing to break when nothing holds the phase", () => {
    const held = heldByFreeze();
    const release = [started(), ...held.events].reduce(evolve, null as ReleaseState);
    expect(() => decide(breakGlass(at(2 * HOUR), bob), release, frozen())).toThrow(
      expect.objectContaining({ code: "FORBIDDEN" }),
    );
    expect(() => decide(breakGlass(at(2 * HOUR), root, "  "), release, frozen())).toThrow(
      expect.objectContaining({ code: "VALIDATION", field: "reason" }),
    );
    const running = run([started()], [[tick(T0), open]]).state;
    expect(() => decide(breakGlass(at(1)), running, open)).toThrow(expect.objectContaining({ code: "INVALID_STATE" }));
    const broken = run([started(), ...held.events], [[breakGlass(at(2 * HOUR)), frozen()]]);
    expect(broken.types[0]).toBe("ReleaseGlassBroken");
  });

  it("during a bake lets the phase through when the bake ends, whatever the freeze", () => {
    const baking = run([started()], [[tick(T0), frozen()]]);
    const broken = run([started(), ...baking.events], [[breakGlass(at(1)), frozen()]]);
    expect(broken.types).toEqual(["ReleaseGlassBroken"]);
    expect(status(broken.state, 0)).toBe("WAITING");
    const after = run([started(), ...baking.events, ...broken.events], [[tick(at(HOUR)), frozen()]]);
    expect(after.types).toEqual(["ReleasePhaseRolledOut", "ReleaseApprovalRequested"]);
  });
});

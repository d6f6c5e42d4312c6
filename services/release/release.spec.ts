import { describe, expect, it } from "vitest";
import type { Actor, Definition, EnvironmentDefinition, Phase } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { ReleaseEvent, ReleaseStarted } from "./events.ts";
import {
  computeAfter,
  decide,
  decideStart,
  eventActor,
  evolve,
  featureEffects,
  nextWakeAt,
  type Release,
  type ReleaseCommand,
  type ReleaseState,
  releaseDecider,
  remainingWaitMs,
  toReleaseView,
} from "./release.ts";

const HOUR = 3_600_000;
const T0 = "2026-11-21T10:00:00.000Z";
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

const alice: Actor = { name: "alice", role: "EDITOR" };
const bob: Actor = { name: "bob", role: "APPROVER" };
const carol: Actor = { name: "carol", role: "APPROVER" };
const starter: Actor = { name: "starter", role: "APPROVER" };
const viewer: Actor = { name: "vic", role: "VIEWER" };
const system: Actor = { name: "system", role: "ADMIN" };

const off: Definition = { enabled: false, value: null, rules: [] };
const on: Definition = { enabled: true, value: null, rules: [] };
const env = (environment: string, definition: Definition): EnvironmentDefinition => ({ environment, definition });
const environments = ["development", "staging", "production"];
const before = environments.map((e) => env(e, off));
const change = environments.map((e) => env(e, on));

const phase = (over: Partial<Phase> & Pick<Phase, "name" | "targets">): Phase => ({
  waitFor: null,
  waitForMs: null,
  requiresApproval: false,
  approvalsRequired: 1,
  action: "APPLY_CHANGE",
  ...over,
});

// Statsig's example: dev → staging after a 1 h bake → production/us-west with an approval → production.
const statsigPhases: Phase[] = [
  phase({ name: "dev", targets: [{ environment: "development", segment: null }] }),
  phase({ name: "staging", waitFor: "PT1H", waitForMs: HOUR, targets: [{ environment: "staging", segment: null }] }),
  phase({
    name: "us-west",
    requiresApproval: true,
    approvalsRequired: 2,
    targets: [{ environment: "production", segment: "us-west" }],
  }),
  phase({
    name: "production",
    waitFor: "PT2H",
    waitForMs: 2 * HOUR,
    targets: [{ environment: "production", segment: null }],
  }),
];

const startData = (phases: Phase[] = statsigPhases, over: Partial<ReleaseStarted["data"]> = {}) => ({
  releaseId: "r1",
  featureId: "f1",
  featureKey: "new_checkout",
  projectId: "p1",
  pipelineId: "pl1",
  pipelineVersion: 2,
  pipelineName: "standard",
  phases,
  selfApproval: "ALLOWED" as const,
  environments,
  before,
  change,
  trigger: "UPDATE" as const,
  reason: null,
  ...over,
});

const started = (phases: Phase[] = statsigPhases, over: Partial<ReleaseStarted["data"]> = {}): ReleaseStarted => ({
  type: "ReleaseStarted",
  data: {
    ...startData(phases, over),
    after: computeAfter(phases, environments, change),
    by: "starter",
    at: T0,
  },
});

const spec = specification(releaseDecider);

/** Runs commands through decide/evolve and returns every event and the final state. */
function run(history: ReleaseEvent[], commands: ReleaseCommand[]): { events: ReleaseEvent[]; state: ReleaseState } {
  let state = history.reduce(evolve, null as ReleaseState);
  const events = [...history];
  for (const command of commands) {
    const produced = decide(command, state);
    events.push(...produced);
    state = produced.reduce(evolve, state);
  }
  return { events, state };
}

const tick = (now: string): ReleaseCommand => ({ type: "Tick", data: {}, actor: system, now });
const approve = (actor: Actor, now: string, phaseIndex?: number): ReleaseCommand => ({
  type: "ApproveRelease",
  data: { comment: "lgtm", phaseIndex },
  actor,
  now,
});
const pause = (now: string, phaseIndex?: number): ReleaseCommand => ({
  type: "PauseRelease",
  data: { reason: "investigating", phaseIndex },
  actor: alice,
  now,
});
const unpause = (now: string): ReleaseCommand => ({
  type: "UnpauseRelease",
  data: { reason: null },
  actor: alice,
  now,
});
const skip = (now: string, phaseIndex?: number): ReleaseCommand => ({
  type: "SkipPhase",
  data: { reason: "hotfix", phaseIndex },
  actor: alice,
  now,
});
const abort = (now: string, actor: Actor = alice): ReleaseCommand => ({
  type: "AbortRelease",
  data: { reason: "errors up" },
  actor,
  now,
});
const fullRollout = (now: string, actor: Actor = bob): ReleaseCommand => ({
  type: "FullRollout",
  data: { reason: "all good" },
  actor,
  now,
});

/** History of the Statsig release up to: phase 0 rolled out, phase 1 WAITING since T0. */
const waitingHistory = () => run([started()], [tick(T0)]).events;
/** Up to phase 2 AWAITING_APPROVAL (bake of phase 1 over at T0+1h). */
const awaitingHistory = () => run(waitingHistory(), [tick(at(HOUR))]).events;
const types = (events: ReleaseEvent[]) => events.map((e) => e.type);

describe("release decider", () => {
  describe("starting", () => {
    it("stores ReleaseStarted with the pipeline snapshot and computed after, and nothing else (the workflow takes the steps)", () => {
      const events = decideStart({ type: "StartRelease", data: startData(), actor: starter, now: T0 }, null);
      expect(events).toEqual([started()]);
    });

    it("through decide, takes every automatic step due at once: phase 0 rolls out, phase 1 starts its bake", () => {
      spec
        .given([])
        .when({ type: "StartRelease", data: startData(), actor: starter, now: T0 })
        .thenState((state, events) => {
          expect(types(events)).toEqual(["ReleaseStarted", "ReleasePhaseRolledOut", "ReleasePhaseWaitStarted"]);
          expect(state?.currentPhaseIndex).toBe(1);
          expect(state?.phases[1]).toMatchObject({ status: "WAITING", waitStartedAt: T0, waitEndsAt: at(HOUR) });
        });
    });

    it("refuses a VIEWER with FORBIDDEN", () => {
      spec.given([]).when({ type: "StartRelease", data: startData(), actor: viewer, now: T0 }).thenThrows("FORBIDDEN");
    });

    it("refuses a second start of the same release with CONFLICT", () => {
      spec
        .given([started()])
        .when({ type: "StartRelease", data: startData(), actor: starter, now: T0 })
        .thenThrows("CONFLICT");
    });

    it("refuses a pipeline without phases", () => {
      spec
        .given([])
        .when({ type: "StartRelease", data: startData([]), actor: starter, now: T0 })
        .thenThrows("VALIDATION");
    });

    it("after: the last phase touching an environment decides; a whole-environment ENABLE/DISABLE forces enabled", () => {
      const phases = [
        phase({ name: "a", action: "ENABLE", targets: [{ environment: "development", segment: null }] }),
        phase({ name: "b", action: "DISABLE", targets: [{ environment: "staging", segment: null }] }),
      ];
      const value = { limit: 3 };
      const changed = environments.map((e) => env(e, { enabled: false, value, rules: [] }));
      expect(computeAfter(phases, environments, changed)).toEqual([
        env("development", { enabled: true, value, rules: [] }),
        env("staging", { enabled: false, value, rules: [] }),
        env("production", { enabled: false, value, rules: [] }),
      ]);
    });

    it("after: a segment ENABLE/DISABLE becomes a rule for that segment, first, and leaves the default alone", () => {
      const beta = { segment: "beta", enabled: false, value: null, rolloutPercentage: 100 };
      const prod: Definition = { enabled: false, value: null, rules: [beta] };
      const phases = [
        phase({ name: "west", action: "ENABLE", targets: [{ environment: "production", segment: "us-west" }] }),
        phase({ name: "east", action: "ENABLE", targets: [{ environment: "production", segment: "us-east" }] }),
        phase({ name: "beta", action: "ENABLE", targets: [{ environment: "production", segment: "beta" }] }),
      ];
      const changed = environments.map((e) => env(e, e === "production" ? prod : off));
      const rule = (segment: string) => ({ segment, enabled: true, value: null, rolloutPercentage: 100 });
      expect(computeAfter(phases, environments, changed)[2]).toEqual(
        env("production", { enabled: false, value: null, rules: [rule("beta"), rule("us-east"), rule("us-west")] }),
      );
      // Rules accumulate: phase 1 still serves us-west its rule.
      const { state } = run([started(phases, { change: changed, trigger: "START" })], [tick(T0)]);
      const east = state?.rolledOut.find((r) => r.phaseIndex === 1);
      expect(east?.definitions).toEqual([
        env("production", { enabled: false, value: null, rules: [rule("us-east"), rule("us-west"), beta] }),
      ]);
    });
  });

  describe("segment ENABLE/DISABLE keeps the user's rule (Flagsmith: only `enabled` is forced)", () => {
    it("a rule the change has for the segment keeps its value and rollout percentage; only enabled is forced", () => {
      const beta = { segment: "beta", enabled: false, value: { variant: "b" }, rolloutPercentage: 30 };
      const other = { segment: "eu", enabled: true, value: { variant: "eu" }, rolloutPercentage: 100 };
      const prod: Definition = { enabled: false, value: { variant: "a" }, rules: [other, beta] };
      const phases = [
        phase({ name: "beta", action: "ENABLE", targets: [{ environment: "production", segment: "beta" }] }),
      ];
      const changed = environments.map((e) => env(e, e === "production" ? prod : off));
      expect(computeAfter(phases, environments, changed)[2]).toEqual(
        env("production", { enabled: false, value: { variant: "a" }, rules: [{ ...beta, enabled: true }, other] }),
      );
    });
  });

  describe("the bake timer", () => {
    it("WAITING: a Tick before the end does nothing", () => {
      spec
        .given(waitingHistory())
        .when(tick(at(HOUR - 1)))
        .then([]);
    });

    it("WAITING: a Tick at the end moves on to the approval the next phase requires", () => {
      const events = run(waitingHistory(), [tick(at(HOUR))]).events.slice(waitingHistory().length);
      expect(types(events)).toEqual(["ReleasePhaseRolledOut", "ReleaseApprovalRequested"]);
      expect(events[1]?.data).toMatchObject({ phaseIndex: 2, approvalsRequired: 2 });
    });

    it("nextWakeAt is the end of the current bake, and null while paused or awaiting approval", () => {
      expect(nextWakeAt(run(waitingHistory(), []).state)).toBe(at(HOUR));
      expect(nextWakeAt(run(waitingHistory(), [pause(at(10))]).state)).toBeNull();
      expect(nextWakeAt(run(awaitingHistory(), []).state)).toBeNull();
    });

    it("remainingWait counts down while WAITING", () => {
      const state = run(waitingHistory(), []).state as Release;
      expect(remainingWaitMs(state.phases[1] as Release["phases"][number], at(HOUR / 4))).toBe((3 * HOUR) / 4);
    });
  });

  describe("pause and unpause", () => {
    it("WAITING: pause stops the timer and keeps the remaining time", () => {
      spec
        .given(waitingHistory())
        .when(pause(at(HOUR / 4)))
        .thenState((state) => {
          expect(state?.phases[1]).toMatchObject({ status: "PAUSED", waitEndsAt: null, remainingMs: (3 * HOUR) / 4 });
          expect(state?.actions).toEqual([
            { kind: "PAUSE", by: "alice", at: at(HOUR / 4), reason: "investigating", phaseIndex: 1 },
          ]);
        });
    });

    it("PAUSED: unpause three days later resumes with exactly the remaining time", () => {
      const threeDays = 72 * HOUR;
      const { state, events } = run(waitingHistory(), [
        pause(at(HOUR / 4)),
        tick(at(threeDays)),
        unpause(at(threeDays)),
      ]);
      expect(events.at(-1)).toMatchObject({
        type: "ReleaseUnpaused",
        data: { endsAt: at(threeDays + (3 * HOUR) / 4) },
      });
      expect(state?.phases[1]?.status).toBe("WAITING");
      expect(nextWakeAt(state)).toBe(at(threeDays + (3 * HOUR) / 4));
    });

    it("PAUSED: a Tick does not roll out (pause never lets the timer end)", () => {
      spec
        .given(run(waitingHistory(), [pause(at(1))]).events)
        .when(tick(at(10 * HOUR)))
        .then([]);
    });

    it("PAUSED: pausing again answers INVALID_STATE naming the state", () => {
      spec
        .given(run(waitingHistory(), [pause(at(1))]).events)
        .when(pause(at(2)))
        .thenThrows("INVALID_STATE", /PAUSED/);
    });

    it("AWAITING_APPROVAL: pause answers INVALID_STATE naming the state", () => {
      spec
        .given(awaitingHistory())
        .when(pause(at(HOUR + 1)))
        .thenThrows("INVALID_STATE", /AWAITING_APPROVAL/);
    });

    it("WAITING: unpause answers INVALID_STATE", () => {
      spec
        .given(waitingHistory())
        .when(unpause(at(1)))
        .thenThrows("INVALID_STATE", /not PAUSED/);
    });

    it("VIEWER: pause answers FORBIDDEN", () => {
      spec
        .given(waitingHistory())
        .when({ ...pause(at(1)), actor: viewer })
        .thenThrows("FORBIDDEN", /EDITOR/);
    });
  });

  describe("skip", () => {
    it("WAITING: skip ends the wait now, then the approval the phase requires (never bypassed)", () => {
      const { events, state } = run(waitingHistory(), [skip(at(5))]);
      expect(types(events.slice(waitingHistory().length))).toEqual([
        "ReleasePhaseWaitSkipped",
        "ReleasePhaseRolledOut",
        "ReleaseApprovalRequested",
      ]);
      expect(state?.phases[1]).toMatchObject({ status: "ROLLED_OUT", waitSkipped: true, rolledOutAt: at(5) });
      expect(state?.phases[2]?.status).toBe("AWAITING_APPROVAL");
    });

    it("PAUSED: skip ends the wait too", () => {
      const { events } = run(waitingHistory(), [pause(at(1)), skip(at(2))]);
      expect(types(events.slice(-3))).toEqual([
        "ReleasePhaseWaitSkipped",
        "ReleasePhaseRolledOut",
        "ReleaseApprovalRequested",
      ]);
    });

    it("AWAITING_APPROVAL: skip answers INVALID_STATE (skip never bypasses an approval)", () => {
      spec
        .given(awaitingHistory())
        .when(skip(at(HOUR + 1)))
        .thenThrows("INVALID_STATE", /AWAITING_APPROVAL/);
    });

    it("a skip of a phase that is no longer current answers INVALID_STATE (stale console)", () => {
      spec
        .given(awaitingHistory())
        .when(skip(at(HOUR + 1), 1))
        .thenThrows("INVALID_STATE", /no longer the current phase/);
    });

    it("a phase whose wait was skipped and needs an approval waits for it", () => {
      const phases = [
        phase({
          name: "gated",
          waitFor: "PT1H",
          waitForMs: HOUR,
          requiresApproval: true,
          targets: [{ environment: "production", segment: null }],
        }),
      ];
      const { state } = run([started(phases)], [tick(T0), skip(at(1))]);
      expect(state?.phases[0]?.status).toBe("AWAITING_APPROVAL");
    });
  });

  describe("approvals", () => {
    it("AWAITING_APPROVAL: one approval of two records it and waits for the second", () => {
      spec
        .given(awaitingHistory())
        .when(approve(bob, at(HOUR + 1), 2))
        .then([
          {
            type: "ReleasePhaseApproved",
            data: { releaseId: "r1", phaseIndex: 2, by: "bob", comment: "lgtm", at: at(HOUR + 1) },
          },
        ]);
    });

    it("AWAITING_APPROVAL: the second distinct approver rolls the phase out and starts the next bake", () => {
      const history = run(awaitingHistory(), [approve(bob, at(HOUR + 1))]).events;
      const { events, state } = run(history, [approve(carol, at(HOUR + 2))]);
      expect(types(events.slice(history.length))).toEqual([
        "ReleasePhaseApproved",
        "ReleasePhaseRolledOut",
        "ReleasePhaseWaitStarted",
      ]);
      expect(state?.phases[2]?.approvals.map((a) => a.by)).toEqual(["bob", "carol"]);
      expect(state?.rolledOut.at(-1)?.targets).toEqual([{ environment: "production", segment: "us-west" }]);
    });

    it("the same approver twice answers INVALID_STATE", () => {
      const history = run(awaitingHistory(), [approve(bob, at(HOUR + 1))]).events;
      spec
        .given(history)
        .when(approve(bob, at(HOUR + 2)))
        .thenThrows("INVALID_STATE", /already approved/);
    });

    it("the starter approving when selfApproval is FORBIDDEN answers SELF_APPROVAL_FORBIDDEN", () => {
      const history = run([started(statsigPhases, { selfApproval: "FORBIDDEN" })], [tick(T0), tick(at(HOUR))]).events;
      spec
        .given(history)
        .when(approve(starter, at(HOUR + 1)))
        .thenThrows("SELF_APPROVAL_FORBIDDEN");
    });

    it("names are compared as people read them: Bob after bob is the same approver (INVALID_STATE)", () => {
      const history = run(awaitingHistory(), [approve(bob, at(HOUR + 1))]).events;
      for (const name of ["Bob", " BOB ", "ｂｏｂ"]) {
        spec
          .given(history)
          .when(approve({ name, role: "APPROVER" }, at(HOUR + 2)))
          .thenThrows("INVALID_STATE", /already approved/);
      }
    });

    it("Starter is the starter: SELF_APPROVAL_FORBIDDEN whatever the case or width of the name", () => {
      const history = run([started(statsigPhases, { selfApproval: "FORBIDDEN" })], [tick(T0), tick(at(HOUR))]).events;
      for (const name of ["Starter", "STARTER", "ｓｔａｒｔｅｒ"]) {
        spec
          .given(history)
          .when(approve({ name, role: "APPROVER" }, at(HOUR + 1)))
          .thenThrows("SELF_APPROVAL_FORBIDDEN");
      }
    });

    it("a comment or reason over 2,000 characters is VALIDATION naming it", () => {
      spec
        .given(awaitingHistory())
        .when({ ...approve(bob, at(HOUR + 1)), data: { comment: "c".repeat(2_001) } } as ReleaseCommand)
        .thenThrows("VALIDATION", "comment: must be at most 2000 characters");
    });

    it("the starter may approve when selfApproval is ALLOWED", () => {
      spec
        .given(awaitingHistory())
        .when(approve(starter, at(HOUR + 1)))
        .thenState((state) => {
          expect(state?.phases[2]?.approvals).toHaveLength(1);
        });
    });

    it("WAITING: approve answers INVALID_STATE naming the state", () => {
      spec
        .given(waitingHistory())
        .when(approve(bob, at(1)))
        .thenThrows("INVALID_STATE", /WAITING/);
    });

    it("an EDITOR approving answers FORBIDDEN", () => {
      spec
        .given(awaitingHistory())
        .when(approve(alice, at(HOUR + 1)))
        .thenThrows("FORBIDDEN", /APPROVER/);
    });

    it("approving a phase that is no longer current answers INVALID_STATE", () => {
      spec
        .given(awaitingHistory())
        .when(approve(bob, at(HOUR + 1), 1))
        .thenThrows("INVALID_STATE", /no longer the current phase/);
    });
  });

  describe("completion", () => {
    it("the last rollout completes the release and empties currentPhaseIndex", () => {
      const history = run(awaitingHistory(), [approve(bob, at(HOUR + 1)), approve(carol, at(HOUR + 2))]).events;
      const { events, state } = run(history, [tick(at(3 * HOUR + 2))]);
      expect(types(events.slice(history.length))).toEqual(["ReleasePhaseRolledOut", "ReleaseCompleted"]);
      expect(state).toMatchObject({ status: "COMPLETED", currentPhaseIndex: null, endedAt: at(3 * HOUR + 2) });
      expect(state?.phases.map((p) => p.status)).toEqual(["ROLLED_OUT", "ROLLED_OUT", "ROLLED_OUT", "ROLLED_OUT"]);
    });

    it("a pipeline of on-enter phases completes in one step", () => {
      const phases = [phase({ name: "all", targets: environments.map((e) => ({ environment: e, segment: null })) })];
      const { events } = run([started(phases)], [tick(T0)]);
      expect(types(events)).toEqual(["ReleaseStarted", "ReleasePhaseRolledOut", "ReleaseCompleted"]);
    });

    it.each([
      ["approve", approve(bob, at(9 * HOUR))],
      ["pause", pause(at(9 * HOUR))],
      ["unpause", unpause(at(9 * HOUR))],
      ["skip", skip(at(9 * HOUR))],
      ["abort", abort(at(9 * HOUR))],
      ["fullRollout", fullRollout(at(9 * HOUR))],
    ])("COMPLETED: %s answers INVALID_STATE saying COMPLETED", (_name, command) => {
      const history = run(awaitingHistory(), [
        approve(bob, at(HOUR + 1)),
        approve(carol, at(HOUR + 2)),
        tick(at(4 * HOUR)),
      ]).events;
      spec
        .given(history)
        .when(command)
        .thenThrows("INVALID_STATE", /COMPLETED/);
    });
  });

  describe("abort", () => {
    it("IN_PROGRESS: abort reverts exactly the environments rolled out as a whole, and ends the release", () => {
      const { events, state } = run(awaitingHistory(), [abort(at(HOUR + 5))]);
      expect(events.at(-1)).toEqual({
        type: "ReleaseAborted",
        data: {
          releaseId: "r1",
          phaseIndex: 2,
          by: "alice",
          reason: "errors up",
          reverted: [env("development", off), env("staging", off)],
          at: at(HOUR + 5),
        },
      });
      expect(state).toMatchObject({ status: "ABORTED", currentPhaseIndex: null, abortReason: "errors up" });
      expect(state?.actions.at(-1)).toMatchObject({ kind: "ABORT", by: "alice", phaseIndex: 2 });
    });

    it("ABORTED: any later action answers INVALID_STATE (abort is irreversible)", () => {
      const history = run(awaitingHistory(), [abort(at(HOUR + 5))]).events;
      spec
        .given(history)
        .when(abort(at(HOUR + 6)))
        .thenThrows("INVALID_STATE", /ABORTED/);
      spec
        .given(history)
        .when(approve(bob, at(HOUR + 6)))
        .thenThrows("INVALID_STATE", /ABORTED/);
    });

    it("ABORTED: a Tick does nothing", () => {
      spec
        .given(run(waitingHistory(), [abort(at(1))]).events)
        .when(tick(at(10 * HOUR)))
        .then([]);
    });

    it("a VIEWER aborting answers FORBIDDEN", () => {
      spec
        .given(waitingHistory())
        .when(abort(at(1), viewer))
        .thenThrows("FORBIDDEN");
    });
  });

  describe("full rollout", () => {
    it("IN_PROGRESS: rolls every remaining phase out at once, bypassing waits and approvals, then completes", () => {
      const { events, state } = run(waitingHistory(), [fullRollout(at(10))]);
      expect(types(events.slice(waitingHistory().length))).toEqual([
        "ReleaseFullRolloutRequested",
        "ReleasePhaseRolledOut",
        "ReleasePhaseRolledOut",
        "ReleasePhaseRolledOut",
        "ReleaseCompleted",
      ]);
      expect(state?.status).toBe("COMPLETED");
      expect(state?.actions.at(-1)).toMatchObject({ kind: "FULL_ROLLOUT", by: "bob", phaseIndex: 1 });
    });

    it("an EDITOR answers FORBIDDEN (full rollout needs APPROVER)", () => {
      spec
        .given(waitingHistory())
        .when(fullRollout(at(1), alice))
        .thenThrows("FORBIDDEN", /APPROVER/);
    });
  });

  describe("what rolls out", () => {
    it("ENABLE/DISABLE phases serve the change with enabled forced", () => {
      const phases = [
        phase({ name: "dev", action: "ENABLE", targets: [{ environment: "development", segment: null }] }),
        phase({
          name: "prod",
          action: "DISABLE",
          waitFor: "PT1H",
          waitForMs: HOUR,
          targets: [{ environment: "production", segment: null }],
        }),
      ];
      const { events } = run([started(phases, { change: before, trigger: "START" })], [tick(T0)]);
      expect(events[1]).toMatchObject({
        type: "ReleasePhaseRolledOut",
        data: { phaseIndex: 0, definitions: [env("development", on)] },
      });
    });

    it("featureEffects: whole environments are stored on rollout, segments are not, completion stores after and unlocks", () => {
      const { events, state } = run(awaitingHistory(), [
        approve(bob, at(HOUR + 1)),
        approve(carol, at(HOUR + 2)),
        tick(at(4 * HOUR)),
      ]);
      const release = state as Release;
      const effects = events.map((e) => featureEffects(release, e));
      expect(effects[1]).toEqual([
        { type: "ApplyReleaseDefinitions", environments: [env("development", on)], cause: "ROLLOUT", phaseIndex: 0 },
      ]);
      const usWest = events.findIndex((e) => e.type === "ReleasePhaseRolledOut" && e.data.phaseIndex === 2);
      expect(effects[usWest]).toEqual([]);
      expect(effects.at(-1)).toEqual([
        { type: "ApplyReleaseDefinitions", environments: release.after, cause: "COMPLETE" },
        { type: "EndRelease", status: "COMPLETED" },
      ]);
    });

    it("featureEffects of an abort revert and unlock", () => {
      const { events, state } = run(waitingHistory(), [abort(at(1))]);
      expect(featureEffects(state as Release, events.at(-1) as ReleaseEvent)).toEqual([
        { type: "ApplyReleaseDefinitions", environments: [env("development", off)], cause: "REVERT" },
        { type: "EndRelease", status: "ABORTED" },
      ]);
    });

    it("toReleaseView exposes the rolled-out targets for serving", () => {
      const state = run(awaitingHistory(), []).state as Release;
      expect(toReleaseView(state).rolledOut.map((r) => r.phaseIndex)).toEqual([0, 1]);
    });
  });

  it("attributes people's events to them and automatic transitions to system", () => {
    const { events } = run(waitingHistory(), [skip(at(5))]);
    expect(events.map(eventActor)).toEqual(["starter", "system", "system", "alice", "system", "system"]);
  });

  it("counts every stored event in version", () => {
    const { events, state } = run(awaitingHistory(), [approve(bob, at(HOUR + 1))]);
    expect(state?.version).toBe(events.length);
  });
});

import { describe, expect, it } from "vitest";
import type { Actor, Definition, EnvironmentDefinition, Phase } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { ReleaseEvent, ReleaseStarted } from "./events.ts";
import {
  activeGuardrails,
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

  describe("rollback to a phase", () => {
    const rollback = (phaseIndex: number | null, now: string, actor: Actor = alice): ReleaseCommand => ({
      type: "RollbackToPhase",
      data: { phaseIndex, reason: "errors in us-west" },
      actor,
      now,
    });
    /** Statsig release up to phase 3 WAITING: dev, staging and us-west rolled out. */
    const phase3History = () =>
      run(awaitingHistory(), [approve(bob, at(HOUR + 1)), approve(carol, at(HOUR + 2))]).events;

    it("undoes the later phases, keeps the earlier ones, and goes on from the next phase with its wait started again", () => {
      const { events, state } = run(phase3History(), [rollback(0, at(2 * HOUR))]);
      const [rolledBack, restarted] = events.slice(-2);
      expect(rolledBack).toEqual({
        type: "ReleaseRolledBack",
        data: {
          releaseId: "r1",
          phaseIndex: 0,
          fromPhaseIndex: 3,
          by: "alice",
          reason: "errors in us-west",
          // staging was rolled out whole: back to `before`; us-west (a segment) was only served.
          reverted: [env("staging", off)],
          at: at(2 * HOUR),
        },
      });
      expect(restarted).toMatchObject({
        type: "ReleasePhaseWaitStarted",
        data: { phaseIndex: 1, endsAt: at(3 * HOUR), at: at(2 * HOUR) },
      });
      const release = state as Release;
      expect(release.currentPhaseIndex).toBe(1);
      expect(release.phases.map((p) => p.status)).toEqual(["ROLLED_OUT", "WAITING", "PENDING", "PENDING"]);
      expect(release.phases[2]).toMatchObject({ approvals: [], rolledOutAt: null, rolloutPercentage: 0 });
      expect(release.rolledOut.map((r) => r.phaseIndex)).toEqual([0]);
      expect(release.actions.at(-1)).toEqual({
        kind: "ROLLBACK_TO_PHASE",
        by: "alice",
        at: at(2 * HOUR),
        reason: "errors in us-west",
        phaseIndex: 0,
      });
      expect(toReleaseView(release).rolledOut.map((r) => r.phaseIndex)).toEqual([0]);
    });

    it("stores the reverted environments on the feature, as abort does", () => {
      const { events, state } = run(phase3History(), [rollback(0, at(2 * HOUR))]);
      const before = run(phase3History(), []).state as Release;
      expect(featureEffects(before, events.at(-2) as ReleaseEvent)).toEqual([
        { type: "ApplyReleaseDefinitions", environments: [env("staging", off)], cause: "REVERT" },
      ]);
      expect(state?.status).toBe("IN_PROGRESS");
    });

    it("puts back what a kept phase stored where a later phase rolled out the same environment", () => {
      const phases: Phase[] = [
        phase({ name: "prod", targets: [{ environment: "production", segment: null }] }),
        phase({ name: "prod off", action: "DISABLE", targets: [{ environment: "production", segment: null }] }),
        phase({
          name: "dev",
          waitFor: "PT1H",
          waitForMs: HOUR,
          targets: [{ environment: "development", segment: null }],
        }),
      ];
      const { events } = run([started(phases)], [tick(T0), rollback(0, at(5))]);
      expect(events.find((e) => e.type === "ReleaseRolledBack")?.data).toMatchObject({
        reverted: [env("production", on)],
      });
    });

    it("rolls back to the last rolled-out phase: the current phase starts its wait again", () => {
      const { events, state } = run(waitingHistory(), [tick(at(HOUR / 2)), rollback(0, at(HOUR / 2))]);
      expect(types(events).slice(-2)).toEqual(["ReleaseRolledBack", "ReleasePhaseWaitStarted"]);
      expect((state as Release).phases[1]?.waitEndsAt).toBe(at(HOUR + HOUR / 2));
    });

    it("stops a ramp after it and serves its units what the kept phases serve", () => {
      const rampPhases: Phase[] = [
        phase({ name: "dev", targets: [{ environment: "development", segment: null }] }),
        phase({
          name: "prod",
          targets: [{ environment: "production", segment: null }],
          ramp: { initialPercentage: 10, increaseBy: 30, every: "PT6H", everyMs: 6 * HOUR },
        }),
      ];
      const { state, events } = run([started(rampPhases)], [tick(T0), rollback(0, at(HOUR))]);
      // The ramp started again at once (the phase has no wait): 10% again, the clock from the rollback.
      expect(types(events).slice(-2)).toEqual(["ReleaseRolledBack", "ReleaseRampAdvanced"]);
      expect((state as Release).phases[1]).toMatchObject({ rolloutPercentage: 10, waitEndsAt: at(7 * HOUR) });
    });

    it("refuses a phase that has not rolled out, the current one, or none, naming the state", () => {
      spec
        .given(waitingHistory())
        .when(rollback(1, at(5)))
        .thenThrows("INVALID_STATE", "cannot roll back to phase 1: phase 1 (staging) is WAITING");
      spec
        .given(waitingHistory())
        .when(rollback(9, at(5)))
        .thenThrows("INVALID_STATE", "cannot roll back to phase 9");
      spec
        .given(waitingHistory())
        .when(rollback(null, at(5)))
        .thenThrows("VALIDATION", "phaseIndex");
    });

    it("refuses an ended release with INVALID_STATE, and a VIEWER with FORBIDDEN", () => {
      const ended = run(waitingHistory(), [abort(at(5))]).events;
      spec
        .given(ended)
        .when(rollback(0, at(6)))
        .thenThrows("INVALID_STATE", "the release is ABORTED");
      spec
        .given(waitingHistory())
        .when(rollback(0, at(6), viewer))
        .thenThrows("FORBIDDEN");
    });
  });

  describe("guardrails", () => {
    const errorRate = {
      name: "error rate",
      kind: "PROMETHEUS_QUERY" as const,
      url: "http://prom:9090",
      query: "sum(rate(errors[5m]))",
      comparator: "LT" as const,
      threshold: 0.05,
      interval: "PT1M",
      intervalMs: 60_000,
      failuresToTrip: 3,
      onFailure: "ABORT" as const,
    };
    const guarded: Phase[] = [
      phase({ name: "dev", targets: [{ environment: "development", segment: null }] }),
      phase({
        name: "prod",
        waitFor: "PT1H",
        waitForMs: HOUR,
        targets: [{ environment: "production", segment: null }],
        guardrails: [
          errorRate,
          {
            ...errorRate,
            name: "probe",
            kind: "HTTP_PROBE",
            query: null,
            comparator: null,
            threshold: null,
            onFailure: "PAUSE",
            failuresToTrip: 2,
          },
        ],
      }),
    ];
    /** dev rolled out, prod baking (its guardrails running) since T0. */
    const baking = () => run([started(guarded)], [tick(T0)]).events;
    const check = (name: string, passed: boolean, now: string, couldRun = true, phaseIndex = 1): ReleaseCommand => ({
      type: "RecordGuardrailCheck",
      data: {
        phaseIndex,
        name,
        passed,
        couldRun,
        result: passed ? "0.01 < 0.05" : couldRun ? "0.2 ≥ 0.05" : "connection refused",
      },
      actor: system,
      now,
    });
    const guardrail = (state: ReleaseState, name: string) =>
      (state as Release).phases[1]?.guardrails?.find((g) => g.name === name);

    it("runs only while the phase bakes or ramps", () => {
      expect(activeGuardrails(run([started(guarded)], []).state)).toBeNull();
      expect(activeGuardrails(run(baking(), []).state)?.guardrails.map((g) => g.name)).toEqual(["error rate", "probe"]);
      expect(activeGuardrails(run(baking(), [pause(at(5))]).state)).toBeNull();
    });

    it("runs while the phase ramps too, and a trip pauses the ramp with its share kept", () => {
      const ramped: Phase[] = [
        phase({ name: "dev", targets: [{ environment: "development", segment: null }] }),
        phase({
          name: "prod",
          targets: [{ environment: "production", segment: null }],
          ramp: { initialPercentage: 10, increaseBy: 30, every: "PT6H", everyMs: 6 * HOUR },
          guardrails: [{ ...errorRate, onFailure: "PAUSE", failuresToTrip: 1 }],
        }),
      ];
      const ramping = run([started(ramped)], [tick(T0)]);
      expect(activeGuardrails(ramping.state)?.phaseIndex).toBe(1);
      const { state } = run(ramping.events, [check("error rate", false, at(HOUR))]);
      expect((state as Release).phases[1]).toMatchObject({
        status: "PAUSED",
        rolloutPercentage: 10,
        remainingMs: 5 * HOUR,
      });
    });

    it("stores the first check, then only state changes: a pass after a pass stores nothing", () => {
      const first = run(baking(), [check("error rate", true, at(60_000))]);
      expect(types(first.events).at(-1)).toBe("ReleaseGuardrailChecked");
      expect(guardrail(first.state, "error rate")).toMatchObject({
        consecutiveFailures: 0,
        lastCheckedAt: at(60_000),
        lastResult: "0.01 < 0.05",
      });
      spec
        .given(first.events)
        .when(check("error rate", true, at(120_000)))
        .then([]);
    });

    it("counts consecutive failures; a pass after them resets the count (fails twice then passes: no trip)", () => {
      const { events, state } = run(baking(), [
        check("error rate", false, at(60_000)),
        check("error rate", false, at(120_000)),
        check("error rate", true, at(180_000)),
      ]);
      const checked = events
        .filter((e) => e.type === "ReleaseGuardrailChecked")
        .map((e) => (e.data as { consecutiveFailures: number }).consecutiveFailures);
      expect(checked).toEqual([1, 2, 0]);
      expect(state?.status).toBe("IN_PROGRESS");
      expect((state as Release).phases[1]?.status).toBe("WAITING");
      expect(types(events)).not.toContain("ReleaseGuardrailTripped");
    });

    it("trips on the failuresToTrip-th consecutive failure: ABORT as system, naming the guardrail", () => {
      const { events, state } = run(baking(), [
        check("error rate", false, at(60_000)),
        check("error rate", false, at(120_000)),
        check("error rate", false, at(180_000)),
      ]);
      expect(types(events).slice(-3)).toEqual(["ReleaseGuardrailChecked", "ReleaseGuardrailTripped", "ReleaseAborted"]);
      const aborted = events.at(-1) as ReleaseEvent;
      expect(eventActor(aborted)).toBe("system");
      expect((aborted.data as { reason: string }).reason).toContain(
        'guardrail "error rate" tripped after 3 consecutive failed checks',
      );
      expect((aborted.data as { reverted: unknown }).reverted).toEqual([env("development", off)]);
      expect(state?.status).toBe("ABORTED");
      expect(state?.actions.at(-1)).toMatchObject({ kind: "ABORT", by: "system" });
    });

    it("PAUSE keeps the remaining bake time, as a person's pause does", () => {
      const { events, state } = run(baking(), [check("probe", false, at(60_000)), check("probe", false, at(120_000))]);
      expect(types(events).slice(-2)).toEqual(["ReleaseGuardrailTripped", "ReleasePaused"]);
      expect((state as Release).phases[1]).toMatchObject({ status: "PAUSED", remainingMs: HOUR - 120_000 });
      expect(state?.actions.at(-1)).toMatchObject({ kind: "PAUSE", by: "system" });
    });

    it("a check that could not run only pauses, even when the guardrail says ABORT", () => {
      const { events, state } = run(baking(), [
        check("error rate", false, at(60_000)),
        check("error rate", false, at(120_000), false),
        check("error rate", false, at(180_000)),
      ]);
      expect(types(events).slice(-2)).toEqual(["ReleaseGuardrailTripped", "ReleasePaused"]);
      expect(events.at(-2)?.data).toMatchObject({ outcome: "PAUSE" });
      expect(events.at(-1)?.data).toMatchObject({ reason: expect.stringContaining("could not run, so it pauses") });
      expect(state?.status).toBe("IN_PROGRESS");
    });

    it("unpause starts counting afresh; stale results (another phase, paused, ended) change nothing", () => {
      const tripped = run(baking(), [check("probe", false, at(60_000)), check("probe", false, at(120_000))]);
      const resumed = run(tripped.events, [unpause(at(200_000)), check("probe", false, at(260_000))]);
      expect(guardrail(resumed.state, "probe")?.consecutiveFailures).toBe(1);
      expect(resumed.state && (resumed.state as Release).phases[1]?.status).toBe("WAITING");
      spec
        .given(tripped.events)
        .when(check("probe", false, at(130_000)))
        .then([]);
      spec
        .given(baking())
        .when(check("probe", false, at(5), true, 0))
        .then([]);
      spec
        .given(baking())
        .when(check("nope", false, at(5)))
        .then([]);
      spec
        .given(run(baking(), [abort(at(5))]).events)
        .when(check("probe", false, at(6)))
        .then([]);
    });
  });

  describe("a ramp", () => {
    // dev on enter; production ramps 10% → +30% every 6 h after an approval (10, 40, 70, 100).
    const rampPhases: Phase[] = [
      phase({ name: "dev", targets: [{ environment: "development", segment: null }] }),
      phase({
        name: "production",
        requiresApproval: true,
        targets: [{ environment: "production", segment: null }],
        ramp: { initialPercentage: 10, increaseBy: 30, every: "PT6H", everyMs: 6 * HOUR },
      }),
    ];
    /** Phase 1 approved at T0: its ramp started at 10%. */
    const rampingHistory = () => run([started(rampPhases)], [tick(T0), approve(bob, T0)]).events;
    const phaseOf = (state: ReleaseState, index = 1) => (state as Release).phases[index];
    const steps = (events: ReleaseEvent[]) =>
      events.filter((e) => e.type === "ReleaseRampAdvanced").map((e) => (e.data as { percentage: number }).percentage);

    it("starts where the phase would roll out (after its approval), at initialPercentage, WAITING for the next step", () => {
      const { events, state } = run([started(rampPhases)], [tick(T0), approve(bob, T0)]);
      expect(types(events).slice(-2)).toEqual(["ReleasePhaseApproved", "ReleaseRampAdvanced"]);
      expect(events.at(-1)?.data).toEqual({
        releaseId: "r1",
        phaseIndex: 1,
        percentage: 10,
        nextStepAt: at(6 * HOUR),
        at: T0,
      });
      expect(phaseOf(state)).toMatchObject({ status: "WAITING", rolloutPercentage: 10, waitEndsAt: at(6 * HOUR) });
      expect(nextWakeAt(state)).toBe(at(6 * HOUR));
      expect(featureEffects(state as Release, events.at(-1) as ReleaseEvent)).toEqual([]);
    });

    it("adds increaseBy every `every`, one event per step, and rolls out at 100", () => {
      const { events, state } = run(rampingHistory(), [
        tick(at(6 * HOUR - 1)),
        tick(at(6 * HOUR)),
        tick(at(12 * HOUR)),
        tick(at(18 * HOUR)),
      ]);
      expect(steps(events)).toEqual([10, 40, 70, 100]);
      expect(types(events).slice(-3)).toEqual(["ReleaseRampAdvanced", "ReleasePhaseRolledOut", "ReleaseCompleted"]);
      expect(phaseOf(state)).toMatchObject({ status: "ROLLED_OUT", rolloutPercentage: 100 });
      expect(state?.status).toBe("COMPLETED");
    });

    it("a late Tick takes one step and counts the next `every` from it (no burst after an outage)", () => {
      const { events, state } = run(rampingHistory(), [tick(at(30 * HOUR))]);
      expect(steps(events)).toEqual([10, 40]);
      expect(phaseOf(state)?.waitEndsAt).toBe(at(36 * HOUR));
    });

    it("never goes past 100 and keeps fractional steps exact", () => {
      const odd: Phase[] = [
        phase({
          name: "p",
          targets: [{ environment: "production", segment: null }],
          ramp: { initialPercentage: 0.1, increaseBy: 33.3, every: "PT1S", everyMs: 1000 },
        }),
      ];
      const { events } = run(
        [started(odd)],
        [0, 1, 2, 3, 4].map((s) => tick(at(s * 1000))),
      );
      expect(steps(events)).toEqual([0.1, 33.4, 66.7, 100]);
    });

    it("pause stops the ramp's clock with the remaining time; unpause resumes it", () => {
      const { events, state } = run(rampingHistory(), [pause(at(2 * HOUR)), tick(at(20 * HOUR))]);
      expect(steps(events)).toEqual([10]);
      expect(phaseOf(state)).toMatchObject({ status: "PAUSED", remainingMs: 4 * HOUR, rolloutPercentage: 10 });
      expect(nextWakeAt(state)).toBeNull();
      const resumed = run(events, [unpause(at(30 * HOUR)), tick(at(34 * HOUR - 1)), tick(at(34 * HOUR))]);
      expect(steps(resumed.events)).toEqual([10, 40]);
      expect(phaseOf(resumed.state)?.waitEndsAt).toBe(at(40 * HOUR));
    });

    it("serving keeps the ramped share while paused", () => {
      const { state } = run(rampingHistory(), [tick(at(6 * HOUR)), pause(at(7 * HOUR))]);
      const ramping = toReleaseView(state as Release).rolledOut.find((r) => r.phaseIndex === 1);
      expect(ramping).toMatchObject({ percentage: 40, targets: [{ environment: "production", segment: null }] });
    });

    it("skip jumps to 100: the phase rolls out now (its approval was given before the ramp)", () => {
      for (const history of [rampingHistory(), run(rampingHistory(), [pause(at(HOUR))]).events]) {
        const { events, state } = run(history, [skip(at(2 * HOUR))]);
        expect(types(events).slice(-3)).toEqual([
          "ReleasePhaseWaitSkipped",
          "ReleasePhaseRolledOut",
          "ReleaseCompleted",
        ]);
        expect(state?.status).toBe("COMPLETED");
      }
    });

    it("full rollout ends the ramp at once", () => {
      const { events } = run(rampingHistory(), [fullRollout(at(HOUR))]);
      expect(types(events).slice(-3)).toEqual([
        "ReleaseFullRolloutRequested",
        "ReleasePhaseRolledOut",
        "ReleaseCompleted",
      ]);
    });

    it("serving sees the ramping phase with its percentage; the feature stores nothing until it rolls out", () => {
      const state = run(rampingHistory(), []).state as Release;
      const view = toReleaseView(state);
      expect(view.rolledOut.map((r) => [r.phaseIndex, "percentage" in r ? r.percentage : 100])).toEqual([
        [0, 100],
        [1, 10],
      ]);
      expect(state.rolledOut.map((r) => r.phaseIndex)).toEqual([0]);
    });

    it("abort while ramping reverts only what rolled out whole (the ramping phase was never stored)", () => {
      const { events } = run(rampingHistory(), [abort(at(HOUR))]);
      expect(events.at(-1)).toMatchObject({
        type: "ReleaseAborted",
        data: { reverted: [env("development", off)] },
      });
    });

    it("an initialPercentage of 100 rolls out at once, without a ramp event", () => {
      const full: Phase[] = [
        phase({
          name: "p",
          targets: [{ environment: "production", segment: null }],
          ramp: { initialPercentage: 100, increaseBy: 10, every: "PT1H", everyMs: HOUR },
        }),
      ];
      expect(types(run([started(full)], [tick(T0)]).events)).toEqual([
        "ReleaseStarted",
        "ReleasePhaseRolledOut",
        "ReleaseCompleted",
      ]);
    });

    it("rolloutPercentage is 0 before a phase rolls out and 100 after, without a ramp too", () => {
      const state = run(waitingHistory(), []).state as Release;
      expect(state.phases.map((p) => p.rolloutPercentage)).toEqual([100, 0, 0, 0]);
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

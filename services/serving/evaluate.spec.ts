import { describe, expect, it } from "vitest";
import type { Definition, EnvironmentDefinition, Rule, Segment } from "../core/model.ts";
import {
  type EvaluateInput,
  evaluate,
  evaluateDetailed,
  inRamp,
  type ReleaseView,
  segmentMatches,
  type Unit,
} from "./evaluate.ts";

const segments: Segment[] = [
  { key: "beta", attribute: "plan", operator: "IN", values: ["beta"] },
  { key: "us-west", attribute: "region", operator: "IN", values: ["us-west-1", "us-west-2"] },
  { key: "paying", attribute: "plan", operator: "NOT_IN", values: ["free"] },
  { key: "vip", attribute: "tags", operator: "IN", values: ["vip", "42", "true"] },
];

const rule = (segment: string, extra: Partial<Rule> = {}): Rule => ({
  segment,
  enabled: true,
  value: null,
  rolloutPercentage: 100,
  ...extra,
});
const definition = (extra: Partial<Definition> = {}): Definition => ({
  enabled: true,
  value: null,
  rules: [],
  ...extra,
});

const feature = (production: Definition, staging: Definition = definition({ enabled: false })) => ({
  key: "new-checkout",
  environments: [
    { environment: "staging", definition: staging },
    { environment: "production", definition: production },
  ],
});

const run = (input: Partial<EvaluateInput> & Pick<EvaluateInput, "feature">) =>
  evaluate({
    release: null,
    segments,
    environment: "production",
    unit: { id: "user-1", attributes: {} },
    ...input,
  });
const attrs = (attributes: Record<string, unknown>, id = "user-1") => ({ id, attributes });

describe("evaluate", () => {
  describe("without a release", () => {
    it("answers NOT_FOUND for an unknown feature, or an environment the feature does not have", () => {
      const notFound = { enabled: false, value: null, reason: "NOT_FOUND" };
      expect(run({ feature: null })).toEqual(notFound);
      expect(run({ feature: feature(definition()), environment: "qa" })).toEqual(notFound);
    });

    it("serves a disabled definition's matching rule first (a segment override works while the default is off)", () => {
      const off = definition({ enabled: false, value: { color: "grey" }, rules: [rule("beta")] });
      expect(run({ feature: feature(off), unit: attrs({ plan: "beta" }) })).toMatchObject({
        enabled: true,
        reason: "RULE:beta",
      });
      expect(run({ feature: feature(off), unit: attrs({ plan: "pro" }) })).toEqual({
        enabled: false,
        value: { color: "grey" },
        reason: "DEFAULT",
      });
    });

    it("serves an enabled definition without rules as on with its value", () => {
      expect(run({ feature: feature(definition({ value: { color: "green" } })) })).toEqual({
        enabled: true,
        value: { color: "green" },
        reason: "DEFAULT",
      });
    });

    it("serves the environment asked for", () => {
      const f = feature(definition(), definition({ enabled: false, value: "staging" }));
      expect(run({ feature: f, environment: "staging" })).toEqual({
        enabled: false,
        value: "staging",
        reason: "DEFAULT",
      });
    });

    it("serves a matching rule's enabled and value", () => {
      const d = definition({ value: "default", rules: [rule("beta", { enabled: false, value: "beta" })] });
      expect(run({ feature: feature(d), unit: attrs({ plan: "beta" }) })).toEqual({
        enabled: false,
        value: "beta",
        reason: "RULE:beta",
      });
    });

    it("serves the definition's value when the matching rule has none", () => {
      const d = definition({ value: "default", rules: [rule("beta")] });
      expect(run({ feature: feature(d), unit: attrs({ plan: "beta" }) })).toEqual({
        enabled: true,
        value: "default",
        reason: "RULE:beta",
      });
    });

    it("serves the default when no rule matches", () => {
      const d = definition({ value: "default", rules: [rule("beta", { enabled: false })] });
      expect(run({ feature: feature(d), unit: attrs({ plan: "pro" }) })).toEqual({
        enabled: true,
        value: "default",
        reason: "DEFAULT",
      });
    });

    it("tries rules in order: the first matching one wins", () => {
      const d = definition({
        rules: [
          rule("us-west", { value: "west" }),
          rule("beta", { value: "beta" }),
          rule("paying", { value: "paying" }),
        ],
      });
      const serve = (attributes: Record<string, unknown>) => run({ feature: feature(d), unit: attrs(attributes) });
      expect(serve({ plan: "beta", region: "us-west-2" })).toMatchObject({ value: "west", reason: "RULE:us-west" });
      expect(serve({ plan: "beta", region: "eu" })).toMatchObject({ value: "beta", reason: "RULE:beta" });
      expect(serve({ plan: "pro" })).toMatchObject({ value: "paying", reason: "RULE:paying" });
      expect(serve({ plan: "free" })).toMatchObject({ value: null, reason: "DEFAULT" });
    });

    it("never matches a rule on a segment the project does not have", () => {
      const d = definition({ rules: [rule("gone", { enabled: false })] });
      expect(run({ feature: feature(d), unit: attrs({ plan: "beta" }) })).toMatchObject({ reason: "DEFAULT" });
    });

    it("accepts a unit without attributes", () => {
      const d = definition({ rules: [rule("paying", { value: "paying" })] });
      expect(run({ feature: feature(d), unit: { id: "u" } })).toMatchObject({ reason: "RULE:paying" });
      expect(run({ feature: feature(d), unit: { id: "u", attributes: null } })).toMatchObject({
        reason: "RULE:paying",
      });
    });

    describe("rollout percentage", () => {
      const atPercent = (rolloutPercentage: number, value: unknown = "beta") =>
        feature(definition({ value: "default", rules: [rule("beta", { rolloutPercentage, value })] }));
      const beta = (id: string) => attrs({ plan: "beta" }, id);

      it("gives the same unit the same answer every time", () => {
        const answers = new Set(
          Array.from({ length: 20 }, () => JSON.stringify(run({ feature: atPercent(50), unit: beta("user-7") }))),
        );
        expect(answers.size).toBe(1);
      });

      it("lets a unit in when its bucket is below the percentage (known units)", () => {
        // bucket("new-checkout:beta:user-2") = 10.27, bucket("new-checkout:beta:user-1") = 85.46
        expect(run({ feature: atPercent(10.28), unit: beta("user-2") })).toEqual({
          enabled: true,
          value: "beta",
          reason: "RULE:beta",
        });
        expect(run({ feature: atPercent(10.27), unit: beta("user-2") })).toEqual({
          enabled: false,
          value: "default",
          reason: "RULE:beta",
        });
        expect(run({ feature: atPercent(85.47), unit: beta("user-1") })).toMatchObject({ enabled: true });
        expect(run({ feature: atPercent(85.46), unit: beta("user-1") })).toMatchObject({ enabled: false });
      });

      it("lets nobody in at 0% and everybody at 100%", () => {
        const units = Array.from({ length: 500 }, (_, i) => beta(`u${i}`));
        expect(units.some((unit) => run({ feature: atPercent(0), unit }).enabled)).toBe(false);
        expect(units.every((unit) => run({ feature: atPercent(100), unit }).enabled)).toBe(true);
      });

      it("lets about 30% of 10,000 units in at 30% (within ±2%)", () => {
        let enabled = 0;
        for (let i = 0; i < 10_000; i++)
          if (run({ feature: atPercent(30), unit: beta(`user-${i}`) }).enabled) enabled++;
        expect(enabled).toBeGreaterThanOrEqual(2_800);
        expect(enabled).toBeLessThanOrEqual(3_200);
      });

      it("buckets each feature independently", () => {
        const other = { ...atPercent(50), key: "other-feature" };
        let both = 0;
        for (let i = 0; i < 10_000; i++) {
          const unit = beta(`user-${i}`);
          if (run({ feature: atPercent(50), unit }).enabled && run({ feature: other, unit }).enabled) both++;
        }
        expect(both).toBeGreaterThanOrEqual(2_300);
        expect(both).toBeLessThanOrEqual(2_700);
      });

      it("does not fall through to later rules when a unit fails the matching rule's percentage", () => {
        const f = feature(
          definition({
            value: "default",
            rules: [rule("beta", { rolloutPercentage: 0 }), rule("paying", { value: "paying" })],
          }),
        );
        expect(run({ feature: f, unit: beta("user-1") })).toEqual({
          enabled: false,
          value: "default",
          reason: "RULE:beta",
        });
      });
    });
  });

  describe("during a release", () => {
    const before = definition({ enabled: false, value: "old" });
    const after = definition({ value: "new" });
    const current = feature(before);
    const rolledOut = (
      phaseIndex: number,
      targets: { environment: string; segment: string | null }[],
      definitions: EnvironmentDefinition[] = [{ environment: "production", definition: after }],
    ) => ({ phaseIndex, targets, definitions });
    const release = (phases: ReleaseView["rolledOut"], status: ReleaseView["status"] = "IN_PROGRESS"): ReleaseView => ({
      id: "r1",
      status,
      rolledOut: phases,
    });
    const westOnly = release([rolledOut(0, [{ environment: "production", segment: "us-west" }])]);

    it("serves the new definition to a unit matching a rolled-out segment target", () => {
      expect(run({ feature: current, release: westOnly, unit: attrs({ region: "us-west-1" }) })).toEqual({
        enabled: true,
        value: "new",
        reason: "RELEASE:r1:PHASE:0",
      });
    });

    it("serves the stored definition to a unit outside the rolled-out segment", () => {
      expect(run({ feature: current, release: westOnly, unit: attrs({ region: "eu" }) })).toEqual({
        enabled: false,
        value: "old",
        reason: "DEFAULT",
      });
    });

    it("serves every unit the new definition once the whole environment rolled out", () => {
      const whole = release([rolledOut(0, [{ environment: "production", segment: null }])]);
      for (const unit of [attrs({}), attrs({ region: "eu" }, "u2"), attrs({ region: "us-west-1" }, "u3")]) {
        expect(run({ feature: current, release: whole, unit })).toEqual({
          enabled: true,
          value: "new",
          reason: "RELEASE:r1:PHASE:0",
        });
      }
    });

    it("leaves other environments on their stored definition", () => {
      const whole = release([rolledOut(0, [{ environment: "production", segment: null }])]);
      expect(run({ feature: current, release: whole, environment: "staging" })).toMatchObject({ reason: "DEFAULT" });
    });

    it("serves the last rolled-out phase covering the unit", () => {
      const forced = definition({ value: "forced" });
      const phases = release([
        rolledOut(
          1,
          [{ environment: "production", segment: "beta" }],
          [{ environment: "production", definition: forced }],
        ),
        rolledOut(0, [{ environment: "production", segment: "us-west" }]),
      ]);
      expect(run({ feature: current, release: phases, unit: attrs({ region: "us-west-1", plan: "beta" }) })).toEqual({
        enabled: true,
        value: "forced",
        reason: "RELEASE:r1:PHASE:1",
      });
      expect(run({ feature: current, release: phases, unit: attrs({ region: "us-west-1", plan: "pro" }) })).toEqual({
        enabled: true,
        value: "new",
        reason: "RELEASE:r1:PHASE:0",
      });
    });

    it("keeps the RELEASE reason whatever the served definition's rules or enabled say", () => {
      const withRule = definition({ value: "new", rules: [rule("beta", { enabled: false, value: "beta-new" })] });
      const disabled = definition({ enabled: false, value: "off" });
      const r = (d: Definition) =>
        release([
          rolledOut(2, [{ environment: "production", segment: null }], [{ environment: "production", definition: d }]),
        ]);
      expect(run({ feature: current, release: r(withRule), unit: attrs({ plan: "beta" }) })).toEqual({
        enabled: false,
        value: "beta-new",
        reason: "RELEASE:r1:PHASE:2",
      });
      expect(run({ feature: current, release: r(disabled) })).toEqual({
        enabled: false,
        value: "off",
        reason: "RELEASE:r1:PHASE:2",
      });
    });

    describe("while a phase ramps", () => {
      const ramping = (percentage: number, id = "r1"): ReleaseView => ({
        id,
        status: "IN_PROGRESS",
        rolledOut: [{ ...rolledOut(0, [{ environment: "production", segment: null }]), percentage }],
      });
      const units = Array.from({ length: 10_000 }, (_, i) => attrs({}, `unit-${i}`));
      const servedNew = (view: ReleaseView): Set<string> =>
        new Set(
          units.filter((unit) => run({ feature: current, release: view, unit }).value === "new").map((unit) => unit.id),
        );

      it("serves the share of units the ramp has reached, naming the percentage in the reason", () => {
        for (const percentage of [1, 5, 25, 50, 99]) {
          const share = servedNew(ramping(percentage)).size / 100;
          expect(Math.abs(share - percentage)).toBeLessThanOrEqual(2);
        }
        const inside = units.find((unit) => inRamp("r1", unit.id, 25));
        const outside = units.find((unit) => !inRamp("r1", unit.id, 25));
        expect(run({ feature: current, release: ramping(25), unit: inside })).toEqual({
          enabled: true,
          value: "new",
          reason: "RELEASE:r1:PHASE:0:RAMP:25",
        });
        expect(run({ feature: current, release: ramping(25), unit: outside })).toEqual({
          enabled: false,
          value: "old",
          reason: "DEFAULT",
        });
      });

      it("keeps a unit that is in as the ramp grows (stable bucketing keyed by the release)", () => {
        let previous = new Set<string>();
        for (const percentage of [5, 10, 30, 60, 99.5]) {
          const now = servedNew(ramping(percentage));
          for (const id of previous) expect(now.has(id)).toBe(true);
          previous = now;
        }
      });

      it("buckets by the release: another release of the feature picks other units", () => {
        const a = servedNew(ramping(50, "f1.1"));
        const b = servedNew(ramping(50, "f1.2"));
        const overlap = [...a].filter((id) => b.has(id)).length;
        expect(overlap / a.size).toBeGreaterThan(0.4);
        expect(overlap / a.size).toBeLessThan(0.6);
      });

      it("lets a unit outside the ramp fall through to an earlier rolled-out phase", () => {
        const earlier = definition({ value: "earlier" });
        const view: ReleaseView = {
          id: "r1",
          status: "IN_PROGRESS",
          rolledOut: [
            rolledOut(
              0,
              [{ environment: "production", segment: null }],
              [{ environment: "production", definition: earlier }],
            ),
            { ...rolledOut(1, [{ environment: "production", segment: null }]), percentage: 10 },
          ],
        };
        const outside = units.find((unit) => !inRamp("r1", unit.id, 10));
        expect(run({ feature: current, release: view, unit: outside })).toMatchObject({
          value: "earlier",
          reason: "RELEASE:r1:PHASE:0",
        });
      });

      it("reports the ramp's percentage as the deciding percentage", () => {
        const inside = units.find((unit) => inRamp("r1", unit.id, 40)) ?? units[0];
        const detailed = evaluateDetailed({
          feature: current,
          release: ramping(40),
          segments,
          environment: "production",
          unit: inside as Unit,
        });
        expect(detailed).toMatchObject({ rolloutPercentage: 40, phaseIndex: 0 });
      });
    });

    it("serves an ended release's outcome until the feature stores it (no flicker back to the old definition)", () => {
      const west = [rolledOut(0, [{ environment: "production", segment: "us-west" }])];
      const completed: ReleaseView = {
        ...release(west, "COMPLETED"),
        outcome: [{ environment: "production", definition: after }],
      };
      expect(run({ feature: current, release: completed, unit: attrs({ region: "eu" }) })).toEqual({
        enabled: true,
        value: "new",
        reason: "DEFAULT",
      });
      const aborted: ReleaseView = {
        ...release(west, "ABORTED"),
        outcome: [{ environment: "production", definition: before }],
      };
      expect(run({ feature: feature(after), release: aborted, unit: attrs({ region: "us-west-1" }) })).toEqual({
        enabled: false,
        value: "old",
        reason: "DEFAULT",
      });
    });

    it("ignores the rolled-out targets of a completed or aborted release", () => {
      const whole = [rolledOut(0, [{ environment: "production", segment: null }])];
      for (const status of ["COMPLETED", "ABORTED"] as const) {
        expect(run({ feature: current, release: release(whole, status) })).toEqual({
          enabled: false,
          value: "old",
          reason: "DEFAULT",
        });
      }
    });

    it("serves the stored definition before any phase rolled out", () => {
      expect(run({ feature: current, release: release([]) })).toMatchObject({ value: "old", reason: "DEFAULT" });
    });

    it("skips a phase that has no definition for the environment", () => {
      const odd = release([rolledOut(0, [{ environment: "production", segment: null }], [])]);
      expect(run({ feature: current, release: odd })).toMatchObject({ value: "old", reason: "DEFAULT" });
    });

    it("answers NOT_FOUND for an environment the feature does not have, release or not", () => {
      const qa = release([
        rolledOut(0, [{ environment: "qa", segment: null }], [{ environment: "qa", definition: after }]),
      ]);
      expect(run({ feature: current, release: qa, environment: "qa" })).toMatchObject({ reason: "NOT_FOUND" });
    });
  });
});

describe("segmentMatches", () => {
  const [beta, , paying, vip] = segments as [Segment, Segment, Segment, Segment];

  it("IN: matches a listed value, and not a missing, null, object or unlisted one", () => {
    expect(segmentMatches(beta, { plan: "beta" })).toBe(true);
    expect(segmentMatches(beta, { plan: "Beta" })).toBe(false);
    expect(segmentMatches(beta, {})).toBe(false);
    expect(segmentMatches(beta, { plan: null })).toBe(false);
    expect(segmentMatches(beta, { plan: { name: "beta" } })).toBe(false);
  });

  it("IN: compares numbers and booleans as text, and arrays element by element", () => {
    expect(segmentMatches(vip, { tags: 42 })).toBe(true);
    expect(segmentMatches(vip, { tags: true })).toBe(true);
    expect(segmentMatches(vip, { tags: ["new", "vip"] })).toBe(true);
    expect(segmentMatches(vip, { tags: ["new", 42] })).toBe(true);
    expect(segmentMatches(vip, { tags: ["new"] })).toBe(false);
    expect(segmentMatches(vip, { tags: [] })).toBe(false);
    expect(segmentMatches(vip, { tags: [["vip"]] })).toBe(false);
  });

  it("NOT_IN: matches a missing attribute or one with no listed value", () => {
    expect(segmentMatches(paying, {})).toBe(true);
    expect(segmentMatches(paying, { plan: null })).toBe(true);
    expect(segmentMatches(paying, { plan: "pro" })).toBe(true);
    expect(segmentMatches(paying, { plan: "free" })).toBe(false);
    expect(segmentMatches(paying, { plan: ["pro", "free"] })).toBe(false);
  });

  it("reads only the unit's own attributes", () => {
    const inherited = Object.create({ plan: "beta" }) as Record<string, unknown>;
    expect(segmentMatches(beta, inherited)).toBe(false);
  });
});

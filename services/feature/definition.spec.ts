import { describe, expect, it } from "vitest";
import { DomainError } from "../core/errors.ts";
import { disabledDefinition, type EnvironmentDefinition } from "../core/model.ts";
import type { Project } from "../project/project.ts";
import {
  changedDefinitions,
  type DefinitionInput,
  type EnvironmentDefinitionInput,
  normalizeDefinitions,
  requireJson,
  VALUE_MAX_BYTES,
} from "./definition.ts";

const project: Project = {
  id: "p1",
  name: "Checkout",
  environments: ["development", "staging", "production"],
  segments: [
    { key: "us-west", attribute: "region", operator: "IN", values: ["us-west"] },
    { key: "beta", attribute: "plan", operator: "IN", values: ["beta"] },
  ],
  createdAt: "2026-11-21T10:00:00.000Z",
  version: 1,
};

const on = { enabled: true, value: null, rules: [] };
const config = (value: unknown) => ({ enabled: true, value, rules: [] });

/** The VALIDATION error `fn` throws: its field and message. */
function refusal(fn: () => unknown): { field: string | undefined; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError && error.code === "VALIDATION")
      return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error("expected a VALIDATION error, but nothing was thrown");
}

const gate = (inputs: EnvironmentDefinitionInput[], base?: EnvironmentDefinition[]) =>
  normalizeDefinitions(project, "GATE", inputs, base);
const dynamic = (inputs: EnvironmentDefinitionInput[]) => normalizeDefinitions(project, "DYNAMIC_CONFIG", inputs);
const inProduction = (definition: DefinitionInput): EnvironmentDefinitionInput[] => [
  { environment: "production", definition },
];

describe("normalizeDefinitions", () => {
  describe("at creation (no base)", () => {
    it("gives every project environment a disabled definition with no value when none is given", () => {
      const expected = project.environments.map((environment) => ({ environment, definition: disabledDefinition() }));
      expect(normalizeDefinitions(project, "GATE", undefined)).toEqual(expected);
      expect(normalizeDefinitions(project, "GATE", null)).toEqual(expected);
      expect(gate([])).toEqual(expected);
    });

    it("returns the given environments in the project's order, the missing ones disabled", () => {
      expect(
        gate([
          { environment: "production", definition: { enabled: true } },
          { environment: "development", definition: { enabled: true, rules: null } },
        ]),
      ).toEqual([
        { environment: "development", definition: on },
        { environment: "staging", definition: disabledDefinition() },
        { environment: "production", definition: on },
      ]);
    });
  });

  describe("at update (with base)", () => {
    const base: EnvironmentDefinition[] = project.environments.map((environment) => ({
      environment,
      definition: { enabled: environment !== "production", value: null, rules: [] },
    }));

    it("keeps the base definition of environments not given", () => {
      expect(gate([{ environment: "production", definition: { enabled: true } }], base)).toEqual([
        base[0],
        base[1],
        { environment: "production", definition: on },
      ]);
    });

    it("falls back to disabled for an environment the base lacks", () => {
      expect(gate([], base.slice(0, 2))[2]).toEqual({ environment: "production", definition: disabledDefinition() });
    });
  });

  it("refuses an environment the project does not have", () => {
    expect(
      refusal(() =>
        gate([
          { environment: "staging", definition: on },
          { environment: "qa", definition: on },
        ]),
      ),
    ).toEqual({
      field: "environments[1].environment",
      message:
        'environments[1].environment: unknown environment "qa" (project environments: development, staging, production)',
    });
  });

  it("refuses the same environment twice", () => {
    expect(
      refusal(() =>
        gate([
          { environment: "staging", definition: on },
          { environment: "staging", definition: { enabled: false } },
        ]),
      ).message,
    ).toBe('environments[1].environment: duplicate environment "staging"');
  });

  it("refuses a definition without a boolean enabled", () => {
    expect(refusal(() => gate(inProduction({ enabled: "yes" } as unknown as DefinitionInput))).message).toBe(
      "environments[0].definition.enabled: must be a boolean",
    );
    expect(refusal(() => gate([{ environment: "production" } as unknown as EnvironmentDefinitionInput])).message).toBe(
      "environments[0].definition: is required",
    );
  });

  it("names fields under the given prefix", () => {
    expect(
      refusal(() =>
        normalizeDefinitions(project, "GATE", [{ environment: "qa", definition: on }], undefined, "input.environments"),
      ).field,
    ).toBe("input.environments[0].environment");
  });

  describe("values", () => {
    it("stores an absent value as null", () => {
      expect(dynamic(inProduction({ enabled: true }))[2]?.definition.value).toBeNull();
    });

    it("keeps any JSON value of a dynamic config", () => {
      const value = { color: "blue", sizes: [1, 2.5, -3], nested: { on: true, off: false, none: null }, s: "" };
      expect(dynamic(inProduction(config(value)))[2]?.definition.value).toEqual(value);
      expect(dynamic(inProduction(config([])))[2]?.definition.value).toEqual([]);
      expect(dynamic(inProduction(config(0)))[2]?.definition.value).toBe(0);
    });

    it("refuses a value on a gate, and a rule value on a gate", () => {
      expect(refusal(() => gate(inProduction(config(true)))).message).toBe(
        "environments[0].definition.value: a gate has no value (use enabled); leave it null",
      );
      expect(
        refusal(() =>
          gate(inProduction({ enabled: true, rules: [{ segment: "beta", enabled: true, value: { a: 1 } }] })),
        ).field,
      ).toBe("environments[0].definition.rules[0].value");
    });

    it("accepts a gate whose value is null or absent", () => {
      expect(gate(inProduction({ enabled: true, value: null }))[2]?.definition).toEqual(on);
    });

    it("refuses what JSON cannot carry, naming the path inside the value", () => {
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = cyclic;
      const cases: [unknown, string, string][] = [
        [Number.NaN, "environments[0].definition.value", "not a finite number"],
        [{ a: [1, Number.POSITIVE_INFINITY] }, "environments[0].definition.value.a[1]", "not a finite number"],
        [{ f: () => 1 }, "environments[0].definition.value.f", "a function is not"],
        [{ u: undefined }, "environments[0].definition.value.u", "a undefined is not"],
        [[1n], "environments[0].definition.value[0]", "a bigint is not"],
        [new Date(0), "environments[0].definition.value", "only plain objects"],
        [new Map(), "environments[0].definition.value", "only plain objects"],
        [cyclic, "environments[0].definition.value.self", "contains itself"],
      ];
      for (const [value, field, reason] of cases) {
        const error = refusal(() => dynamic(inProduction(config(value))));
        expect(error.field).toBe(field);
        expect(error.message).toContain(reason);
      }
    });

    it("accepts the same object twice in a value (shared, not cyclic)", () => {
      const shared = { x: 1 };
      expect(() => requireJson("value", { a: shared, b: [shared] })).not.toThrow();
    });

    it("accepts a value up to 64 KB as JSON and refuses a larger one, counting UTF-8 bytes", () => {
      const fits = "x".repeat(VALUE_MAX_BYTES - 2); // the quotes make it VALUE_MAX_BYTES
      expect(() => requireJson("value", fits)).not.toThrow();
      const refused = refusal(() => requireJson("value", `${fits}x`));
      expect(refused.message).toBe(
        `value: must be at most ${VALUE_MAX_BYTES} bytes (64 KB) as JSON (got ${VALUE_MAX_BYTES + 1})`,
      );
      // "é" is two bytes: half as many characters reach the bound.
      expect(refusal(() => requireJson("value", "é".repeat(VALUE_MAX_BYTES / 2))).field).toBe("value");
    });

    it("accepts 32 levels of nesting and refuses 33, and a 100,000-deep value without overflowing", () => {
      const nest = (levels: number): unknown => {
        let value: unknown = 1;
        for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { a: value };
        return value;
      };
      expect(() => requireJson("value", nest(32))).not.toThrow();
      expect(refusal(() => requireJson("value", nest(33))).message).toContain("at most 32 levels deep");
      const deep = refusal(() => requireJson("value", nest(100_000)));
      expect(deep.field).toBe("value");
    });
  });

  describe("rules", () => {
    const withRules = (rules: unknown) =>
      dynamic(inProduction({ enabled: false, value: "off", rules } as DefinitionInput))[2]?.definition.rules;

    it("keeps rules in order with rolloutPercentage defaulting to 100 and value to null", () => {
      expect(
        withRules([
          { segment: "beta", enabled: true, value: "on" },
          { segment: "us-west", enabled: true, rolloutPercentage: null },
        ]),
      ).toEqual([
        { segment: "beta", enabled: true, value: "on", rolloutPercentage: 100 },
        { segment: "us-west", enabled: true, value: null, rolloutPercentage: 100 },
      ]);
    });

    it("accepts rolloutPercentage at 0, 100 and in between with decimals", () => {
      for (const pct of [0, 33.33, 100]) {
        expect(withRules([{ segment: "beta", enabled: true, rolloutPercentage: pct }])?.[0]?.rolloutPercentage).toBe(
          pct,
        );
      }
    });

    it("refuses rolloutPercentage outside [0, 100] or not a finite number", () => {
      for (const pct of [-0.01, 100.01, Number.NaN, Number.POSITIVE_INFINITY, "50"]) {
        const error = refusal(() => withRules([{ segment: "beta", enabled: true, rolloutPercentage: pct }]));
        expect(error.field).toBe("environments[0].definition.rules[0].rolloutPercentage");
        expect(error.message).toMatch(/between 0 and 100/);
      }
    });

    it("refuses a segment the project does not have", () => {
      expect(
        refusal(() =>
          withRules([
            { segment: "beta", enabled: true },
            { segment: "apac", enabled: true },
          ]),
        ),
      ).toEqual({
        field: "environments[0].definition.rules[1].segment",
        message:
          'environments[0].definition.rules[1].segment: unknown segment "apac" (project segments: us-west, beta)',
      });
    });

    it("refuses a second rule on the same segment, which could never apply", () => {
      expect(
        refusal(() =>
          withRules([
            { segment: "beta", enabled: true, rolloutPercentage: 10 },
            { segment: "beta", enabled: false },
          ]),
        ).message,
      ).toBe(
        'environments[0].definition.rules[1].segment: segment "beta" already has a rule above: it could never apply',
      );
    });

    it("refuses a rule without a boolean enabled", () => {
      expect(refusal(() => withRules([{ segment: "beta" }])).field).toBe("environments[0].definition.rules[0].enabled");
    });

    it("refuses rules that are not a list", () => {
      expect(refusal(() => withRules({ segment: "beta" })).field).toBe("environments[0].definition.rules");
    });

    it("refuses a rule value that is not JSON", () => {
      expect(refusal(() => withRules([{ segment: "beta", enabled: true, value: Number.NaN }])).field).toBe(
        "environments[0].definition.rules[0].value",
      );
    });
  });
});

describe("changedDefinitions", () => {
  const current: EnvironmentDefinition[] = [
    { environment: "development", definition: { enabled: true, value: { a: 1, b: 2 }, rules: [] } },
    { environment: "production", definition: disabledDefinition() },
  ];

  it("lists only the environments whose definition differs, ignoring key order", () => {
    expect(
      changedDefinitions(current, [
        { environment: "development", definition: { rules: [], value: { b: 2, a: 1 }, enabled: true } },
        { environment: "production", definition: on },
      ]),
    ).toEqual([{ environment: "production", definition: on }]);
  });

  it("lists an environment the current definitions lack", () => {
    expect(changedDefinitions([], current)).toEqual(current);
  });
});

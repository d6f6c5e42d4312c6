// The SDK answers exactly what the GraphQL `evaluate` answers. Property tests (fast-check): for random
// segments, definitions with rules and rollout percentages, release states (in progress with rolled-out
// segment and whole-environment phases and a phase ramping to a share of units, or ended with their end
// not yet stored on the feature) and
// units, the real GraphQL schema's `evaluate` over the read models and the SDK over the document the
// API serves from the same read models (through JSON, as on the wire) give the same enabled, value and
// reason. A second property drives the product's real deciders (the seeded simulation) to make the
// release states. Every document built is validated against the published JSON Schema.

import * as fc from "fast-check";
import { graphql } from "graphql";
import { describe, expect, it } from "vitest";
import type { ApiContext } from "../../schema/context.ts";
import { schema } from "../../schema/index.ts";
import { PreparedConfig } from "../../sdk/index.ts";
import { ServedConfigs } from "../../services/api/served-configs.ts";
import type { Definition, EnvironmentDefinition, FeatureKind, Segment, Target } from "../../services/core/model.ts";
import type { Feature } from "../../services/feature/feature.ts";
import type { Project } from "../../services/project/project.ts";
import { ReadModels } from "../../services/projections/read-models.ts";
import { type Executor, Simulation } from "../../services/projections/testing/simulation.ts";
import type { Release } from "../../services/release/release.ts";
import { assertValidDocument } from "./document-schema.ts";

const EVALUATE = /* GraphQL */ `
  query($p: ID!, $k: String!, $e: String!, $u: UnitInput!) {
    evaluate(projectId: $p, featureKey: $k, environment: $e, unit: $u) { enabled value reason }
  }`;

type Unit = { id: string; attributes: Record<string, unknown> };

/** The narrow read-model surface both paths read (the GraphQL resolver and the served documents). */
type Reads = Pick<ReadModels, "project" | "features" | "featureByKey" | "release">;

async function viaGraphql(reads: Reads, projectId: string, key: string, environment: string, unit: Unit) {
  const contextValue = {
    auth: { tokenId: "t", name: "viewer", role: "VIEWER", projectId: null },
    readModels: reads,
  } as unknown as ApiContext;
  const result = await graphql({
    schema,
    source: EVALUATE,
    variableValues: { p: projectId, k: key, e: environment, u: unit },
    contextValue,
  });
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  return JSON.parse(JSON.stringify((result.data as { evaluate: unknown }).evaluate));
}

function servedDocument(reads: Reads, projectId: string, environment: string): PreparedConfig {
  const served = new ServedConfigs({ readModels: reads as ReadModels, runner: { onEvent: () => () => {} } });
  const snapshot = served.snapshot(projectId, environment);
  if (snapshot === null) throw new Error(`no document for ${projectId}/${environment}`);
  const doc = JSON.parse(snapshot.json);
  assertValidDocument(doc);
  return PreparedConfig.fromDocument(doc);
}

function viaSdk(config: PreparedConfig, key: string, unit: Unit) {
  const { enabled, value, reason } = config.evaluate(key, unit);
  return JSON.parse(JSON.stringify({ enabled, value, reason }));
}

// ---- arbitraries ---------------------------------------------------------------------------------

const ENVIRONMENTS = ["development", "production"];
const ATTRIBUTES = ["region", "plan", "tier"];
const VALUES = ["us-west", "us-east", "eu", "pro", "free", "1", "true"];

const segmentsArb: fc.Arbitrary<Segment[]> = fc
  .array(
    fc.record({
      attribute: fc.constantFrom(...ATTRIBUTES),
      operator: fc.constantFrom("IN" as const, "NOT_IN" as const),
      values: fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((list) => list.map((segment, i) => ({ key: `s${i}`, ...segment })));

const percentageArb = fc.oneof(
  fc.constantFrom(0, 100),
  fc.integer({ min: 0, max: 10_000 }).map((n) => n / 100),
);
const configValueArb = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }),
);

function definitionArb(kind: FeatureKind, segments: Segment[]): fc.Arbitrary<Definition> {
  const value = kind === "GATE" ? fc.constant(null) : configValueArb;
  return fc.record({
    enabled: fc.boolean(),
    value,
    rules: fc
      .uniqueArray(fc.constantFrom(...segments.map((s) => s.key)), { maxLength: segments.length })
      .chain((keys) =>
        fc.tuple(
          ...keys.map((segment) =>
            fc.record({
              segment: fc.constant(segment),
              enabled: fc.boolean(),
              value,
              rolloutPercentage: percentageArb,
            }),
          ),
        ),
      ),
  });
}

const perEnvironment = (arb: fc.Arbitrary<Definition>): fc.Arbitrary<EnvironmentDefinition[]> =>
  fc
    .tuple(...ENVIRONMENTS.map(() => arb))
    .map((defs) => defs.map((definition, i) => ({ environment: ENVIRONMENTS[i] as string, definition })));

function releaseArb(featureId: string, kind: FeatureKind, segments: Segment[]): fc.Arbitrary<Release> {
  const definitions = perEnvironment(definitionArb(kind, segments));
  const target: fc.Arbitrary<Target> = fc.record({
    environment: fc.constantFrom(...ENVIRONMENTS),
    segment: fc.oneof(fc.constant(null), fc.constantFrom(...segments.map((s) => s.key))),
  });
  const phase = (phaseIndex: number) =>
    fc.record({
      phaseIndex: fc.constant(phaseIndex),
      targets: fc.array(target, { minLength: 1, maxLength: 3 }),
      definitions: fc
        .subarray(ENVIRONMENTS)
        .chain((envs) =>
          fc.tuple(
            ...envs.map((environment) =>
              definitionArb(kind, segments).map((definition) => ({ environment, definition })),
            ),
          ),
        ),
    });
  // The phase after the rolled-out ones may be ramping: it serves its share of units (bucketed by release).
  const ramp = fc.option(
    fc.record({
      targets: fc.array(target, { minLength: 1, maxLength: 3 }),
      percentage: fc.oneof(fc.double({ min: 0.01, max: 99.99, noNaN: true }), fc.constantFrom(0.01, 50, 99.99)),
    }),
  );
  return fc
    .record({
      status: fc.constantFrom("IN_PROGRESS" as const, "COMPLETED" as const, "ABORTED" as const),
      phaseCount: fc.integer({ min: 0, max: 3 }),
      before: definitions,
      after: definitions,
      ramp,
    })
    .chain(({ status, phaseCount, before, after, ramp }) =>
      fc.tuple(...Array.from({ length: phaseCount }, (_, i) => phase(i))).map((rolledOut) => {
        const phaseSpecs = [
          ...Array.from({ length: phaseCount }, () => ({ targets: [], action: "APPLY_CHANGE" })),
          ...(ramp === null ? [] : [{ targets: ramp.targets, action: "APPLY_CHANGE" }]),
        ];
        const phases =
          ramp === null ? [] : [{ index: phaseCount, status: "WAITING", rolloutPercentage: ramp.percentage }];
        return {
          id: `${featureId}.1`,
          featureId,
          status,
          rolledOut,
          before,
          after,
          change: after,
          phaseSpecs,
          phases,
        } as unknown as Release;
      }),
    );
}

interface World {
  project: Project;
  features: Feature[];
  releases: Map<string, Release>;
}

const worldArb: fc.Arbitrary<World> = segmentsArb.chain((segments) =>
  fc
    .array(
      fc.record({ kind: fc.constantFrom("GATE" as const, "DYNAMIC_CONFIG" as const), withRelease: fc.boolean() }),
      { minLength: 1, maxLength: 4 },
    )
    .chain((specs) =>
      fc.tuple(
        ...specs.map(({ kind, withRelease }, i) =>
          fc
            .record({
              environments: perEnvironment(definitionArb(kind, segments)),
              release: withRelease ? releaseArb(`f${i}`, kind, segments) : fc.constant(null),
            })
            .map(({ environments, release }) => ({ kind, environments, release, i })),
        ),
      ),
    )
    .map((entries) => {
      const project = {
        id: "p1",
        name: "P",
        environments: ENVIRONMENTS,
        segments,
        createdAt: "",
        version: 1,
      } as Project;
      const releases = new Map<string, Release>();
      const features = entries.map(({ kind, environments, release, i }) => {
        if (release !== null) releases.set(release.id, release);
        return {
          id: `f${i}`,
          projectId: "p1",
          key: `flag-${i}`,
          kind,
          environments,
          activeReleaseId: release?.id ?? null,
        } as unknown as Feature;
      });
      return { project, features, releases };
    }),
);

const attributeValueArb = fc.oneof(
  fc.constantFrom(...VALUES),
  fc.integer({ min: 0, max: 3 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom(...VALUES), { maxLength: 2 }),
  fc.record({ nested: fc.constantFrom(...VALUES) }),
);
const unitArb: fc.Arbitrary<Unit> = fc.record({
  id: fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 6 })),
  attributes: fc.dictionary(fc.constantFrom(...ATTRIBUTES), attributeValueArb, { maxKeys: 3 }),
});

function readsOf(world: World): Reads {
  return {
    project: (id) => (id === world.project.id ? world.project : null),
    features: (projectId) => (projectId === world.project.id ? world.features : []),
    featureByKey: (projectId, key) =>
      projectId === world.project.id ? (world.features.find((f) => f.key === key) ?? null) : null,
    release: (id) => world.releases.get(id) ?? null,
  };
}

describe("the SDK answers what GraphQL evaluate answers", () => {
  it("for random segments, definitions, rules, release states and units", async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, fc.array(unitArb, { minLength: 1, maxLength: 6 }), async (world, units) => {
        const reads = readsOf(world);
        for (const environment of ENVIRONMENTS) {
          const config = servedDocument(reads, world.project.id, environment);
          for (const unit of units) {
            for (const key of [...world.features.map((f) => f.key), "no-such-flag"]) {
              const expected = await viaGraphql(reads, world.project.id, key, environment, unit);
              expect(viaSdk(config, key, unit)).toEqual(expected);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it("for release states made by the real deciders (the seeded simulation of the product's use)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 20, max: 160 }),
        fc.array(unitArb, { minLength: 1, maxLength: 4 }),
        async (seed, steps, units) => {
          const readModels = new ReadModels();
          const simulation = new Simulation(readModelExecutor(readModels), {
            seed,
            maxProjects: 2,
            maxFeaturesPerProject: 8,
          });
          for (let i = 0; i < steps; i++) await simulation.step();
          for (const project of readModels.projects()) {
            const unitsHere = units.map((unit) => ({
              ...unit,
              // The simulation's segments are on attributes of its own: give the units some of them.
              attributes: {
                ...unit.attributes,
                ...Object.fromEntries(project.segments.map((s, i) => [s.attribute, s.values[i % s.values.length]])),
              },
            }));
            for (const environment of project.environments) {
              const config = servedDocument(readModels, project.id, environment);
              for (const feature of readModels.features(project.id)) {
                for (const unit of [...units, ...unitsHere]) {
                  const expected = await viaGraphql(readModels, project.id, feature.key, environment, unit);
                  expect(viaSdk(config, feature.key, unit)).toEqual(expected);
                }
              }
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});

/** Runs the simulation's commands straight into read models (no store): decide, evolve, apply in order. */
function readModelExecutor(readModels: ReadModels): Executor {
  const states = new Map<string, unknown>();
  let position = 0;
  return {
    async execute(decider, stream, command, metadata) {
      const state = (states.get(stream) as Parameters<typeof decider.decide>[1] | undefined) ?? decider.initialState();
      const events = decider.decide(command, state);
      let next = state;
      for (const event of events) {
        next = decider.evolve(next, event);
        position++;
        readModels.apply({
          id: `e${position}`,
          stream,
          revision: 0n,
          position: String(position).padStart(20, "0"),
          type: event.type,
          data: event.data,
          metadata: { ...metadata, causationId: metadata.causationId ?? null, schemaVersion: 1 },
          recordedAt: metadata.occurredAt,
        });
      }
      states.set(stream, next);
      return { state: next, events, position: String(position) };
    },
  };
}

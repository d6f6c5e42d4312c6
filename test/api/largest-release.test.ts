// The largest valid release — every bound at its maximum — runs on the real Temporal dev server: its
// workflow state, Update answers and events fit Temporal's and EventStoreDB's payload limits by
// construction, so it runs to completion (full rollout) and, started again, can be aborted. One step past
// any bound is VALIDATION naming the field and the bound, with nothing written.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOUNDS, jsonBytes } from "../../services/core/bounds.ts";
import { normalizeDefinitions } from "../../services/feature/definition.ts";
import { releaseStateBytes } from "../../services/release/release.ts";
import { action, answered, createPublishedPipeline } from "./documents.ts";
import { startTestApi, type TestApi } from "./harness.ts";

let api: TestApi;
let projectId: string;

const environments = Array.from({ length: BOUNDS.environmentsPerProject }, (_, i) => `e${String(i).padStart(2, "0")}`);
const segments = Array.from({ length: BOUNDS.segmentsPerProject }, (_, s) => ({
  key: `s${s}`,
  attribute: "unit",
  operator: "IN",
  values: Array.from({ length: BOUNDS.valuesPerSegment }, (_, v) => `${v}`),
}));
const longName = (prefix: string): string => `${prefix} ${"n".repeat(BOUNDS.nameChars - prefix.length - 1)}`;
const reason = "r".repeat(BOUNDS.textChars);

/** A phase of 50 distinct targets, every approval bound at its maximum. */
const phases = Array.from({ length: BOUNDS.phasesPerPipeline }, (_, p) => ({
  name: longName(`phase ${p}`),
  waitFor: "P365D",
  requiresApproval: true,
  approvalsRequired: BOUNDS.approvalsRequired,
  targets: Array.from({ length: BOUNDS.targetsPerPhase }, (_, k) => ({
    environment: environments[(p + k) % environments.length],
    segment: `s${(p * 7 + k) % segments.length}`,
  })),
}));

/** Every environment's definition with a value of `size` characters. */
const definitionsOf = (variant: string, size: number) =>
  environments.map((environment) => ({
    environment,
    definition: { enabled: true, value: `${variant}${"v".repeat(size)}`, rules: [] },
  }));

/** Definitions of every environment together just under their bound (256 KB as JSON). */
function definitions(variant: string) {
  let size = 2_000;
  while (jsonBytes(definitionsOf(variant, size + 10)) <= BOUNDS.definitionsBytes) size += 10;
  return definitionsOf(variant, size);
}

beforeAll(async () => {
  api = await startTestApi();
  const body = JSON.stringify({ input: { name: longName("Largest"), environments, segments } });
  expect(body.length).toBeLessThan(1_000_000);
  const created = await api.ok<{ createProject: { id: string } }>(
    `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`,
    { input: { name: longName("Largest"), environments, segments } },
  );
  projectId = created.createProject.id;
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe("the largest valid release", () => {
  it("runs to completion (full rollout) and, started again, is aborted", async () => {
    const pipelineId = await createPublishedPipeline(api, projectId, phases, { name: longName("Pipeline") });
    const feature = await api.ok<{ createFeature: { id: string } }>(
      `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`,
      {
        input: {
          projectId,
          key: "largest",
          kind: "DYNAMIC_CONFIG",
          description: "d".repeat(BOUNDS.textChars),
          pipelineId,
        },
      },
    );
    const featureId = feature.createFeature.id;
    const UPDATE = `mutation($id: ID!, $input: UpdateFeatureInput!) { updateFeature(id: $id, input: $input) { ... on Release { id status } } }`;

    // For 50 phases of 50 targets the binding bound is the release's own (its state, 1 MB): the largest
    // definitions it takes are sized with the decider's own estimate over the stored pipeline and project.
    const stored = api.readModels.pipeline(pipelineId);
    const project = api.readModels.project(projectId);
    const current = api.readModels.feature(featureId);
    if (stored === null || project === null || current === null) throw new Error("not projected");
    const weight = (size: number) =>
      releaseStateBytes({
        releaseId: `${featureId}.1`,
        featureId,
        featureKey: "largest",
        projectId,
        pipelineId,
        pipelineVersion: stored.version,
        pipelineName: stored.name,
        phases: stored.phases,
        selfApproval: stored.selfApproval,
        environments: project.environments,
        // The second release starts from the first one's definitions: both at this size.
        before: normalizeDefinitions(project, "DYNAMIC_CONFIG", definitionsOf("b", size), current.environments),
        change: normalizeDefinitions(project, "DYNAMIC_CONFIG", definitionsOf("a", size), current.environments),
        trigger: "UPDATE",
        reason: null,
      });
    // Binary search (the weight grows with the size): a linear one blocked the event loop for 5 s and more
    // under load, and the next request then met a keep-alive socket the in-process server had just closed
    // (ECONNRESET).
    let fits = 0;
    let tooMany = 1;
    while (weight(tooMany) <= BOUNDS.releaseStateBytes) tooMany *= 2;
    while (tooMany - fits > 1) {
      const middle = Math.floor((fits + tooMany) / 2);
      if (weight(middle) <= BOUNDS.releaseStateBytes) fits = middle;
      else tooMany = middle;
    }
    // A little more is refused, naming the bound, and writes nothing.
    const head = await api.store.headPosition();
    const tooBig = await api.gql(UPDATE, { id: featureId, input: { environments: definitionsOf("a", fits + 100) } });
    expect(tooBig.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "environments" });
    expect(tooBig.errors?.[0]?.message).toContain("at most 1048576 (1 MB)");
    expect(await api.store.headPosition()).toBe(head);

    const first = await api.ok<{ updateFeature: { id: string; status: string } }>(UPDATE, {
      id: featureId,
      input: { environments: definitionsOf("a", fits) },
    });
    expect(first.updateFeature.status).toBe("IN_PROGRESS");
    expect(JSON.stringify(api.readModels.release(first.updateFeature.id)).length).toBeLessThan(
      BOUNDS.releaseStateBytes,
    );
    const completed = answered(await action(api, "fullRollout", first.updateFeature.id, { reason }));
    expect(completed.status).toBe("COMPLETED");
    // Its whole state, every phase rolled out, is what the workflow returned: under Temporal's 2 MB.
    const completedBytes = jsonBytes(api.readModels.release(first.updateFeature.id));
    expect(completedBytes).toBeLessThan(BOUNDS.releaseStateBytes + 64 * 1024);
    expect(completedBytes).toBeGreaterThan(BOUNDS.releaseStateBytes * 0.8);

    const second = await api.ok<{ updateFeature: { id: string; status: string } }>(UPDATE, {
      id: featureId,
      input: { environments: definitionsOf("b", fits) },
    });
    expect(second.updateFeature.status).toBe("IN_PROGRESS");
    const aborted = answered(await action(api, "abortRelease", second.updateFeature.id, { reason }));
    expect(aborted.status).toBe("ABORTED");
  }, 240_000);

  it("one step past each bound is VALIDATION naming the field and the bound, nothing written", async () => {
    const head = await api.store.headPosition();
    const refused = async (query: string, variables: Record<string, unknown>, field: string, bound: string) => {
      const result = await api.gql(query, variables);
      expect(result.errors?.[0]?.extensions?.code, `${field}: ${JSON.stringify(result).slice(0, 300)}`).toBe(
        "VALIDATION",
      );
      // Named as the input path (from variable coercion: with the argument's name in front) or the field.
      expect([field, `input.${field}`]).toContain(result.errors?.[0]?.extensions?.field);
      expect(result.errors?.[0]?.message).toContain(bound);
    };
    const PROJECT = `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`;
    await refused(
      PROJECT,
      { input: { name: "x", environments: [...environments, "e100"] } },
      "environments",
      "at most 100",
    );
    await refused(
      PROJECT,
      {
        input: {
          name: "x",
          environments: ["a"],
          segments: Array.from({ length: 101 }, (_, i) => ({
            key: `k${i}`,
            attribute: "u",
            operator: "IN",
            values: ["1"],
          })),
        },
      },
      "segments",
      "at most 100",
    );
    await refused(
      PROJECT,
      {
        input: {
          name: "x",
          environments: ["a"],
          segments: [
            { key: "k", attribute: "u", operator: "IN", values: Array.from({ length: 1_001 }, (_, v) => `${v}`) },
          ],
        },
      },
      "segments[0].values",
      "at most 1000",
    );
    await refused(PROJECT, { input: { name: "n".repeat(201), environments: ["a"] } }, "name", "at most 200");
    const PIPELINE = `mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }`;
    const pipeline = (changes: Record<string, unknown>) => ({ input: { projectId, name: "p", phases, ...changes } });
    await refused(PIPELINE, pipeline({ phases: [...phases, phases[0]] }), "phases", "at most 50");
    await refused(
      PIPELINE,
      pipeline({ phases: [{ name: "p", targets: environments.slice(0, 51).map((environment) => ({ environment })) }] }),
      "phases[0].targets",
      "at most 50",
    );
    await refused(
      PIPELINE,
      pipeline({ phases: [{ ...phases[0], approvalsRequired: 21 }] }),
      "phases[0].approvalsRequired",
      "at most 20",
    );
    await refused(PIPELINE, pipeline({ description: "d".repeat(2_001) }), "description", "at most 2000");
    const FEATURE = `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`;
    const feature = (definition: Record<string, unknown>) => ({
      input: { projectId, key: "over", kind: "DYNAMIC_CONFIG", environments: [{ environment: "e00", definition }] },
    });
    await refused(
      FEATURE,
      feature({ enabled: true, value: "x".repeat(64 * 1024) }),
      "environments[0].definition.value",
      "64 KB",
    );
    await refused(
      FEATURE,
      feature({ enabled: true, rules: Array.from({ length: 201 }, () => ({ segment: "s0", enabled: true })) }),
      "environments[0].definition.rules",
      "at most 200 rules",
    );
    let deep: unknown = 1;
    for (let i = 0; i < 33; i++) deep = { a: deep };
    await refused(
      FEATURE,
      feature({ enabled: true, value: { v: deep } }),
      "environments[0].definition.value",
      "32 levels",
    );
    const over = definitions("c").map((d, i) =>
      i === 0 ? { ...d, definition: { ...d.definition, value: `${d.definition.value}${"v".repeat(1_000)}` } } : d,
    );
    await refused(
      FEATURE,
      { input: { projectId, key: "over", kind: "DYNAMIC_CONFIG", environments: over } },
      "environments",
      "256 KB",
    );
    expect(await api.store.headPosition()).toBe(head);
  });
});

// Edit and retire over the API (no release here; see test/e2e/edit-during-release.test.ts): every
// mutation of the contract's section, its guard with the contract's code and nothing written, the event
// with its actor and reason in the audit log, and audit replay.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foldLog } from "../../services/projections/replay.ts";
import {
  createProject,
  createPublishedPipeline,
  createToken,
  evaluate,
  FEATURE_FIELDS,
  type FeatureView,
} from "./documents.ts";
import { startTestApi, type TestApi } from "./harness.ts";

let api: TestApi;
let projectId: string;
let otherProject: string;
let editor: string;
let viewer: string;
let outsider: string;

const PROJECT = /* GraphQL */ `id name environments segments { key attribute operator values }`;

interface ProjectView {
  id: string;
  name: string;
  environments: string[];
  segments: { key: string; attribute: string; operator: string; values: string[] }[];
}

beforeAll(async () => {
  api = await startTestApi({ worker: false });
  projectId = await createProject(api, "Checkout");
  otherProject = await createProject(api, "Other");
  editor = await createToken(api, "erin", "EDITOR", projectId);
  viewer = await createToken(api, "vic", "VIEWER", projectId);
  outsider = await createToken(api, "olga", "ADMIN", otherProject);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

const codes = (result: { errors?: { extensions?: { code?: string } }[] }): (string | undefined)[] =>
  (result.errors ?? []).map((e) => e.extensions?.code);

/** Runs `mutate` expecting `code`, and checks the store's head did not move. */
async function refused(
  code: string,
  mutate: () => Promise<{ errors?: { message: string; extensions?: { code?: string } }[] }>,
): Promise<string> {
  const head = await api.store.headPosition();
  const result = await mutate();
  expect(codes(result)).toEqual([code]);
  expect(await api.store.headPosition()).toBe(head);
  return result.errors?.[0]?.message ?? "";
}

async function lastAuditEvent(
  entityId: string,
): Promise<{ type: string; actor: string; data: Record<string, unknown> }> {
  const data = await api.ok<{
    auditLog: { edges: { node: { type: string; actor: string; data: Record<string, unknown> } }[] };
  }>(
    /* GraphQL */ `query($id: ID!) { auditLog(filter: { entityId: $id }, first: 1) { edges { node { type actor data } } } }`,
    { id: entityId },
  );
  const node = data.auditLog.edges[0]?.node;
  if (node === undefined) throw new Error(`no audit event for ${entityId}`);
  return node;
}

async function createFeature(key: string, environments: unknown[] = [], token = editor): Promise<FeatureView> {
  const data = await api.ok<{ createFeature: FeatureView }>(
    /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { ${FEATURE_FIELDS} } }`,
    { input: { projectId, key, kind: "GATE", environments } },
    token,
  );
  return data.createFeature;
}

describe("updateProject", () => {
  it("renames the project (ADMIN), with the actor and reason in the audit log", async () => {
    const data = await api.ok<{ updateProject: ProjectView }>(
      /* GraphQL */ `mutation($id: ID!) { updateProject(id: $id, input: { name: " Payments " }, reason: "team renamed") { ${PROJECT} } }`,
      { id: projectId },
    );
    expect(data.updateProject.name).toBe("Payments");
    expect(await lastAuditEvent(projectId)).toMatchObject({
      type: "ProjectRenamed",
      actor: "admin",
      data: { name: "Payments", previousName: "Checkout", reason: "team renamed" },
    });
  });

  it("refuses an EDITOR (FORBIDDEN), a blank name (VALIDATION) and another project's token (NOT_FOUND)", async () => {
    const rename = (name: string, token?: string) =>
      api.gql(
        /* GraphQL */ `mutation($id: ID!, $name: String) { updateProject(id: $id, input: { name: $name }) { id } }`,
        { id: projectId, name },
        token,
      );
    await refused("FORBIDDEN", () => rename("X", editor));
    expect(await refused("VALIDATION", () => rename("  "))).toContain("name: must not be empty");
    await refused("NOT_FOUND", () => rename("X", outsider));
  });
});

describe("addEnvironment and removeEnvironment", () => {
  let featureId: string;

  it("adds an environment at a position; existing features get it disabled with no value", async () => {
    const created = await createFeature("banner", [{ environment: "production", definition: { enabled: true } }]);
    featureId = created.id;
    const data = await api.ok<{ addEnvironment: ProjectView }>(
      /* GraphQL */ `mutation($p: ID!) { addEnvironment(projectId: $p, name: "qa", position: 1, reason: "QA stage") { ${PROJECT} } }`,
      { p: projectId },
    );
    expect(data.addEnvironment.environments).toEqual(["development", "qa", "staging", "production"]);
    const feature = await api.ok<{ feature: FeatureView }>(
      `query($id: ID!) { feature(id: $id) { ${FEATURE_FIELDS} } }`,
      {
        id: featureId,
      },
    );
    expect(feature.feature.environments.map((e) => [e.environment, e.definition])).toEqual([
      ["development", { enabled: false, value: null, rules: [] }],
      ["qa", { enabled: false, value: null, rules: [] }],
      ["staging", { enabled: false, value: null, rules: [] }],
      ["production", { enabled: true, value: null, rules: [] }],
    ]);
    expect(await evaluate(api, projectId, "banner", "qa")).toEqual({ enabled: false, value: null, reason: "DEFAULT" });
    expect(await lastAuditEvent(projectId)).toMatchObject({
      type: "ProjectEnvironmentAdded",
      actor: "admin",
      data: { environment: "qa", position: 1, reason: "QA stage" },
    });
    // A new feature starts with it, and the new environment can be set like any other.
    await api.ok(
      /* GraphQL */ `mutation($id: ID!) { updateFeature(id: $id, input: { environments: [{ environment: "qa", definition: { enabled: true } }] }) { __typename } }`,
      { id: featureId },
      editor,
    );
    expect((await evaluate(api, projectId, "banner", "qa")).enabled).toBe(true);
  });

  it("refuses a taken name (CONFLICT), a bad position or name (VALIDATION), an EDITOR (FORBIDDEN)", async () => {
    const add = (name: string, position: number | null, token?: string) =>
      api.gql(
        `mutation($p: ID!, $n: String!, $i: Int) { addEnvironment(projectId: $p, name: $n, position: $i) { id } }`,
        { p: projectId, n: name, i: position },
        token,
      );
    expect(await refused("CONFLICT", () => add("QA", null))).toContain('already has environment "qa"');
    expect(await refused("VALIDATION", () => add("perf", 9))).toContain(
      "position: must be an integer from 0 to 4 (got 9)",
    );
    expect(await refused("VALIDATION", () => add("perf env", null))).toContain(
      'name: "perf env" must be 1-100 letters',
    );
    await refused("FORBIDDEN", () => add("perf", null, editor));
  });

  it("refuses to remove an environment a feature defines or a pipeline targets, naming them; then removes it", async () => {
    const pipelineId = await createPublishedPipeline(
      api,
      projectId,
      [{ name: "QA", targets: [{ environment: "qa" }] }],
      {
        name: "Through QA",
      },
    );
    const remove = () =>
      api.gql(
        `mutation($p: ID!) { removeEnvironment(projectId: $p, name: "qa", reason: "no QA any more") { ${PROJECT} } }`,
        { p: projectId },
      );
    const message = await refused("VALIDATION", remove);
    expect(message).toContain(
      'environment "qa" is in use by feature banner (a definition there), pipeline "Through QA"',
    );
    // Archived features still count: unarchiving gives their definitions back.
    await api.ok(`mutation($id: ID!) { archiveFeature(id: $id) { id } }`, { id: featureId }, editor);
    expect(await refused("VALIDATION", remove)).toContain("feature banner (archived) (a definition there)");
    await api.ok(`mutation($id: ID!) { unarchiveFeature(id: $id) { id } }`, { id: featureId }, editor);
    await api.ok(
      `mutation($id: ID!) { updateFeature(id: $id, input: { environments: [{ environment: "qa", definition: { enabled: false } }] }) { __typename } }`,
      { id: featureId },
      editor,
    );
    await api.ok(`mutation($id: ID!) { deletePipeline(id: $id) { id } }`, { id: pipelineId });
    const removed = answeredProject(await remove(), "removeEnvironment");
    expect(removed.environments).toEqual(["development", "staging", "production"]);
    expect(await lastAuditEvent(projectId)).toMatchObject({
      type: "ProjectEnvironmentRemoved",
      data: { environment: "qa", reason: "no QA any more" },
    });
    const gone = await api.gql(
      `query($p: ID!) { evaluate(projectId: $p, featureKey: "banner", environment: "qa", unit: { id: "u" }) { reason } }`,
      { p: projectId },
    );
    expect(codes(gone)).toEqual(["VALIDATION"]);
  });

  it("refuses an unknown environment, listing the project's", async () => {
    const message = await refused("VALIDATION", () =>
      api.gql(`mutation($p: ID!) { removeEnvironment(projectId: $p, name: "perf") { id } }`, { p: projectId }),
    );
    expect(message).toContain('unknown environment "perf" (project environments: development, staging, production)');
  });
});

const answeredProject = (result: { data: Record<string, unknown> | null; errors?: unknown }, field: string) => {
  const value = result.data?.[field] as ProjectView | undefined;
  if (value === undefined) throw new Error(`refused: ${JSON.stringify(result.errors)}`);
  return value;
};

describe("upsertSegment and deleteSegment", () => {
  const upsert = (input: Record<string, unknown>, token = editor) =>
    api.gql<{ upsertSegment: ProjectView }>(
      `mutation($p: ID!, $input: SegmentInput!) { upsertSegment(projectId: $p, input: $input, reason: "beta program") { ${PROJECT} } }`,
      { p: projectId, input },
      token,
    );

  it("creates a segment, then updates its values and operator: serving follows at once, audited with before and after", async () => {
    const created = answeredProject(
      await upsert({ key: "beta", attribute: "plan", operator: "IN", values: ["beta"] }),
      "upsertSegment",
    );
    expect(created.segments.map((s) => s.key)).toEqual(["us-west", "us-east", "beta"]);
    await createFeature("beta-only", [
      { environment: "production", definition: { enabled: false, rules: [{ segment: "beta", enabled: true }] } },
    ]);
    expect((await evaluate(api, projectId, "beta-only", "production", { plan: "beta" })).reason).toBe("RULE:beta");
    expect((await evaluate(api, projectId, "beta-only", "production", { plan: "pro" })).enabled).toBe(false);

    answeredProject(await upsert({ key: "beta", attribute: "plan", operator: "IN", values: ["pro"] }), "upsertSegment");
    expect(await evaluate(api, projectId, "beta-only", "production", { plan: "pro" })).toMatchObject({
      enabled: true,
      reason: "RULE:beta",
    });
    expect((await evaluate(api, projectId, "beta-only", "production", { plan: "beta" })).enabled).toBe(false);
    expect(await lastAuditEvent(projectId)).toMatchObject({
      type: "ProjectSegmentUpdated",
      actor: "erin",
      data: {
        key: "beta",
        before: { key: "beta", attribute: "plan", operator: "IN", values: ["beta"] },
        after: { key: "beta", attribute: "plan", operator: "IN", values: ["pro"] },
        reason: "beta program",
      },
    });
    answeredProject(
      await upsert({ key: "beta", attribute: "plan", operator: "NOT_IN", values: ["free"] }),
      "upsertSegment",
    );
    expect((await evaluate(api, projectId, "beta-only", "production", { plan: "beta" })).enabled).toBe(true);
    expect((await evaluate(api, projectId, "beta-only", "production", { plan: "free" })).enabled).toBe(false);
  });

  it("refuses an invalid segment (VALIDATION) and a VIEWER (FORBIDDEN), writing nothing", async () => {
    expect(
      await refused("VALIDATION", () => upsert({ key: "eu", attribute: "region", operator: "IN", values: [] })),
    ).toContain("input.values: at least one value is required");
    await refused("FORBIDDEN", () =>
      upsert({ key: "eu", attribute: "region", operator: "IN", values: ["eu"] }, viewer),
    );
  });

  it("refuses to delete a segment a rule or a pipeline target uses, naming them; deletes an unused one", async () => {
    await createPublishedPipeline(
      api,
      projectId,
      [{ name: "Beta", targets: [{ environment: "production", segment: "beta" }] }],
      {
        name: "Beta first",
      },
    );
    const remove = (key: string) =>
      api.gql(
        `mutation($p: ID!, $k: String!) { deleteSegment(projectId: $p, key: $k, reason: "cleanup") { ${PROJECT} } }`,
        { p: projectId, k: key },
        editor,
      );
    expect(await refused("VALIDATION", () => remove("beta"))).toContain(
      'segment "beta" is in use by feature beta-only (a rule in production), pipeline "Beta first"',
    );
    expect(await refused("VALIDATION", () => remove("eu"))).toContain('unknown segment "eu"');
    const deleted = answeredProject(await remove("us-east"), "deleteSegment");
    expect(deleted.segments.map((s) => s.key)).toEqual(["us-west", "beta"]);
    expect(await lastAuditEvent(projectId)).toMatchObject({
      type: "ProjectSegmentDeleted",
      actor: "erin",
      data: { key: "us-east", before: { key: "us-east", values: ["us-east"] }, reason: "cleanup" },
    });
  });
});

describe("archiveFeature, unarchiveFeature, deleteFeature", () => {
  let featureId: string;
  let createdAt: string;
  const list = async (includeArchived?: boolean) =>
    (
      await api.ok<{ project: { features: { key: string }[] } }>(
        `query($p: ID!, $a: Boolean) { project(id: $p) { features(includeArchived: $a) { key } } }`,
        { p: projectId, a: includeArchived },
      )
    ).project.features.map((f) => f.key);

  it("archives: read-only, NOT_FOUND when evaluated, hidden from lists unless asked for", async () => {
    const created = await createFeature("old-promo", [{ environment: "production", definition: { enabled: true } }]);
    featureId = created.id;
    createdAt = (await api.store.headPosition()) ?? "";
    const data = await api.ok<{ archiveFeature: { archivedAt: string; archivedBy: string } }>(
      `mutation($id: ID!) { archiveFeature(id: $id, reason: "promo over") { archivedAt archivedBy } }`,
      { id: featureId },
      editor,
    );
    expect(data.archiveFeature.archivedBy).toBe("erin");
    expect(Date.parse(data.archiveFeature.archivedAt)).not.toBeNaN();
    expect(await evaluate(api, projectId, "old-promo", "production")).toEqual({
      enabled: false,
      value: null,
      reason: "NOT_FOUND",
    });
    expect(await list()).not.toContain("old-promo");
    expect(await list(true)).toContain("old-promo");
    const byKey = await api.ok<{ featureByKey: { id: string; archivedAt: string | null } }>(
      `query($p: ID!) { featureByKey(projectId: $p, key: "old-promo") { id archivedAt } }`,
      { p: projectId },
    );
    expect(byKey.featureByKey.id).toBe(featureId);
    expect(
      await refused("IMMUTABLE", () =>
        api.gql(
          `mutation($id: ID!) { updateFeature(id: $id, input: { environments: [] }) { __typename } }`,
          { id: featureId },
          editor,
        ),
      ),
    ).toContain("feature old-promo is archived: cannot update it (unarchive it first)");
    expect(await lastAuditEvent(featureId)).toMatchObject({
      type: "FeatureArchived",
      actor: "erin",
      data: { by: "erin", reason: "promo over" },
    });
  });

  it("unarchives: served and listed again", async () => {
    await api.ok(
      `mutation($id: ID!) { unarchiveFeature(id: $id, reason: "promo back") { id } }`,
      { id: featureId },
      editor,
    );
    expect((await evaluate(api, projectId, "old-promo", "production")).reason).toBe("DEFAULT");
    expect(await list()).toContain("old-promo");
    expect(await lastAuditEvent(featureId)).toMatchObject({
      type: "FeatureUnarchived",
      data: { reason: "promo back" },
    });
  });

  it("deletes archived features only (ADMIN); events stay and audit replay still shows it", async () => {
    const remove = (token?: string) =>
      api.gql(
        `mutation($id: ID!) { deleteFeature(id: $id, reason: "cleanup") { id key archivedAt } }`,
        { id: featureId },
        token,
      );
    expect(await refused("INVALID_STATE", () => remove())).toContain("archive it before deleting it");
    await api.ok(`mutation($id: ID!) { archiveFeature(id: $id) { id } }`, { id: featureId }, editor);
    await refused("FORBIDDEN", () => remove(editor));
    const deleted = await remove();
    expect(deleted.data).toMatchObject({ deleteFeature: { id: featureId, key: "old-promo" } });
    const live = await api.ok<{ feature: unknown; featureByKey: unknown }>(
      `query($id: ID!, $p: ID!) { feature(id: $id) { id } featureByKey(projectId: $p, key: "old-promo") { id } }`,
      { id: featureId, p: projectId },
    );
    expect(live).toEqual({ feature: null, featureByKey: null });
    expect(await list(true)).not.toContain("old-promo");
    expect(await lastAuditEvent(featureId)).toMatchObject({
      type: "FeatureDeleted",
      actor: "admin",
      data: { key: "old-promo", reason: "cleanup" },
    });
    const replay = await api.ok<{
      featureAsOf: {
        key: string;
        archivedAt: string | null;
        environments: { environment: string; definition: { enabled: boolean } }[];
      } | null;
    }>(
      `query($id: ID!, $at: String!) { featureAsOf(id: $id, position: $at) { key archivedAt environments { environment definition { enabled } } } }`,
      { id: featureId, at: createdAt },
    );
    expect(replay.featureAsOf).toMatchObject({ key: "old-promo", archivedAt: null });
    expect(replay.featureAsOf?.environments.find((e) => e.environment === "production")?.definition.enabled).toBe(true);
    const after = await api.ok<{ featureAsOf: unknown }>(
      `query($id: ID!, $at: String!) { featureAsOf(id: $id, position: $at) { key } }`,
      {
        id: featureId,
        at: (await api.store.headPosition()) ?? "",
      },
    );
    expect(after.featureAsOf).toBeNull();
    // Its key is free for a new feature (a new id: the deleted one's history stays its own); the deleted
    // feature answers NOT_FOUND to any further command.
    const again = await createFeature("old-promo");
    expect(again.id).not.toBe(featureId);
    const byKey = await api.ok<{ featureByKey: { id: string } }>(
      `query($p: ID!) { featureByKey(projectId: $p, key: "old-promo") { id } }`,
      { p: projectId },
    );
    expect(byKey.featureByKey.id).toBe(again.id);
    expect((await evaluate(api, projectId, "old-promo", "production")).reason).toBe("DEFAULT");
    expect(
      (
        await api.ok<{ featureAsOf: { key: string } | null }>(
          `query($id: ID!, $at: String!) { featureAsOf(id: $id, position: $at) { key } }`,
          { id: featureId, at: createdAt },
        )
      ).featureAsOf,
    ).toEqual({ key: "old-promo" });
    expect(
      await refused("CONFLICT", () =>
        api.gql(
          `mutation($p: ID!) { createFeature(input: { projectId: $p, key: "old-promo", kind: GATE }) { id } }`,
          { p: projectId },
          editor,
        ),
      ),
    ).toContain('feature key "old-promo" is taken');
    await refused("NOT_FOUND", () =>
      api.gql(`mutation($id: ID!) { unarchiveFeature(id: $id) { id } }`, { id: featureId }, editor),
    );
  });
});

describe("an archived feature and its pipeline", () => {
  it("leaves attachedFeatures unless asked for, keeps the pipeline from deletion until deleted itself", async () => {
    const pipelineId = await createPublishedPipeline(
      api,
      projectId,
      [{ name: "All", targets: [{ environment: "production" }] }],
      {
        name: "Kept",
      },
    );
    const created = await api.ok<{ createFeature: { id: string } }>(
      `mutation($p: ID!, $pl: ID!) { createFeature(input: { projectId: $p, key: "with-pipeline", kind: GATE, pipelineId: $pl }) { id } }`,
      { p: projectId, pl: pipelineId },
      editor,
    );
    await api.ok(`mutation($id: ID!) { archiveFeature(id: $id) { id } }`, { id: created.createFeature.id }, editor);
    const attached = await api.ok<{
      pipeline: { hidden: { key: string }[]; shown: { key: string }[] };
      project: { pipelines: { id: string; attachedFeatures: { key: string }[] }[] };
    }>(
      `query($id: ID!, $p: ID!) {
        pipeline(id: $id) { hidden: attachedFeatures { key } shown: attachedFeatures(includeArchived: true) { key } }
        project(id: $p) { pipelines(includeArchived: true) { id attachedFeatures { key } } }
      }`,
      { id: pipelineId, p: projectId },
    );
    expect(attached.pipeline).toEqual({ hidden: [], shown: [{ key: "with-pipeline" }] });
    expect(attached.project.pipelines.find((p) => p.id === pipelineId)?.attachedFeatures).toEqual([
      { key: "with-pipeline" },
    ]);
    await refused("PIPELINE_IN_USE", () =>
      api.gql(`mutation($id: ID!) { deletePipeline(id: $id) { id } }`, { id: pipelineId }, editor),
    );
    await refused("IMMUTABLE", () =>
      api.gql(`mutation($id: ID!) { detachPipeline(featureId: $id) { id } }`, { id: created.createFeature.id }, editor),
    );
    // Deleted, it no longer holds the pipeline.
    await api.ok(`mutation($id: ID!) { deleteFeature(id: $id) { id } }`, { id: created.createFeature.id });
    const deleted = await api.ok<{ deletePipeline: { status: string } }>(
      `mutation($id: ID!) { deletePipeline(id: $id) { status } }`,
      { id: pipelineId },
      editor,
    );
    expect(deleted.deletePipeline.status).toBe("DELETED");
  });
});

describe("renamePipeline", () => {
  it("renames and re-describes a published pipeline; its phases stay", async () => {
    const id = await createPublishedPipeline(
      api,
      projectId,
      [{ name: "All", targets: [{ environment: "production" }] }],
      { name: "Old" },
    );
    const data = await api.ok<{
      renamePipeline: { name: string; description: string; status: string; phases: { name: string }[] };
    }>(
      `mutation($id: ID!) { renamePipeline(id: $id, name: "Production only", description: "One step", reason: "clearer") { name description status phases { name } } }`,
      { id },
      editor,
    );
    expect(data.renamePipeline).toEqual({
      name: "Production only",
      description: "One step",
      status: "PUBLISHED",
      phases: [{ name: "All" }],
    });
    expect(await lastAuditEvent(id)).toMatchObject({
      type: "PipelineRenamed",
      actor: "erin",
      data: { name: "Production only", description: "One step", reason: "clearer" },
    });
    expect(
      await refused("VALIDATION", () =>
        api.gql(`mutation($id: ID!) { renamePipeline(id: $id, name: "") { id } }`, { id }, editor),
      ),
    ).toContain("name: must not be empty");
    await refused("NOT_FOUND", () =>
      api.gql(`mutation($id: ID!) { renamePipeline(id: $id, name: "X") { id } }`, { id }, outsider),
    );
  });
});

describe("audit replay of a project edit", () => {
  it("shows a feature's project as it was at the point: its name and environments then", async () => {
    const p = await createProject(api, "Replay", ["development", "production"], []);
    const f = await api.ok<{ createFeature: { id: string } }>(
      `mutation($p: ID!) { createFeature(input: { projectId: $p, key: "x", kind: GATE }) { id } }`,
      { p },
    );
    const before = (await api.store.headPosition()) ?? "";
    await api.ok(`mutation($p: ID!) { updateProject(id: $p, input: { name: "Renamed" }) { id } }`, { p });
    await api.ok(`mutation($p: ID!) { addEnvironment(projectId: $p, name: "staging", position: 1) { id } }`, { p });
    const query = `query($id: ID!, $at: String!) { featureAsOf(id: $id, position: $at) { project { name environments } environments { environment } } }`;
    const then = await api.ok<{
      featureAsOf: { project: { name: string; environments: string[] }; environments: { environment: string }[] };
    }>(query, {
      id: f.createFeature.id,
      at: before,
    });
    expect(then.featureAsOf.project).toEqual({ name: "Replay", environments: ["development", "production"] });
    expect(then.featureAsOf.environments.map((e) => e.environment)).toEqual(["development", "production"]);
    const now = await api.ok<typeof then>(query, {
      id: f.createFeature.id,
      at: (await api.store.headPosition()) ?? "",
    });
    expect(now.featureAsOf.project).toEqual({
      name: "Renamed",
      environments: ["development", "staging", "production"],
    });
    expect(now.featureAsOf.environments.map((e) => e.environment)).toEqual(["development", "staging", "production"]);
    // projectAsOf: the project then, with its features as they were then (an archive after the point does
    // not hide it; a feature created after the point is not there).
    await api.ok(`mutation($id: ID!) { archiveFeature(id: $id) { id } }`, { id: f.createFeature.id });
    await api.ok(`mutation($p: ID!) { createFeature(input: { projectId: $p, key: "later", kind: GATE }) { id } }`, {
      p,
    });
    const projectThen = await api.ok<{
      projectAsOf: { name: string; environments: string[]; features: { key: string }[] };
    }>(`query($p: ID!, $at: String!) { projectAsOf(id: $p, position: $at) { name environments features { key } } }`, {
      p,
      at: before,
    });
    expect(projectThen.projectAsOf).toEqual({
      name: "Replay",
      environments: ["development", "production"],
      features: [{ key: "x" }],
    });
    const hidden = await api.gql(
      `query($p: ID!, $at: String!) { projectAsOf(id: $p, position: $at) { name } }`,
      { p, at: before },
      outsider,
    );
    expect(hidden.data).toEqual({ projectAsOf: null });
  });
});

describe("rebuilding the read models", () => {
  it("gives the live read models back from the log, edits, archives and deletions included", async () => {
    await api.runner.waitFor((await api.store.headPosition()) ?? "");
    const rebuilt = await foldLog(api.store);
    expect(rebuilt.problems).toEqual([]);
    expect(rebuilt.snapshot()).toEqual(api.readModels.snapshot());
  });
});

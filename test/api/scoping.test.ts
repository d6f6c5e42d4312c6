// A token bound to a project sees only that project: for it, another project's entity answers exactly as a
// missing one does — null from a nullable query, NOT_FOUND from a mutation, a non-null query or a
// subscription, with the same message — so a scoped token cannot even learn that another tenant's ids exist.
// And events outside any project (an unbound token's ApiTokenCreated) are never shown to a scoped token.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, createPublishedPipeline, createToken } from "./documents.ts";
import { type GraphQLResponse, startTestApi, subscribe, type TestApi } from "./harness.ts";

let api: TestApi;
let projectA: string;
interface Ids {
  project: string;
  pipeline: string;
  feature: string;
  release: string;
}

/** Another project's entities, and ids nobody has. */
const other = { project: "", pipeline: "", feature: "", release: "", position: "" };
const missing: Ids = {
  project: randomUUID(),
  pipeline: randomUUID(),
  feature: randomUUID(),
  release: `${randomUUID()}.1`,
};
let scopedAdmin: string;
let scopedEditor: string;

beforeAll(async () => {
  api = await startTestApi();
  projectA = await createProject(api, "A");
  other.project = await createProject(api, "B");
  other.pipeline = await createPublishedPipeline(api, other.project, [
    { name: "gate", requiresApproval: true, targets: [{ environment: "development" }] },
  ]);
  const feature = await api.ok<{ createFeature: { id: string } }>(
    /* GraphQL */ `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "theirs", kind: GATE, pipelineId: $pl }) { id } }`,
    { p: other.project, pl: other.pipeline },
  );
  other.feature = feature.createFeature.id;
  const release = await api.ok<{ startRelease: { id: string } }>(
    /* GraphQL */ `mutation($f: ID!) { startRelease(featureId: $f) { id } }`,
    { f: other.feature },
  );
  other.release = release.startRelease.id;
  other.position = (await api.store.headPosition()) ?? "";
  scopedAdmin = await createToken(api, "a-admin", "ADMIN", projectA);
  scopedEditor = await createToken(api, "a-editor", "EDITOR", projectA);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

/** `text` with every id of `ids` replaced by `<kind>` (longest first: a release id contains its feature's). */
function placeholders(text: string, ids: Ids): string {
  const entries = Object.entries(ids).sort(([, a], [, b]) => b.length - a.length);
  return entries.reduce((replaced, [kind, id]) => (id === "" ? replaced : replaced.split(id).join(`<${kind}>`)), text);
}

/** The answer with every id of `ids` replaced by a placeholder, so the two answers can be compared. */
function normalized(result: GraphQLResponse, ids: Ids): unknown {
  const text = JSON.stringify({
    data: result.data,
    errors: result.errors?.map((e) => ({ message: e.message, code: e.extensions?.code })),
  });
  return JSON.parse(placeholders(text, ids));
}

/** Asks `query` for another project's entities and for missing ones: the answers must be the same. */
async function sameAsMissing(query: string, variables: (ids: Ids) => Record<string, unknown>, token = scopedAdmin) {
  const head = await api.store.headPosition();
  const theirs = await api.gql(query, variables(other), token);
  const nobodys = await api.gql(query, variables(missing), token);
  expect(normalized(theirs, other)).toEqual(normalized(nobodys, missing));
  expect(await api.store.headPosition()).toBe(head);
  return theirs;
}

describe("a project-bound token and another project's entities", () => {
  it("nullable queries answer null, as for a missing id", async () => {
    const result = await sameAsMissing(
      /* GraphQL */ `query($project: ID!, $pipeline: ID!, $feature: ID!, $release: ID!, $position: String) {
        project(id: $project) { id }
        pipeline(id: $pipeline) { id }
        feature(id: $feature) { id }
        release(id: $release) { id }
        featureByKey(projectId: $project, key: "theirs") { id }
        featureAsOf(id: $feature, position: $position) { id }
        pipelineAsOf(id: $pipeline, position: $position) { id }
        releaseAsOf(id: $release, position: $position) { id }
      }`,
      (ids) => ({ ...ids, position: other.position }),
    );
    expect(result.errors).toBeUndefined();
    expect(Object.values(result.data ?? {}).every((value) => value === null)).toBe(true);
    // The admin (not bound to a project) does see them.
    const admin = await api.ok<{ feature: { id: string } | null }>(`query($id: ID!) { feature(id: $id) { id } }`, {
      id: other.feature,
    });
    expect(admin.feature?.id).toBe(other.feature);
  });

  it("non-null queries answer NOT_FOUND, as for a missing id", async () => {
    const evaluated = await sameAsMissing(
      /* GraphQL */ `query($project: ID!) { evaluate(projectId: $project, featureKey: "theirs", environment: "development", unit: { id: "u" }) { reason } }`,
      (ids) => ({ project: ids.project }),
    );
    expect(evaluated.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const audit = await sameAsMissing(
      /* GraphQL */ `query($project: ID!) { auditLog(filter: { projectId: $project }) { edges { cursor } } }`,
      (ids) => ({ project: ids.project }),
    );
    expect(audit.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("mutations answer NOT_FOUND, as for a missing id, and write nothing", async () => {
    const mutations: [string, (ids: Ids) => Record<string, unknown>][] = [
      [`mutation($id: ID!) { publishPipeline(id: $id) { id } }`, (ids) => ({ id: ids.pipeline })],
      [`mutation($id: ID!) { updatePipeline(id: $id, input: { name: "x" }) { id } }`, (ids) => ({ id: ids.pipeline })],
      [`mutation($id: ID!) { clonePipeline(id: $id) { id } }`, (ids) => ({ id: ids.pipeline })],
      [`mutation($id: ID!) { deletePipeline(id: $id) { id } }`, (ids) => ({ id: ids.pipeline })],
      [
        `mutation($p: ID!) { createPipeline(input: { projectId: $p, name: "x", phases: [{ name: "x", targets: [{ environment: "development" }] }] }) { id } }`,
        (ids) => ({ p: ids.project }),
      ],
      [
        `mutation($p: ID!) { createFeature(input: { projectId: $p, key: "mine", kind: GATE }) { id } }`,
        (ids) => ({ p: ids.project }),
      ],
      [
        `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "mine", kind: GATE, pipelineId: $pl }) { id } }`,
        (ids) => ({ p: projectA, pl: ids.pipeline }),
      ],
      [
        `mutation($f: ID!, $pl: ID!) { attachPipeline(featureId: $f, pipelineId: $pl) { id } }`,
        (ids) => ({ f: ids.feature, pl: ids.pipeline }),
      ],
      [`mutation($f: ID!) { detachPipeline(featureId: $f) { id } }`, (ids) => ({ f: ids.feature })],
      [
        `mutation($f: ID!) { updateFeature(id: $f, input: { environments: [] }) { __typename } }`,
        (ids) => ({ f: ids.feature }),
      ],
      [`mutation($f: ID!) { startRelease(featureId: $f) { id } }`, (ids) => ({ f: ids.feature })],
      [`mutation($id: ID!) { pauseRelease(id: $id) { id } }`, (ids) => ({ id: ids.release })],
      [`mutation($id: ID!) { abortRelease(id: $id) { id } }`, (ids) => ({ id: ids.release })],
      [`mutation($id: ID!) { approveRelease(id: $id) { id } }`, (ids) => ({ id: ids.release })],
      [
        `mutation($p: ID) { createApiToken(input: { name: "intruder", role: VIEWER, projectId: $p }) { secret } }`,
        (ids) => ({ p: ids.project }),
      ],
    ];
    for (const [query, variables] of mutations) {
      const result = await sameAsMissing(query, variables).catch((error: unknown) => {
        throw new Error(`${query}: ${String(error)}`);
      });
      expect(
        result.errors?.map((e) => e.extensions?.code),
        query,
      ).toEqual(["NOT_FOUND"]);
    }
    // An editor too (not only an admin).
    const editor = await sameAsMissing(
      `mutation($id: ID!) { skipPhase(id: $id) { id } }`,
      (ids) => ({ id: ids.release }),
      scopedEditor,
    );
    expect(editor.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("subscriptions answer NOT_FOUND, as for a missing id", async () => {
    const subscriptions: [string, (ids: Ids) => Record<string, unknown>][] = [
      [`subscription($id: ID!) { releaseUpdated(id: $id) { id } }`, (ids) => ({ id: ids.release })],
      [`subscription($id: ID!) { featureReleases(featureId: $id) { id } }`, (ids) => ({ id: ids.feature })],
      [`subscription($id: ID!) { approvalRequested(projectId: $id) { id } }`, (ids) => ({ id: ids.project })],
    ];
    for (const [query, variables] of subscriptions) {
      const refusals: string[] = [];
      for (const ids of [other, missing]) {
        const attempt = subscribe(api.ws(scopedAdmin), query, variables(ids), (d) => d);
        const error = await attempt.waitFor(1, 5_000).then(
          () => "answered",
          (failure: unknown) => String(failure),
        );
        refusals.push(placeholders(error, ids));
      }
      expect(refusals[0], query).toContain("NOT_FOUND");
      expect(refusals[0]).toBe(refusals[1]);
    }
  });
});

describe("events outside any project", () => {
  it('show projectId "" to an unbound token, and never reach a project-bound one', async () => {
    const TOKENS = /* GraphQL */ `{ auditLog(filter: { types: ["ApiTokenCreated"] }, first: 100) { edges { node { projectId data } } } }`;
    const scoped = subscribe(
      api.ws(scopedAdmin),
      `subscription { auditEvents(filter: { types: ["ApiTokenCreated"] }) { projectId data } }`,
      {},
      (d) => d.auditEvents as { projectId: string; data: { name: string } },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await createToken(api, "unbound", "VIEWER");
    await createToken(api, "bound-to-a", "VIEWER", projectA);

    const admin = await api.gql<{ auditLog: { edges: { node: { projectId: string; data: { name: string } } }[] } }>(
      TOKENS,
    );
    expect(admin.errors).toBeUndefined();
    const byName = new Map(admin.data?.auditLog.edges.map((e) => [e.node.data.name, e.node.projectId]));
    expect(byName.get("admin")).toBe("");
    expect(byName.get("unbound")).toBe("");
    expect(byName.get("bound-to-a")).toBe(projectA);

    const mine = await api.gql<{ auditLog: { edges: { node: { projectId: string } }[] } }>(TOKENS, {}, scopedAdmin);
    expect(mine.errors).toBeUndefined();
    expect(new Set(mine.data?.auditLog.edges.map((e) => e.node.projectId))).toEqual(new Set([projectA]));

    const heard = await scoped.until((e) => e.data.name === "bound-to-a");
    expect(heard.projectId).toBe(projectA);
    expect(scoped.items.map((e) => e.data.name)).toEqual(["bound-to-a"]);
    scoped.stop();
  });
});

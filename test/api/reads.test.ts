// Queries, subscriptions and access: what a token sees, the audit log and its live replay, audit replay of
// entities (asOf), evaluation edge cases, idempotent actions, and the HTTP endpoints around /graphql.

import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  action,
  answered,
  createProject,
  createPublishedPipeline,
  createToken,
  RELEASE_FIELDS,
  type ReleaseView,
} from "./documents.ts";
import { sseSubscribe, startTestApi, subscribe, type TestApi } from "./harness.ts";

let api: TestApi;
let projectA: string;
let projectB: string;
let scopedViewer: string;
let editorA: string;

interface AuditNode {
  position: string;
  type: string;
  entityId: string;
  projectId: string;
  actor: string;
  data: Record<string, unknown>;
}

beforeAll(async () => {
  api = await startTestApi();
  projectA = await createProject(api, "A");
  projectB = await createProject(api, "B");
  scopedViewer = await createToken(api, "vic", "VIEWER", projectA);
  editorA = await createToken(api, "eve", "EDITOR", projectA);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

async function auditPage(args: Record<string, unknown>, token?: string) {
  const data = await api.ok<{
    auditLog: {
      edges: { cursor: string; node: AuditNode }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  }>(
    /* GraphQL */ `query($filter: AuditFilter, $order: SortOrder, $first: Int, $after: String) {
      auditLog(filter: $filter, order: $order, first: $first, after: $after) {
        edges { cursor node { position type entityId projectId actor data } }
        pageInfo { hasNextPage endCursor }
      }
    }`,
    args,
    token,
  );
  return data.auditLog;
}

describe("access", () => {
  it("a project-bound token lists only its project and reads others as missing", async () => {
    const data = await api.ok<{ projects: { id: string }[]; other: unknown; viewer: { projectId: string } }>(
      `query($b: ID!) { projects { id } other: project(id: $b) { id } viewer { projectId } }`,
      { b: projectB },
      scopedViewer,
    );
    expect(data.projects.map((p) => p.id)).toEqual([projectA]);
    expect(data.other).toBeNull();
    expect(data.viewer.projectId).toBe(projectA);
    const admin = await api.ok<{ projects: { id: string }[] }>(`{ projects { id } }`);
    expect(admin.projects.map((p) => p.id)).toEqual([projectA, projectB]);
  });

  it("a new token's secret is shown once and works at once; only its hash is stored", async () => {
    const created = await api.ok<{ createApiToken: { secret: string; name: string; role: string; projectId: string } }>(
      `mutation($p: ID) { createApiToken(input: { name: "ci", role: EDITOR, projectId: $p }) { secret name role projectId } }`,
      { p: projectB },
    );
    expect(created.createApiToken).toMatchObject({ name: "ci", role: "EDITOR", projectId: projectB });
    const secret = created.createApiToken.secret;
    expect(secret).toMatch(/^rp_/);
    const me = await api.ok<{ viewer: { tokenName: string; role: string } }>(
      `{ viewer { tokenName role } }`,
      {},
      secret,
    );
    expect(me.viewer).toEqual({ tokenName: "ci", role: "EDITOR" });
    const events = await api.store.readAll();
    expect(JSON.stringify(events.map((e) => e.data))).not.toContain(secret);
    // The audit log does not show the hash either.
    const log = await auditPage({ filter: { types: ["ApiTokenCreated"] }, first: 10 });
    expect(log.edges.length).toBeGreaterThan(0);
    for (const edge of log.edges) expect(edge.node.data).not.toHaveProperty("secretHash");
  });

  it("the audit log of a project-bound token is its project's only", async () => {
    const log = await auditPage({ first: 100 }, scopedViewer);
    expect(log.edges.length).toBeGreaterThan(0);
    expect(new Set(log.edges.map((e) => e.node.projectId))).toEqual(new Set([projectA]));
  });
});

describe("audit log", () => {
  it("pages newest first by default and oldest first with order ASC, with cursors", async () => {
    const all = await auditPage({ order: "ASC", first: 500 });
    const positions = all.edges.map((e) => e.node.position);
    expect([...positions].sort((a, b) => api.store.comparePositions(a, b))).toEqual(positions);
    const first = await auditPage({ first: 2 });
    expect(first.edges.map((e) => e.cursor)).toEqual(positions.slice(-2).reverse());
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = await auditPage({ first: 2, after: first.pageInfo.endCursor });
    expect(next.edges.map((e) => e.cursor)).toEqual(positions.slice(-4, -2).reverse());
    const projects = await auditPage({ filter: { types: ["ProjectCreated"] }, order: "ASC" });
    expect(projects.edges.map((e) => e.node.entityId)).toEqual([projectA, projectB]);
  });

  it("auditEvents with `after` replays what was missed, then goes live, with no gap and no duplicate", async () => {
    const history = await auditPage({ order: "ASC", first: 500 });
    const from = history.edges[1]?.node.position as string;
    const client = api.ws();
    const live = subscribe(
      client,
      `subscription($after: String) { auditEvents(after: $after) { position type } }`,
      { after: from },
      (d) => d.auditEvents as { position: string; type: string },
    );
    // Writes while the subscription replays and after it went live.
    const writes = Promise.all([createProject(api, "C"), createProject(api, "D")]);
    await writes;
    await createProject(api, "E");
    const everything = await auditPage({ order: "ASC", first: 500 });
    const expected = everything.edges
      .map((e) => e.node.position)
      .filter((p) => api.store.comparePositions(p, from) > 0);
    const got = await live.waitFor(expected.length);
    expect(got.map((e) => e.position)).toEqual(expected);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(live.items).toHaveLength(expected.length);
    live.stop();
  });

  it("a scoped token's auditEvents hears only its project", async () => {
    const events = subscribe(
      api.ws(scopedViewer),
      `subscription { auditEvents { type projectId } }`,
      {},
      (d) => d.auditEvents as { type: string; projectId: string },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await createProject(api, "F");
    await api.ok(
      `mutation($p: ID!) { createFeature(input: { projectId: $p, key: "audited", kind: GATE }) { id } }`,
      { p: projectA },
      editorA,
    );
    const got = await events.until((e) => e.type === "FeatureCreated");
    expect(got.projectId).toBe(projectA);
    expect(events.items.every((e) => e.projectId === projectA)).toBe(true);
    events.stop();
  });
});

describe("subscriptions", () => {
  it("refuse a WebSocket without a valid token: closed 4401 at connection_init", async () => {
    const socket = api.ws(null);
    const closed = new Promise<number>((resolve) =>
      socket.on("closed", (event) => resolve((event as { code: number }).code)),
    );
    const anonymous = subscribe(socket, `subscription { auditEvents { type } }`, {}, (d) => d);
    expect(await closed).toBe(4401);
    expect(anonymous.items).toEqual([]);
  });

  it("work over SSE too", async () => {
    const sse = sseSubscribe(
      api.url,
      api.adminToken,
      `subscription { auditEvents(filter: { types: ["ProjectCreated"] }) { type entityId } }`,
      {},
      (d) => d.auditEvents as { type: string; entityId: string },
    );
    await sse.ready;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const id = await createProject(api, "G");
    const got = await sse.until((e) => e.entityId === id);
    expect(got.type).toBe("ProjectCreated");
    sse.stop();
  });
});

describe("audit replay and evaluation", () => {
  it("pipelineAsOf and releaseAsOf rebuild earlier states; featureAsOf by time", async () => {
    const created = await api.ok<{ createPipeline: { id: string } }>(
      `mutation($p: ID!) { createPipeline(input: { projectId: $p, name: "v1", phases: [{ name: "a", requiresApproval: true, targets: [{ environment: "development" }] }] }) { id } }`,
      { p: projectA },
      editorA,
    );
    const pipelineId = created.createPipeline.id;
    const draftAt = (await auditPage({ filter: { entityId: pipelineId }, first: 1 })).edges[0]?.node.position;
    await api.ok(`mutation($id: ID!) { publishPipeline(id: $id) { id } }`, { id: pipelineId }, editorA);
    const then = await api.ok<{ pipelineAsOf: { status: string; version: number }; pipeline: { status: string } }>(
      `query($id: ID!, $at: String) { pipelineAsOf(id: $id, position: $at) { status version } pipeline(id: $id) { status } }`,
      { id: pipelineId, at: draftAt },
      editorA,
    );
    expect(then).toEqual({ pipelineAsOf: { status: "DRAFT", version: 1 }, pipeline: { status: "PUBLISHED" } });

    const feature = await api.ok<{ createFeature: { id: string } }>(
      `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "replayed", kind: GATE, pipelineId: $pl }) { id } }`,
      { p: projectA, pl: pipelineId },
      editorA,
    );
    const beforeRelease = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = await api.ok<{ startRelease: ReleaseView }>(
      `mutation($f: ID!) { startRelease(featureId: $f) { ${RELEASE_FIELDS} } }`,
      { f: feature.createFeature.id },
      editorA,
    );
    const releaseId = started.startRelease.id;
    const releaseEvents = await auditPage({ filter: { entityId: releaseId }, order: "ASC" });
    const firstPosition = releaseEvents.edges[0]?.node.position;
    const asOf = await api.ok<{
      releaseAsOf: { version: number; phases: { status: string }[] };
      featureAsOf: { activeRelease: unknown; version: number };
    }>(
      `query($r: ID!, $p: String, $f: ID!, $at: DateTime) {
        releaseAsOf(id: $r, position: $p) { version phases { status } }
        featureAsOf(id: $f, at: $at) { version activeRelease { id } }
      }`,
      { r: releaseId, p: firstPosition, f: feature.createFeature.id, at: beforeRelease },
      editorA,
    );
    expect(asOf.releaseAsOf).toEqual({ version: 1, phases: [{ status: "PENDING" }] });
    expect(asOf.featureAsOf.version).toBe(1);
    // Another project's entity, as of any point, is not there for a scoped token.
    const hidden = await api.gql<{ releaseAsOf: unknown }>(
      `query($r: ID!, $p: String) { releaseAsOf(id: $r, position: $p) { id } }`,
      { r: releaseId, p: firstPosition },
      await createToken(api, "bea", "VIEWER", projectB),
    );
    expect(hidden.data).toEqual({ releaseAsOf: null });
  });

  it("evaluate: an unknown feature key answers NOT_FOUND as the reason; an unknown environment is VALIDATION", async () => {
    const missing = await api.ok<{ evaluate: { enabled: boolean; reason: string; value: unknown } }>(
      `query($p: ID!) { evaluate(projectId: $p, featureKey: "nope", environment: "development", unit: { id: "u" }) { enabled reason value } }`,
      { p: projectA },
    );
    expect(missing.evaluate).toEqual({ enabled: false, reason: "NOT_FOUND", value: null });
    const bad = await api.gql(
      `query($p: ID!) { evaluate(projectId: $p, featureKey: "nope", environment: "moon", unit: { id: "u" }) { reason } }`,
      { p: projectA },
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "environment" });
  });
});

describe("idempotent actions", () => {
  /** A release of a new feature whose only phase bakes for an hour: it stays WAITING. */
  async function bakingRelease(key: string): Promise<string> {
    const pipelineId = await createPublishedPipeline(
      api,
      projectA,
      [{ name: "bake", waitFor: "PT1H", targets: [{ environment: "staging" }] }],
      { token: editorA },
    );
    const feature = await api.ok<{ createFeature: { id: string } }>(
      `mutation($p: ID!, $k: String!, $pl: ID) { createFeature(input: { projectId: $p, key: $k, kind: GATE, pipelineId: $pl }) { id } }`,
      { p: projectA, k: key, pl: pipelineId },
      editorA,
    );
    const started = await api.ok<{ startRelease: ReleaseView }>(
      `mutation($f: ID!) { startRelease(featureId: $f) { ${RELEASE_FIELDS} } }`,
      { f: feature.createFeature.id },
      editorA,
    );
    return started.startRelease.id;
  }

  const PAUSE = `mutation($id: ID!) { pauseRelease(id: $id, reason: "retry me") { ${RELEASE_FIELDS} } }`;
  const UNPAUSE = `mutation($id: ID!) { unpauseRelease(id: $id) { ${RELEASE_FIELDS} } }`;

  it("a retried action with the same Idempotency-Key is applied once and answers the same", async () => {
    const id = await bakingRelease("retried");
    const headers = { "idempotency-key": "pause-once" };
    const first = answered(await api.gql<Record<string, ReleaseView>>(PAUSE, { id }, editorA, headers));
    const again = answered(await api.gql<Record<string, ReleaseView>>(PAUSE, { id }, editorA, headers));
    expect(again.version).toBe(first.version);
    expect(again.actions.filter((a) => a.kind === "PAUSE")).toHaveLength(1);
    // Without the key, a second pause is a new request: the phase is no longer WAITING.
    const fresh = await action(api, "pauseRelease", id, {}, editorA);
    expect(fresh.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");
    answered(await action(api, "abortRelease", id, {}, editorA));
  });

  it("without an Idempotency-Key, a retry with the same X-Request-Id is applied once; another request id is a new action", async () => {
    const id = await bakingRelease("retried-by-request-id");
    const first = answered(
      await api.gql<Record<string, ReleaseView>>(PAUSE, { id }, editorA, { "x-request-id": "req-pause-1" }),
    );
    const again = answered(
      await api.gql<Record<string, ReleaseView>>(PAUSE, { id }, editorA, { "x-request-id": "req-pause-1" }),
    );
    expect(again.version).toBe(first.version);
    expect(again.actions.filter((a) => a.kind === "PAUSE")).toHaveLength(1);
    answered(await api.gql<Record<string, ReleaseView>>(UNPAUSE, { id }, editorA, { "x-request-id": "req-unpause-1" }));
    // A new request id: a new pause, applied (the phase is WAITING again).
    const second = answered(
      await api.gql<Record<string, ReleaseView>>(PAUSE, { id }, editorA, { "x-request-id": "req-pause-2" }),
    );
    expect(second.actions.map((a) => a.kind)).toEqual(["PAUSE", "UNPAUSE", "PAUSE"]);
    answered(await action(api, "abortRelease", id, {}, editorA));
  });
});

describe("HTTP", () => {
  it("serves /healthz, /readyz and GraphiQL", async () => {
    const base = api.url.replace(/\/graphql$/, "");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready" });
    // GraphiQL's introspection query passes the depth and cost limits (with a token: it needs one).
    const introspection = await api.gql<{ __schema: { types: unknown[] } }>(getIntrospectionQuery(), {});
    expect(introspection.errors).toBeUndefined();
    expect(introspection.data?.__schema.types.length).toBeGreaterThan(30);
    const graphiql = await fetch(api.url, { headers: { accept: "text/html" } });
    expect(graphiql.status).toBe(200);
    expect(await graphiql.text()).toContain("GraphiQL");
  });
});

// SDK keys over GraphQL and the SDK endpoints over HTTP, against the API wired as `npm start` wires it:
// createSdkKey / revokeSdkKey / Project.sdkKeys (ADMIN, events, hashed secrets), GET /sdk/v1/config
// (JSON Schema, ETag/304, gzip, 401 JSON), GET /sdk/v1/stream (put, patches, heartbeats, Last-Event-ID
// resume, malformed ids, close on revoke).

import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, createToken } from "../api/documents.ts";
import { startTestApi, type TestApi } from "../api/harness.ts";
import { assertValidDocument, assertValidPatch } from "./document-schema.ts";
import { openStream } from "./sse-client.ts";

let api: TestApi;
let base: string;
let projectId: string;
let otherProjectId: string;
let keyId: string;
let secret: string;

const CREATE_KEY = /* GraphQL */ `
  mutation($p: ID!, $e: String!, $n: String!) {
    createSdkKey(projectId: $p, environment: $e, name: $n) {
      secret
      key { id name environment createdAt createdBy revokedAt project { id } }
    }
  }`;
const REVOKE_KEY = /* GraphQL */ `mutation($id: ID!) { revokeSdkKey(id: $id) { id revokedAt } }`;

async function createKey(environment = "production", name = "checkout-service", token?: string | null) {
  return api.gql<{ createSdkKey: { secret: string; key: { id: string; name: string; environment: string } } }>(
    CREATE_KEY,
    { p: projectId, e: environment, n: name },
    token,
  );
}

async function createFeature(key: string, kind: "GATE" | "DYNAMIC_CONFIG", definition: Record<string, unknown>) {
  const data = await api.ok<{ createFeature: { id: string } }>(
    /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`,
    { input: { projectId, key, kind, environments: [{ environment: "production", definition }] } },
  );
  return data.createFeature.id;
}

async function updateProduction(featureId: string, definition: Record<string, unknown>): Promise<void> {
  await api.ok(
    /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) { updateFeature(id: $id, input: $input) { __typename } }`,
    { id: featureId, input: { environments: [{ environment: "production", definition }] } },
  );
}

const getConfig = (key: string | null, headers: Record<string, string> = {}) =>
  fetch(`${base}/sdk/v1/config`, {
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...headers },
  });

let bannerId: string;

beforeAll(async () => {
  api = await startTestApi({ options: { sdkHeartbeatMs: 250 } });
  base = api.url.replace(/\/graphql$/, "");
  projectId = await createProject(api, "Serving");
  otherProjectId = await createProject(api, "Other");
  bannerId = await createFeature("banner", "DYNAMIC_CONFIG", {
    enabled: true,
    value: { text: "hello" },
    rules: [{ segment: "us-west", enabled: true, value: { text: "howdy" }, rolloutPercentage: 50 }],
  });
  await createFeature("dark-mode", "GATE", { enabled: false });
  const created = await createKey();
  expect(created.errors).toBeUndefined();
  keyId = created.data?.createSdkKey.key.id ?? "";
  secret = created.data?.createSdkKey.secret ?? "";
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe("SDK keys", () => {
  it("an ADMIN creates one per environment: the secret is shown once and only its hash is stored", async () => {
    expect(secret).toMatch(/^rp_sdk_[A-Za-z0-9_-]{43}$/);
    const listed = await api.ok<{
      project: { sdkKeys: { id: string; name: string; environment: string; createdBy: string }[] };
    }>(/* GraphQL */ `query($p: ID!) { project(id: $p) { sdkKeys { id name environment createdBy revokedAt } } }`, {
      p: projectId,
    });
    expect(listed.project.sdkKeys).toEqual([
      { id: keyId, name: "checkout-service", environment: "production", createdBy: "admin", revokedAt: null },
    ]);
    // Stored as an event of its own stream, with the hash — never the secret; the audit log hides the hash too.
    const events = await api.store.readStream(`sdkkey-${keyId}`);
    expect(events.map((e) => e.type)).toEqual(["SdkKeyCreated"]);
    const stored = JSON.stringify(events.map(({ data, metadata }) => ({ data, metadata })));
    expect(stored).not.toContain(secret);
    expect(stored).toContain(createHash("sha256").update(secret).digest("hex"));
    const audit = await api.ok<{ auditLog: { edges: { node: { type: string; data: Record<string, unknown> } }[] } }>(
      /* GraphQL */ `query($id: ID!) { auditLog(filter: { entityId: $id }) { edges { node { type data } } } }`,
      { id: keyId },
    );
    expect(audit.auditLog.edges.map((e) => e.node.type)).toEqual(["SdkKeyCreated"]);
    expect(audit.auditLog.edges[0]?.node.data).not.toHaveProperty("secretHash");
    expect(audit.auditLog.edges[0]?.node.data).toMatchObject({ environment: "production", name: "checkout-service" });
  });

  it("needs ADMIN, and a project-bound ADMIN sees only its own project", async () => {
    const editor = await createToken(api, "sdk-editor", "EDITOR", projectId);
    expect((await createKey("production", "x", editor)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const listed = await api.gql(
      /* GraphQL */ `query($p: ID!) { project(id: $p) { sdkKeys { id } } }`,
      { p: projectId },
      editor,
    );
    expect(listed.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const otherAdmin = await createToken(api, "other-admin", "ADMIN", otherProjectId);
    expect((await createKey("production", "x", otherAdmin)).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const revoke = await api.gql(REVOKE_KEY, { id: keyId }, otherAdmin);
    expect(revoke.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("refuses an unknown environment and a blank name with VALIDATION, writing nothing", async () => {
    const head = await api.store.headPosition();
    const unknown = await createKey("prod");
    expect(unknown.errors?.[0]?.extensions?.code).toBe("VALIDATION");
    expect(unknown.errors?.[0]?.message).toContain("development, staging, production");
    expect((await createKey("production", "   ")).errors?.[0]?.extensions?.code).toBe("VALIDATION");
    expect(await api.store.headPosition()).toBe(head);
  });

  it("opens no GraphQL operation: an SDK key is not an API token", async () => {
    const answer = await api.gql(/* GraphQL */ `{ projects { id } }`, {}, secret);
    expect(answer.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("GET /sdk/v1/config", () => {
  it("answers the environment's document, valid against the published JSON Schema, with an ETag", async () => {
    const response = await getConfig(secret);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    const doc = await response.json();
    assertValidDocument(doc);
    expect(doc).toMatchObject({ schemaVersion: 2, projectId, environment: "production" });
    expect(doc.features.map((f: { key: string }) => f.key)).toEqual(["banner", "dark-mode"]);
    expect(doc.features[0].definition.rules[0]).toEqual({
      segment: "us-west",
      enabled: true,
      value: { text: "howdy" },
      rolloutPercentage: 50,
    });
    expect(doc.segments.map((s: { key: string }) => s.key)).toEqual(["us-west", "us-east"]);
    expect(response.headers.get("etag")).toBe(`W/"${doc.version}"`);
    expect(response.headers.get("x-config-version")).toBe(doc.version);
  });

  it("answers 304 to If-None-Match with the current ETag, 200 once the configuration changed", async () => {
    const first = await getConfig(secret);
    const etag = first.headers.get("etag") ?? "";
    const { version } = await first.json();
    const unchanged = await getConfig(secret, { "if-none-match": etag });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe("");
    // The strong form and a list match too.
    expect((await getConfig(secret, { "if-none-match": `"nope", "${version}"` })).status).toBe(304);
    await updateProduction(bannerId, { enabled: true, value: { text: "changed" } });
    const changed = await getConfig(secret, { "if-none-match": etag });
    expect(changed.status).toBe(200);
    const doc = await changed.json();
    expect(doc.version).not.toBe(version);
    expect(doc.features[0].definition.value).toEqual({ text: "changed" });
  });

  it("gzips when asked", async () => {
    const plain = await (await getConfig(secret)).text();
    const zipped = await getConfig(secret, { "accept-encoding": "gzip" });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(zipped.headers.get("vary")).toContain("Accept-Encoding");
    expect(await zipped.text()).toBe(plain);
    expect((await getConfig(secret, { "accept-encoding": "identity" })).headers.get("content-encoding")).toBeNull();
  });

  it("answers 401 with a JSON error code to a missing, unknown or non-SDK key", async () => {
    const admin = api.adminToken;
    for (const key of [null, "rp_sdk_unknown", admin]) {
      const response = await getConfig(key);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
      const body = await response.json();
      expect(body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    }
    const malformed = await fetch(`${base}/sdk/v1/config`, { headers: { authorization: "Basic abc" } });
    expect(malformed.status).toBe(401);
  });

  it("answers 404 and 405 as JSON for other paths and methods, and the same document in process (app.fetch)", async () => {
    const missing = await fetch(`${base}/sdk/v1/flags`, { headers: { authorization: `Bearer ${secret}` } });
    expect(missing.status).toBe(404);
    expect((await missing.json()).errors[0].extensions.code).toBe("NOT_FOUND");
    const post = await fetch(`${base}/sdk/v1/config`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(post.status).toBe(405);
    const inProcess = await api.app.fetch(
      new Request(`${base}/sdk/v1/config`, { headers: { authorization: `Bearer ${secret}` } }),
    );
    expect(await inProcess.text()).toBe(await (await getConfig(secret)).text());
  });
});

describe("GET /sdk/v1/stream", () => {
  it("starts with the document, then sends each change as a patch, with heartbeats", async () => {
    const stream = await openStream(base, secret);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const put = await stream.next((e) => e.event === "put");
    const doc = JSON.parse(put.data);
    assertValidDocument(doc);
    expect(put.id).toBe(doc.version);
    await stream.heartbeats(2);

    await updateProduction(bannerId, { enabled: false, value: { text: "off" } });
    const patchEvent = await stream.next((e) => e.event === "patch");
    const patch = JSON.parse(patchEvent.data);
    assertValidPatch(patch);
    expect(patch.previousVersion).toBe(doc.version);
    expect(patchEvent.id).toBe(patch.version);
    expect(patch.features.map((f: { key: string }) => f.key)).toEqual(["banner"]);
    expect(patch.features[0].definition).toEqual({ enabled: false, value: { text: "off" }, rules: [] });
    // The patch leads to exactly what the config endpoint now serves.
    expect((await (await getConfig(secret)).json()).version).toBe(patch.version);
    stream.close();
  });

  it("resumes from Last-Event-ID: the patches since that version, nothing when current, the document when unknown", async () => {
    const first = await openStream(base, secret);
    const put = await first.next((e) => e.event === "put");
    first.close();
    await updateProduction(bannerId, { enabled: true, value: { text: "resumed" } });

    const resumed = await openStream(base, secret, { "last-event-id": put.id ?? "" });
    const replay = await resumed.next();
    expect(replay.event).toBe("patch");
    expect(JSON.parse(replay.data)).toMatchObject({ previousVersion: put.id });
    const current = replay.id ?? "";
    resumed.close();

    const upToDate = await openStream(base, secret, { "last-event-id": current });
    await upToDate.heartbeats(2);
    expect(upToDate.events).toEqual([]);
    upToDate.close();

    const unknown = await openStream(base, secret, { "last-event-id": "0123456789abcdef" });
    expect((await unknown.next()).event).toBe("put");
    unknown.close();
  });

  it("refuses a malformed Last-Event-ID with 400 VALIDATION", async () => {
    for (const id of ["not-a-version", "0123456789ABCDEF", "12345", "0123456789abcdef0"]) {
      const stream = await openStream(base, secret, { "last-event-id": id });
      expect(stream.status).toBe(400);
      const body = JSON.parse(stream.body ?? "{}");
      expect(body.errors[0].extensions.code).toBe("VALIDATION");
      expect(body.errors[0].message).toContain("Last-Event-ID");
    }
  });

  it("answers 401 JSON to a bad key", async () => {
    const stream = await openStream(base, "rp_sdk_nope");
    expect(stream.status).toBe(401);
    expect(JSON.parse(stream.body ?? "{}").errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("closes when its key is revoked; the key is refused at once everywhere", async () => {
    const created = await createKey("production", "to-revoke");
    const doomed = created.data?.createSdkKey ?? { secret: "", key: { id: "" } };
    const stream = await openStream(base, doomed.secret);
    await stream.next((e) => e.event === "put");
    const other = await openStream(base, secret);
    await other.next((e) => e.event === "put");

    const revoked = await api.ok<{ revokeSdkKey: { id: string; revokedAt: string | null } }>(REVOKE_KEY, {
      id: doomed.key.id,
    });
    expect(revoked.revokeSdkKey.revokedAt).not.toBeNull();
    const last = await stream.next((e) => e.event === "revoked");
    expect(JSON.parse(last.data).code).toBe("UNAUTHENTICATED");
    await stream.ended();
    expect((await getConfig(doomed.secret)).status).toBe(401);
    expect((await openStream(base, doomed.secret)).status).toBe(401);
    // Another key's stream stays open.
    expect(other.closed).toBe(false);
    other.close();

    const again = await api.gql(REVOKE_KEY, { id: doomed.key.id });
    expect(again.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");
    const all = await api.ok<{
      project: { active: { id: string }[]; all: { id: string; revokedAt: string | null }[] };
    }>(
      /* GraphQL */ `query($p: ID!) { project(id: $p) { active: sdkKeys { id } all: sdkKeys(includeRevoked: true) { id revokedAt } } }`,
      { p: projectId },
    );
    expect(all.project.active.map((k) => k.id)).not.toContain(doomed.key.id);
    expect(all.project.all.find((k) => k.id === doomed.key.id)?.revokedAt).not.toBeNull();
  });
});

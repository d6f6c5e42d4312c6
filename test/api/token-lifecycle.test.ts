// API tokens over their life: listed by an ADMIN, created with an expiry, revoked. A revoked or expired
// token answers UNAUTHENTICATED everywhere and its open subscriptions (graphql-ws and SSE) end within 5 s.
// Reserved and over-long names are VALIDATION with nothing written.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, createToken } from "./documents.ts";
import { sseSubscribe, startTestApi, subscribe, type TestApi } from "./harness.ts";

let api: TestApi;
let projectA: string;
let projectB: string;

const CREATE = /* GraphQL */ `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { name secret } }`;
const LIST = /* GraphQL */ `query($projectId: ID, $all: Boolean) { apiTokens(projectId: $projectId, includeRevoked: $all) { id name role projectId createdAt createdBy expiresAt revokedAt } }`;
const REVOKE = /* GraphQL */ `mutation($id: ID!) { revokeApiToken(id: $id) { id name revokedAt } }`;

interface TokenView {
  id: string;
  name: string;
  role: string;
  projectId: string | null;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

const list = async (variables: Record<string, unknown> = {}, token?: string): Promise<TokenView[]> =>
  (await api.ok<{ apiTokens: TokenView[] }>(LIST, variables, token)).apiTokens;

const idOf = async (name: string): Promise<string> => {
  const found = (await list({ all: true })).find((token) => token.name === name);
  if (found === undefined) throw new Error(`no token ${name}`);
  return found.id;
};

/** The close code of a graphql-ws client's socket, once it closes. */
const closeCode = (client: ReturnType<TestApi["ws"]>): Promise<number> =>
  new Promise((resolve) => client.on("closed", (event) => resolve((event as { code: number }).code)));

beforeAll(async () => {
  api = await startTestApi({ worker: false, options: { expirySweepMs: 250 } });
  projectA = await createProject(api, "A");
  projectB = await createProject(api, "B");
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe("apiTokens", () => {
  it("an ADMIN lists tokens oldest first, never their secrets; a project-bound ADMIN sees its project's", async () => {
    await createToken(api, "lister-a", "VIEWER", projectA);
    await createToken(api, "lister-b", "EDITOR", projectB);
    const adminA = await createToken(api, "admin-a", "ADMIN", projectA);
    const all = await list();
    expect(all.map((t) => t.name)).toEqual(expect.arrayContaining(["admin", "lister-a", "lister-b", "admin-a"]));
    expect(all[0]?.name).toBe("admin");
    expect(all.find((t) => t.name === "lister-a")).toMatchObject({
      role: "VIEWER",
      projectId: projectA,
      createdBy: "admin",
    });
    expect(JSON.stringify(all)).not.toContain("secret");
    expect((await list({ projectId: projectB })).map((t) => t.name)).toEqual(["lister-b"]);
    const scoped = await list({}, adminA);
    expect(scoped.every((t) => t.projectId === projectA)).toBe(true);
    expect(scoped.map((t) => t.name)).toContain("lister-a");
  });

  it("needs the ADMIN role: FORBIDDEN for a VIEWER, UNAUTHENTICATED without a token", async () => {
    const viewer = await createToken(api, "viewer-list", "VIEWER");
    expect((await api.gql(LIST, {}, viewer)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await api.gql(LIST, {}, null)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("names and expiry at creation", () => {
  it("system and unknown are reserved, in any case: VALIDATION, nothing written", async () => {
    const head = await api.store.headPosition();
    for (const name of ["system", "System", " UNKNOWN ", "ｓｙｓｔｅｍ"]) {
      const result = await api.gql(CREATE, { input: { name, role: "VIEWER" } });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "name" });
      expect(result.errors?.[0]?.message).toContain("reserved");
    }
    const long = await api.gql(CREATE, { input: { name: "n".repeat(201), role: "VIEWER" } });
    expect(long.errors?.[0]?.message).toBe("name: must be at most 200 characters (got 201)");
    expect(await api.store.headPosition()).toBe(head);
  });

  it("an expiry in the past is VALIDATION naming expiresAt; an impossible date too", async () => {
    const head = await api.store.headPosition();
    const past = await api.gql(CREATE, { input: { name: "late", role: "VIEWER", expiresAt: "2020-01-01T00:00:00Z" } });
    expect(past.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "expiresAt" });
    const impossible = await api.gql(CREATE, {
      input: { name: "late", role: "VIEWER", expiresAt: "2030-02-30T00:00:00Z" },
    });
    expect(impossible.errors?.[0]?.extensions?.code).toBe("VALIDATION");
    expect(await api.store.headPosition()).toBe(head);
  });
});

describe("revokeApiToken", () => {
  it("the token stops working at once; its WebSocket and SSE subscriptions end within 5 s", async () => {
    const secret = await createToken(api, "leaver", "VIEWER");
    const id = await idOf("leaver");
    expect((await api.gql("{ viewer { tokenName } }", {}, secret)).errors).toBeUndefined();

    const client = api.ws(secret);
    const closed = closeCode(client);
    const ws = subscribe(client, `subscription { auditEvents { type } }`, {}, (d) => d);
    const sse = sseSubscribe(api.url, secret, `subscription { auditEvents { type } }`, {}, (d) => d);
    await sse.ready;
    await expect.poll(() => api.app.live.openCountOf(id), { timeout: 5_000 }).toBe(2);

    const revoked = await api.ok<{ revokeApiToken: TokenView }>(REVOKE, { id });
    expect(revoked.revokeApiToken.revokedAt).not.toBeNull();
    const started = performance.now();
    expect(await closed).toBe(4403);
    await expect.poll(() => api.app.live.openCountOf(id), { timeout: 5_000 }).toBe(0);
    await expect.poll(() => sse.completed || sse.errors.length > 0, { timeout: 5_000 }).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(ws.items).toEqual([]);

    const after = await api.gql("{ viewer { tokenName } }", {}, secret);
    expect(after.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const reconnect = api.ws(secret);
    const refused = closeCode(reconnect);
    subscribe(reconnect, `subscription { auditEvents { type } }`, {}, (d) => d);
    expect(await refused).toBe(4401);
    // Listed only with includeRevoked.
    expect((await list()).some((t) => t.id === id)).toBe(false);
    expect((await list({ all: true })).find((t) => t.id === id)?.revokedAt).not.toBeNull();
  });

  it("revoking twice answers the revoked token and writes nothing more", async () => {
    await createToken(api, "twice", "VIEWER");
    const id = await idOf("twice");
    const first = await api.ok<{ revokeApiToken: TokenView }>(REVOKE, { id });
    const head = await api.store.headPosition();
    const second = await api.ok<{ revokeApiToken: TokenView }>(REVOKE, { id });
    expect(second.revokeApiToken.revokedAt).toBe(first.revokeApiToken.revokedAt);
    expect(await api.store.headPosition()).toBe(head);
  });

  it("an unknown id is NOT_FOUND; a VIEWER is FORBIDDEN; a project-bound ADMIN cannot reach another project's", async () => {
    const head = await api.store.headPosition();
    expect((await api.gql(REVOKE, { id: "nope" })).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const viewer = await createToken(api, "viewer-revoke", "VIEWER");
    const adminId = await idOf("admin");
    expect((await api.gql(REVOKE, { id: adminId }, viewer)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const adminB = await createToken(api, "admin-b", "ADMIN", projectB);
    const lister = await idOf("lister-a");
    const before = await api.store.headPosition();
    expect((await api.gql(REVOKE, { id: lister }, adminB)).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(await api.store.headPosition()).toBe(before);
    expect(head).not.toBeNull();
  });
});

describe("expiry", () => {
  it("an expired token answers UNAUTHENTICATED and its subscription ends within 5 s of the expiry", async () => {
    const expiresAt = new Date(Date.now() + 2_000).toISOString();
    const created = await api.ok<{ createApiToken: { secret: string } }>(CREATE, {
      input: { name: "short-lived", role: "VIEWER", expiresAt },
    });
    const secret = created.createApiToken.secret;
    expect((await list()).find((t) => t.name === "short-lived")?.expiresAt).toBe(expiresAt);
    expect((await api.gql("{ viewer { tokenName } }", {}, secret)).errors).toBeUndefined();
    const client = api.ws(secret);
    const closed = closeCode(client);
    const ws = subscribe(client, `subscription { auditEvents { type } }`, {}, (d) => d);
    const id = await idOf("short-lived");
    await expect.poll(() => api.app.live.openCountOf(id), { timeout: 5_000 }).toBe(1);
    // Ended by the server: the subscription with UNAUTHENTICATED (then the lazy client closes, 1000), or
    // the socket with 4403 — whichever sweep comes first.
    const code = await closed;
    expect(Date.now() - Date.parse(expiresAt)).toBeLessThan(5_000);
    if (code !== 4403) {
      expect(code).toBe(1000);
      expect(JSON.stringify(ws.errors)).toContain("UNAUTHENTICATED");
    }
    expect(api.app.live.openCountOf(id)).toBe(0);
    expect(ws.items).toEqual([]);
    expect((await api.gql("{ viewer { tokenName } }", {}, secret)).errors?.[0]?.extensions?.code).toBe(
      "UNAUTHENTICATED",
    );
  });
});

// Every attack of issue 17 as a black-box request against the built app (HTTP, raw sockets, graphql-ws):
// each is answered with the right code, with a small answer, fast, and the event log's head unchanged.
// Each test fails if the protection it names is removed.

import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Writable } from "node:stream";
import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { buildApp } from "../../services/api/app.ts";
import { streams } from "../../services/core/streams.ts";
import { createLogger } from "../../services/platform/logger.ts";
import { createProject, createToken } from "./documents.ts";
import { type GraphQLResponse, startTestApi, subscribe, type TestApi } from "./harness.ts";

let api: TestApi;
let projectA: string;
/** A feature of projectA with a 601-event stream (the issue measured its timing oracle on 401). */
let featureA: string;
let projectB: string;
let viewerB: string;
/** Log lines the API wrote (JSON). */
const logLines: Record<string, unknown>[] = [];
const isError = (line: Record<string, unknown>): boolean => line.level === "error" || line.level === "fatal";

const EVERY_AUDIT_FIELD = /* GraphQL */ `edges { cursor node { position type stream entityId projectId actor at data } } pageInfo { hasNextPage endCursor }`;

/** POST a raw body; the answer's status, headers and text. */
async function post(body: string, headers: Record<string, string> = {}, token: string | null = api.adminToken) {
  const response = await fetch(api.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token !== null && { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Sends raw bytes over TCP; the whole answer (until the server closes or `ms` pass). */
function raw(port: number, bytes: string, ms = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, ms);
    socket.on("data", (chunk) => {
      answer += chunk.toString("utf8");
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on("error", () => {});
    socket.write(bytes);
  });
}

const portOf = (url: string): number => Number(new URL(url).port);

/** The JSON body of a raw HTTP answer. */
const bodyOf = (answer: string): { errors?: { message: string; extensions?: Record<string, unknown> }[] } =>
  JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));

/** An answer refused with `code` (and `limit`, if given), small, and nothing written. */
async function refusedQuickly(
  request: () => Promise<GraphQLResponse>,
  code: string,
  limit?: string,
): Promise<GraphQLResponse> {
  const head = await api.store.headPosition();
  const started = performance.now();
  const result = await request();
  const elapsed = performance.now() - started;
  expect(result.errors?.map((e) => e.extensions?.code)).toContain(code);
  if (limit !== undefined) {
    expect(result.errors?.[0]?.extensions).toMatchObject({ code, limit });
    expect(result.errors?.[0]?.message).not.toContain("Syntax Error");
    expect(result.errors?.[0]?.message.toLowerCase()).toContain(limit === "tokens" ? "token" : limit.slice(0, -1));
  }
  expect(result.data ?? null).toBeNull();
  expect(JSON.stringify(result).length).toBeLessThan(2_000);
  expect(elapsed).toBeLessThan(2_000);
  expect(await api.store.headPosition()).toBe(head);
  return result;
}

beforeAll(async () => {
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split("\n")) if (line.trim() !== "") logLines.push(JSON.parse(line));
      callback();
    },
  });
  api = await startTestApi({
    worker: false,
    logger: createLogger("test", { level: "debug", destination }),
    options: { connectionInitTimeoutMs: 500 },
  });
  projectA = await createProject(api, "A");
  projectB = await createProject(api, "B");
  viewerB = await createToken(api, "viewer-b", "VIEWER", projectB);
  const created = await api.ok<{ createFeature: { id: string } }>(
    `mutation($p: ID!) { createFeature(input: { projectId: $p, key: "big", kind: DYNAMIC_CONFIG }) { id } }`,
    { p: projectA },
  );
  featureA = created.createFeature.id;
  // 600 more events on the feature's stream, appended as the API would (FeatureUpdated with one change).
  // (and enough events for a full 500-event audit page)
  const events = Array.from({ length: 600 }, (_, i) => ({
    id: randomUUID(),
    type: "FeatureUpdated",
    data: {
      featureId: featureA,
      description: `d${i}`,
      environments: [],
      cause: "DIRECT",
      releaseId: null,
      at: new Date().toISOString(),
    },
    metadata: {
      actor: "admin",
      occurredAt: new Date().toISOString(),
      correlationId: randomUUID(),
      causationId: null,
      schemaVersion: 1,
      projectId: projectA,
    },
  }));
  await api.store.append(streams.feature(featureA), events, "any");
  const head = await api.store.headPosition();
  if (head !== null) await api.runner.waitFor(head);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe("query limits count what a query costs, with its variables", () => {
  it("a 500-event auditLog page with every field is answered, first as a literal and as a variable", async () => {
    const literal = await api.gql<{ auditLog: { edges: unknown[] } }>(
      `{ auditLog(first: 500) { ${EVERY_AUDIT_FIELD} } }`,
    );
    expect(literal.errors).toBeUndefined();
    expect(literal.data?.auditLog.edges).toHaveLength(500);
    const variable = await api.gql<{ auditLog: { edges: unknown[] } }>(
      `query($n: Int) { auditLog(first: $n) { ${EVERY_AUDIT_FIELD} } }`,
      { n: 500 },
    );
    expect(variable.errors).toBeUndefined();
    expect(variable.data?.auditLog.edges).toHaveLength(500);
  });

  it("first outside 1..500 is VALIDATION naming first", async () => {
    for (const n of [0, 501, -1]) {
      const result = await refusedQuickly(
        () => api.gql(`query($n: Int) { auditLog(first: $n) { edges { cursor } } }`, { n }),
        "VALIDATION",
      );
      expect(result.errors?.[0]?.extensions?.field).toBe("first");
    }
  });

  it("cost: pages nested in lists are priced by their `first`, given as a variable or a literal", async () => {
    const query = (first: string) =>
      `query${first === "$n" ? "($n: Int)" : ""} { projects { features { history(first: ${first}) { ${EVERY_AUDIT_FIELD} } } } }`;
    const byVariable = await refusedQuickly(() => api.gql(query("$n"), { n: 500 }), "VALIDATION", "cost");
    expect(byVariable.errors?.[0]?.message).toMatch(/costs \d+, at most 50000/);
    await refusedQuickly(() => api.gql(query("500"), {}), "VALIDATION", "cost");
    // The same shape with a small page is an ordinary query.
    const small = await api.gql(query("$n"), { n: 5 });
    expect(small.errors).toBeUndefined();
  });

  it("aliases: 300 featureAsOf at distinct instants are refused before any fold, the event loop stays responsive", async () => {
    const aliases = Array.from(
      { length: 300 },
      (_, i) =>
        `a${i}: featureAsOf(id: "${featureA}", at: "${new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()}") { id description }`,
    ).join("\n");
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    for (let i = 0; i < 10; i++) {
      const result = await api.gql(`{ ${aliases} }`);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", limit: "aliases" });
      expect(result.errors?.[0]?.message).toContain("at most 30 aliases");
    }
    lag.disable();
    // Nothing ran that could hold the loop: no stall of a quarter second while ten such queries were refused
    // (300 folds of a 601-event stream take seconds; the loop's worst delay here is parse and validation).
    expect(lag.max / 1e6).toBeLessThan(250);
    await refusedQuickly(() => api.gql(`{ ${aliases} }`), "VALIDATION", "aliases");
  });

  it("depth counts introspection: a deep __schema query is refused", async () => {
    let nested = "name";
    for (let i = 0; i < 20; i++) nested = `ofType { ${nested} }`;
    await refusedQuickly(
      () => api.gql(`{ __schema { types { fields { type { ${nested} } } } } }`),
      "VALIDATION",
      "depth",
    );
  });

  it("introspection needs a token; aliased __schema fragments are refused even with one", async () => {
    // The same document first with a token (answered), then without: no verdict is reused across callers.
    expect((await api.gql(`{ __schema { types { name } } }`)).errors).toBeUndefined();
    const anonymous = await refusedQuickly(
      () => api.gql(`{ __schema { types { name } } }`, {}, null),
      "UNAUTHENTICATED",
    );
    expect(anonymous.errors?.[0]?.message).toContain("Introspection needs a valid API token");
    await refusedQuickly(() => api.gql(`{ __type(name: "Query") { name } }`, {}, null), "UNAUTHENTICATED");
    // GraphiQL's own introspection query works with a token.
    expect((await api.gql(getIntrospectionQuery())).errors).toBeUndefined();
    const fragment = `fragment All on __Schema { types { name fields { name args { name type { name } } type { name ofType { name } } } } }`;
    const many = Array.from({ length: 25 }, (_, i) => `s${i}: __schema { ...All }`).join(" ");
    const aliased = await api.gql(`{ ${many} } ${fragment}`);
    expect(aliased.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", limit: "cost" });
    expect(JSON.stringify(aliased).length).toBeLessThan(2_000);
  });

  it("directives and tokens are limited too", async () => {
    const directives = Array.from({ length: 25 }, () => "@include(if: true)").join(" ");
    await refusedQuickly(() => api.gql(`{ viewer ${directives} { role } }`), "VALIDATION", "directives");
    const tokens = Array.from({ length: 12_000 }, () => "role").join(" ");
    await refusedQuickly(() => api.gql(`{ viewer { ${tokens} } }`), "VALIDATION", "tokens");
  });

  it("no field suggestions leak the schema in errors", async () => {
    const result = await refusedQuickly(() => api.gql(`{ viewr { role } }`, {}, null), "VALIDATION");
    expect(result.errors?.[0]?.message).not.toContain("Did you mean");
  });

  it("a 5,000-deep JSON value is VALIDATION (not INTERNAL), as a variable and as a literal", async () => {
    // Written as text: even JSON.stringify would overflow on such a value.
    const deep = `${"[".repeat(5_000)}1${"]".repeat(5_000)}`;
    const mutation = `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`;
    const body = `{"query":${JSON.stringify(mutation)},"variables":{"input":{"projectId":"${projectA}","key":"deep","kind":"DYNAMIC_CONFIG","environments":[{"environment":"development","definition":{"enabled":true,"value":${deep}}}]}}}`;
    const variable = await refusedQuickly(async () => {
      const answer = await post(body);
      return { status: answer.status, ...JSON.parse(answer.text) } as GraphQLResponse;
    }, "VALIDATION");
    expect(variable.errors?.[0]?.message).toContain("at most 32 levels deep");
    const literal = `mutation { createFeature(input: { projectId: "${projectA}", key: "deep", kind: DYNAMIC_CONFIG, environments: [{ environment: "development", definition: { enabled: true, value: ${deep} } }] }) { id } }`;
    await refusedQuickly(() => api.gql(literal), "VALIDATION");
  });

  it("a DateTime that names no instant (2026-02-30) is VALIDATION", async () => {
    for (const at of ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "2025-02-29T00:00:00Z"]) {
      await refusedQuickly(
        () => api.gql(`query($at: DateTime) { featureAsOf(id: "${featureA}", at: $at) { id } }`, { at }),
        "VALIDATION",
      );
    }
    const leap = await api.gql(`query($at: DateTime) { featureAsOf(id: "${featureA}", at: $at) { id } }`, {
      at: "2028-02-29T00:00:00+01:00",
    });
    expect(leap.errors).toBeUndefined();
  });
});

describe("a time budget per request", () => {
  it("a request whose folds outrun the budget is answered RATE_LIMITED by then, not when they finish", async () => {
    const slow = await startTestApi({
      worker: false,
      dataDir: api.dataDir,
      // Reads of a stream take 400 ms: the budget of 150 ms runs out first.
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, property) {
            const value = Reflect.get(target, property);
            if (property === "readStream") {
              return async (...args: unknown[]) => {
                await new Promise((resolve) => setTimeout(resolve, 400));
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            }
            return typeof value === "function" ? value.bind(target) : value;
          },
        }),
      options: { limits: { timeBudgetMs: 150 } },
    });
    try {
      const started = performance.now();
      const result = await slow.gql(
        `{ a: featureAsOf(id: "${featureA}", at: "2026-01-01T00:00:00Z") { id } }`,
        {},
        api.adminToken,
      );
      expect(performance.now() - started).toBeLessThan(390);
      expect(result.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      expect(result.errors?.[0]?.message).toContain("time budget of 0.15 s");
    } finally {
      await slow.close();
    }
  });
});

describe("visibility is decided before any folding", () => {
  it("another project's feature answers null without reading its stream, like a missing id", async () => {
    let reads = 0;
    const counting = await startTestApi({
      worker: false,
      dataDir: api.dataDir,
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, property) {
            const value = Reflect.get(target, property);
            if (property === "readStream") {
              return (...args: unknown[]) => {
                reads++;
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            }
            return typeof value === "function" ? value.bind(target) : value;
          },
        }),
    });
    try {
      const query = `query($id: ID!) { featureAsOf(id: $id, at: "2030-01-01T00:00:00Z") { id } }`;
      const other = await counting.gql<{ featureAsOf: null }>(query, { id: featureA }, viewerB);
      const missing = await counting.gql<{ featureAsOf: null }>(query, { id: randomUUID() }, viewerB);
      expect(other.data).toEqual({ featureAsOf: null });
      expect(missing.data).toEqual({ featureAsOf: null });
      expect(reads).toBe(0);
      // The ADMIN (every project) does fold it.
      const admin = await counting.gql<{ featureAsOf: { id: string } }>(query, { id: featureA }, api.adminToken);
      expect(admin.data?.featureAsOf.id).toBe(featureA);
      expect(reads).toBeGreaterThan(0);
    } finally {
      await counting.close();
    }
  });
});

describe("HTTP: every error answer is JSON with a code", () => {
  it("415 for text/plain, 405 for PUT, 400 for malformed JSON without the parser's text", async () => {
    const plain = await post("{ viewer { role } }", { "content-type": "text/plain" });
    expect(plain.status).toBe(415);
    expect(JSON.parse(plain.text).errors[0].extensions.code).toBe("VALIDATION");
    const put = await fetch(api.url, { method: "PUT", headers: { authorization: `Bearer ${api.adminToken}` } });
    expect(put.status).toBe(405);
    expect((await put.json()).errors[0].extensions.code).toBe("VALIDATION");
    const malformed = await post('{"query": "{ viewer { role } }"');
    expect([200, 400]).toContain(malformed.status);
    const error = JSON.parse(malformed.text).errors[0];
    expect(error.extensions.code).toBe("VALIDATION");
    expect(Object.keys(error.extensions).sort()).toEqual(["code"]);
    expect(malformed.text).not.toMatch(/position|JSON at|Unexpected end/);
  });

  it("431 for headers over 16 KB (a long URL) and 400 for a malformed Host, each with a JSON body", async () => {
    const port = portOf(api.url);
    const long = await raw(port, `GET /graphql?query=${"x".repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    expect(long).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(long).errors?.[0]?.extensions?.code).toBe("VALIDATION");
    const errorsBefore = logLines.filter((line) => isError(line)).length;
    const body = '{"query":"{ __typename }"}';
    const host = await raw(
      port,
      `POST /graphql HTTP/1.1\r\nHost: a b\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(host).toMatch(/^HTTP\/1\.1 (200|400) /);
    expect(host).not.toContain("INTERNAL");
    expect(logLines.filter((line) => isError(line)).length).toBe(errorsBefore);
  });

  it("a masked INTERNAL carries a request id, and the log line carries the same id", async () => {
    const broken = await startTestApi({
      worker: false,
      dataDir: api.dataDir,
      logger: createLogger("test", {
        level: "error",
        destination: new Writable({
          write(chunk, _encoding, callback) {
            for (const line of String(chunk).split("\n")) if (line.trim() !== "") logLines.push(JSON.parse(line));
            callback();
          },
        }),
      }),
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, property) {
            if (property === "append")
              return async () => Promise.reject(new Error("SQLITE_FULL at /var/lib/secret-host"));
            const value = Reflect.get(target, property);
            return typeof value === "function" ? value.bind(target) : value;
          },
        }),
    });
    try {
      const result = await broken.gql(
        `mutation { createProject(input: { name: "x", environments: ["a"] }) { id } }`,
        {},
        api.adminToken,
      );
      const extensions = result.errors?.[0]?.extensions as { code: string; requestId: string };
      expect(extensions.code).toBe("INTERNAL");
      expect(JSON.stringify(result)).not.toContain("SQLITE");
      expect(result.errors?.[0]?.message).toContain(extensions.requestId);
      expect(logLines.some((line) => line.requestId === extensions.requestId && isError(line))).toBe(true);
    } finally {
      await broken.close();
    }
  });

  it("/readyz names the failing check without its internal text", async () => {
    const app = buildApp({
      store: api.store,
      readModels: api.readModels,
      runner: api.runner,
      audit: api.audit,
      logger: createLogger("test", { level: "silent" }),
      temporal: {
        client: {
          workflowService: {
            getSystemInfo: () => Promise.reject(new Error("14 UNAVAILABLE: connect ECONNREFUSED 10.9.8.7:7233")),
          },
        } as never,
      },
    });
    const response = await app.fetch(new Request("http://localhost/readyz"));
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      status: "not ready",
      checks: { eventStore: "ok", temporal: "failing", projections: "ok" },
    });
    expect(text).not.toContain("10.9.8.7");
    await app.stop();
  });

  it("slow-body connections are cut by the request timeout, answered 408 JSON, without error logs", async () => {
    const strict = await startTestApi({
      worker: false,
      dataDir: api.dataDir,
      options: { requestTimeoutMs: 600, headersTimeoutMs: 400 },
      logger: createLogger("test", {
        level: "info",
        destination: new Writable({
          write(chunk, _encoding, callback) {
            for (const line of String(chunk).split("\n")) if (line.trim() !== "") logLines.push(JSON.parse(line));
            callback();
          },
        }),
      }),
    });
    try {
      const errorsBefore = logLines.filter((line) => isError(line)).length;
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          raw(
            portOf(strict.url),
            `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":`,
            10_000,
          ),
        ),
      );
      expect(performance.now() - started).toBeLessThan(5_000);
      for (const answer of answers) expect(answer === "" || /^HTTP\/1\.1 408 /.test(answer)).toBe(true);
      expect(answers.some((answer) => bodyOf(answer).errors?.[0]?.extensions?.code === "VALIDATION")).toBe(true);
      expect(logLines.filter((line) => isError(line)).length).toBe(errorsBefore);
    } finally {
      await strict.close();
    }
  });

  it("CORS: no CORS headers by default; only configured origins, never a reflected one", async () => {
    const preflight = (url: string, origin: string) =>
      fetch(url, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
      });
    const closed = await preflight(api.url, "https://evil.example");
    expect(closed.headers.get("access-control-allow-origin")).toBeNull();
    expect(closed.headers.get("access-control-allow-credentials")).toBeNull();
    const open = await startTestApi({
      worker: false,
      dataDir: api.dataDir,
      options: { corsOrigins: ["https://console.example.com"] },
    });
    try {
      const allowed = await preflight(open.url, "https://console.example.com");
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://console.example.com");
      const evil = await preflight(open.url, "https://evil.example");
      expect(evil.headers.get("access-control-allow-origin")).not.toBe("https://evil.example");
    } finally {
      await open.close();
    }
  });
});

describe("WebSocket: init auth, caps, slow consumers", () => {
  const wsUrl = (): string => api.url.replace(/^http/, "ws");

  it("a socket that sends no connection_init is closed within the init timeout (4408)", async () => {
    const socket = new WebSocket(wsUrl(), "graphql-transport-ws");
    const started = performance.now();
    const code = await new Promise<number>((resolve) => socket.on("close", (c) => resolve(c)));
    expect(code).toBe(4408);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("connection_init with an unknown token is closed 4401 at once", async () => {
    const socket = new WebSocket(wsUrl(), "graphql-transport-ws");
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer rp_${randomUUID()}` } }));
    const code = await new Promise<number>((resolve) => socket.on("close", (c) => resolve(c)));
    expect(code).toBe(4401);
  });

  it("at most 100 open subscriptions per token: the 101st is RATE_LIMITED", async () => {
    const token = await createToken(api, "many-subs", "VIEWER");
    const client = api.ws(token);
    const open = Array.from({ length: 100 }, () =>
      subscribe(client, `subscription { auditEvents { type } }`, {}, (d) => d),
    );
    const tokenId = api.readModels.tokenByName("many-subs")?.id ?? "";
    await expect.poll(() => api.app.live.openCountOf(tokenId), { timeout: 10_000 }).toBe(100);
    const extra = subscribe(client, `subscription { auditEvents { type } }`, {}, (d) => d);
    await expect(extra.waitFor(1, 5_000)).rejects.toThrow(/RATE_LIMITED/);
    for (const subscription of open) subscription.stop();
    await expect.poll(() => api.app.live.openCountOf(tokenId), { timeout: 10_000 }).toBe(0);
  });
});

describe("slow subscribers and replays", () => {
  it("a WebSocket client that stops reading is disconnected, its subscriptions ended", async () => {
    const slow = await startTestApi({
      worker: false,
      dataDir: api.dataDir,
      // The socket's bound, not the subscriptions': each may hold 10,000 undelivered events.
      options: { maxSocketBufferedBytes: 256 * 1024, maxSubscriptionBuffer: 10_000 },
    });
    try {
      // Large events (a 50-phase pipeline of 50 targets is ~100 KB): the kernel's socket buffers fill fast.
      const environments = Array.from({ length: 100 }, (_, i) => `env-${i}`);
      const created = await slow.ok<{ createProject: { id: string } }>(
        `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`,
        { input: { name: "Wide", environments } },
        api.adminToken,
      );
      const project = created.createProject.id;
      const phases = Array.from({ length: 50 }, (_, p) => ({
        name: `phase ${p} ${"n".repeat(150)}`,
        targets: environments.slice(0, 50).map((environment) => ({ environment })),
      }));
      const socket = new WebSocket(slow.url.replace(/^http/, "ws"), "graphql-transport-ws");
      await new Promise((resolve) => socket.once("open", resolve));
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${api.adminToken}` } }));
      await new Promise((resolve) => socket.once("message", resolve));
      // Five subscriptions on one socket: each waits for its own write, together they pile up unsent data.
      for (let id = 1; id <= 5; id++) {
        socket.send(
          JSON.stringify({
            id: String(id),
            type: "subscribe",
            payload: {
              query: `subscription { auditEvents { position type stream entityId projectId actor at data } }`,
            },
          }),
        );
      }
      await expect.poll(() => slow.app.live.openCount, { timeout: 5_000 }).toBe(5);
      // Stop reading: the server's writes pile up in its socket buffer.
      (socket as unknown as { _socket: { pause(): void } })._socket.pause();
      for (let i = 0; i < 200 && slow.app.live.openCount > 0; i++) {
        await slow.gql(
          `mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }`,
          { input: { projectId: project, name: `slow-${i}`, phases } },
          api.adminToken,
        );
      }
      await expect.poll(() => slow.app.live.openCount, { timeout: 15_000 }).toBe(0);
      socket.terminate();
    } finally {
      await slow.close();
    }
  }, 60_000);

  it("an SSE client that stops reading is disconnected, its subscription ended", async () => {
    const slow = await startTestApi({ worker: false, dataDir: api.dataDir, options: { maxSubscriptionBuffer: 20 } });
    try {
      const created = await slow.ok<{ createProject: { id: string } }>(
        `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`,
        { input: { name: "Wide SSE", environments: Array.from({ length: 100 }, (_, i) => `env-${i}`) } },
        api.adminToken,
      );
      const environments = Array.from({ length: 50 }, (_, i) => `env-${i}`);
      const phases = Array.from({ length: 50 }, (_, p) => ({
        name: `phase ${p} ${"n".repeat(150)}`,
        targets: environments.map((environment) => ({ environment })),
      }));
      // A raw HTTP client that sends the subscription, then never reads its socket.
      const body = JSON.stringify({ query: "subscription { auditEvents { position type data } }" });
      const socket = connect(portOf(slow.url), "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${api.adminToken}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      await expect.poll(() => slow.app.live.openCount, { timeout: 5_000 }).toBe(1);
      socket.pause();
      for (let i = 0; i < 200 && slow.app.live.openCount > 0; i++) {
        await slow.gql(
          `mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }`,
          { input: { projectId: created.createProject.id, name: `sse-${i}`, phases } },
          api.adminToken,
        );
      }
      await expect.poll(() => slow.app.live.openCount, { timeout: 15_000 }).toBe(0);
      socket.destroy();
    } finally {
      await slow.close();
    }
  }, 60_000);

  it("a replay longer than the subscription buffer reaches a reading client whole: paced, not cut off", async () => {
    const small = await startTestApi({ worker: false, dataDir: api.dataDir, options: { maxSubscriptionBuffer: 50 } });
    try {
      const all = await small.store.readAll();
      const first = all[0];
      if (first === undefined) throw new Error("no events");
      expect(all.length).toBeGreaterThan(600);
      const client = small.ws(api.adminToken);
      const replay = subscribe(
        client,
        `subscription($after: String) { auditEvents(after: $after) { position } }`,
        { after: first.position },
        (d) => (d.auditEvents as { position: string }).position,
      );
      await replay.waitFor(all.length - 1, 30_000);
      expect(replay.errors).toEqual([]);
      expect(replay.items).toEqual(all.slice(1).map((event) => event.position));
      replay.stop();
    } finally {
      await small.close();
    }
  }, 60_000);

  it("an auditEvents(after:) replay stops paging when its client leaves", async () => {
    // Pages of 10 (half a 20-event buffer) over the store's 600+ events: 60 pages if nobody stops it.
    const small = await startTestApi({ worker: false, dataDir: api.dataDir, options: { maxSubscriptionBuffer: 20 } });
    const first = (await small.store.readAll({ maxCount: 1 }))[0];
    if (first === undefined) throw new Error("no events");
    let pages = 0;
    const query = small.audit.query.bind(small.audit);
    small.audit.query = (async (...args: Parameters<typeof query>) => {
      pages++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return query(...args);
    }) as typeof query;
    try {
      const client = small.ws(api.adminToken);
      const replay = subscribe(
        client,
        `subscription($after: String) { auditEvents(after: $after) { position } }`,
        { after: first.position },
        (d) => d,
      );
      await replay.waitFor(1, 10_000);
      replay.stop();
      await expect.poll(() => small.app.live.openCount, { timeout: 5_000 }).toBe(0);
      const after = pages;
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(pages).toBe(after);
      expect(pages).toBeLessThan(10);
    } finally {
      small.audit.query = query;
      await small.close();
    }
  });
});

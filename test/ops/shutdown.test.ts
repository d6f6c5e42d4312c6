// Graceful shutdown of the API (app.stop(), which main.ts calls on SIGTERM): new connections are
// refused at once, subscriptions end (SSE streams close; graphql-ws subscriptions complete), requests
// already in flight — mutations held open the way a release action waits for its Temporal Update — get
// their answers, over HTTP and over the WebSocket, and only then are sockets closed with graphql-ws'
// 1001 "Going away" and stop() resolves.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@temporalio/client";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type App, type BuildAppOptions, buildApp } from "../../services/api/app.ts";
import { ensureAdminToken } from "../../services/api/auth.ts";
import { type AuditIndex, createAuditIndex } from "../../services/audit/audit-index.ts";
import { createEventStore } from "../../services/event-store/create-event-store.ts";
import type { EventStore } from "../../services/event-store/port.ts";
import { createLogger } from "../../services/platform/logger.ts";
import { createMetrics } from "../../services/platform/metrics.ts";
import { createReadModels } from "../../services/projections/read-models.ts";
import { type ProjectionRunner, startProjections } from "../../services/projections/runner.ts";

let dataDir: string;
let store: EventStore;
let runner: ProjectionRunner;
let audit: AuditIndex;
let app: App;
let url: string;
let adminToken = "";
let firstPosition = "";

// Mutations held open until the test lets them go, standing for Updates waiting on their workflow.
const held = new Map<string, () => void>();
let heldChanged: () => void = () => {};
const heldCount = (count: number): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => {
      if (held.size >= count) resolve();
      else heldChanged = check;
    };
    check();
  });
const commands = {
  project: {
    async createProject(_caller: unknown, input: { name: string }) {
      await new Promise<void>((resolve) => {
        held.set(input.name, resolve);
        heldChanged();
      });
      return { id: `p-${input.name}`, name: input.name, environments: ["production"], segments: [] };
    },
  },
} as unknown as NonNullable<BuildAppOptions["commands"]>;
const letGo = (name: string): void => held.get(name)?.();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "shutdown-test-"));
  store = await createEventStore({ dataDir, connectionString: "" });
  const readModels = createReadModels();
  audit = createAuditIndex({ store });
  runner = startProjections({ store, readModels, audit });
  await runner.ready;
  await ensureAdminToken({ store, readModels, runner, adminToken: undefined, print: () => {} });
  // ADMIN_TOKEN set on the existing installation rotates the ADMIN's secret: two events in the log, so a
  // subscription `after` the first replays one at once.
  adminToken = "second-admin-token-0123456789";
  await ensureAdminToken({ store, readModels, runner, adminToken, print: () => {} });
  const [first] = await store.readAll({ maxCount: 1 });
  firstPosition = first?.position ?? "";
  app = buildApp({
    store,
    temporal: { client: {} as Client },
    readModels,
    runner,
    audit,
    logger: createLogger("test", { level: "silent" }),
    metrics: createMetrics({ processMetrics: false }),
    options: { rateLimit: false, commands, drainMs: 15_000 },
  });
  ({ url } = await app.start(0));
});

afterAll(async () => {
  for (const release of held.values()) release();
  await app?.stop();
  await runner?.close();
  audit?.close();
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const AUDIT_EVENTS = /* GraphQL */ `subscription($after: String) { auditEvents(after: $after) { position type } }`;

describe("stopping the API", () => {
  it("ends subscriptions, refuses new connections, answers requests in flight (HTTP and WebSocket), then closes sockets with 1001", async () => {
    // An SSE subscription, read until it ends.
    const sse = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${adminToken}`,
      },
      body: JSON.stringify({ query: AUDIT_EVENTS, variables: { after: firstPosition } }),
    });
    expect(sse.status).toBe(200);
    const sseEnded = (async () => {
      const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { done } = await reader.read();
        if (done) return "ended";
      }
    })().catch((error: unknown) => `failed: ${String(error)}`);

    // A WebSocket subscription; its close event tells the code.
    let closeCode: number | null = null;
    let wsClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      wsClosed = resolve;
    });
    const ws = createClient({
      url: url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      // The close is what this test waits for, not an error to print.
      onNonLazyError: () => {},
      connectionParams: { authorization: `Bearer ${adminToken}` },
      on: {
        closed: (event) => {
          closeCode = (event as { code: number }).code;
          wsClosed();
        },
      },
    });
    let firstEvent: () => void = () => {};
    const subscribed = new Promise<void>((resolve) => {
      firstEvent = resolve;
    });
    ws.subscribe(
      { query: AUDIT_EVENTS, variables: { after: firstPosition } },
      { next: () => firstEvent(), error: () => {}, complete: () => {} },
    );
    await subscribed;

    // Requests in flight: one over HTTP, one over the WebSocket.
    const mutation = (name: string) =>
      /* GraphQL */ `mutation { createProject(input: { name: "${name}", environments: ["production"] }) { id name } }`;
    const inFlight = fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query: mutation("overHttp") }),
    });
    const wsAnswer = new Promise<unknown>((resolve, reject) => {
      ws.subscribe(
        { query: mutation("overWs") },
        { next: (result) => resolve(result), error: reject, complete: () => {} },
      );
    });
    await heldCount(2);

    let stopped = false;
    const stopping = app.stop().then(() => {
      stopped = true;
    });

    // Subscriptions end at once; the socket stays open while its mutation is in flight.
    expect(await sseEnded).toBe("ended");
    await expect(fetch(url.replace("/graphql", "/healthz"))).rejects.toThrow();
    expect(closeCode).toBeNull();

    letGo("overWs");
    expect(await wsAnswer).toEqual({ data: { createProject: { id: "p-overWs", name: "overWs" } } });
    await closed;
    expect(closeCode).toBe(1001);
    expect(stopped).toBe(false);

    letGo("overHttp");
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(await answered.json()).toEqual({ data: { createProject: { id: "p-overHttp", name: "overHttp" } } });
    await stopping;
    expect(stopped).toBe(true);
    await ws.dispose();
  }, 30_000);
});

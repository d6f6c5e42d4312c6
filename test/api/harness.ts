// The API wired as `npm start` wires it, for tests: a temp embedded store, projections, the audit index, a
// Temporal client on the run's shared dev server, a real release worker in-process on a task queue of the
// test's own, the bootstrap ADMIN token, and buildApp listening on a free port. Plus small GraphQL clients
// over HTTP (fetch) and WebSocket (graphql-ws).

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, Connection } from "@temporalio/client";
import { NativeConnection, type Worker } from "@temporalio/worker";
import { createClient, type Client as WsClient } from "graphql-ws";
import WebSocket from "ws";
import { type App, type BuildAppOptions, buildApp } from "../../services/api/app.ts";
import { ensureAdminToken } from "../../services/api/auth.ts";
import { type AuditIndex, createAuditIndex } from "../../services/audit/audit-index.ts";
import { createEventStore } from "../../services/event-store/create-event-store.ts";
import type { EventStore } from "../../services/event-store/port.ts";
import { createLogger, type Logger } from "../../services/platform/logger.ts";
import { createReadModels, type ReadModels } from "../../services/projections/read-models.ts";
import { type ProjectionRunner, startProjections } from "../../services/projections/runner.ts";
import { buildWorkflowBundle, createReleaseWorker } from "../../workflows/worker.ts";
import { temporalTestAddress } from "../setup/temporal.ts";
import { quietTemporalLogs } from "../workflows/helpers.ts";

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data: T | null;
  errors: { message: string; extensions?: { code?: string; field?: string } }[] | undefined;
}

export interface TestApi {
  url: string;
  app: App;
  store: EventStore;
  readModels: ReadModels;
  runner: ProjectionRunner;
  audit: AuditIndex;
  client: Client;
  taskQueue: string;
  dataDir: string;
  /** The bootstrap ADMIN token's secret. */
  adminToken: string;
  /** POST /graphql with a bearer token (default: the admin's; null: none). */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<T>>;
  /** Like `gql` but throws unless the answer has data and no errors. */
  ok<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<T>;
  /** A graphql-ws client on the API's WebSocket, authenticated with `token` (default: the admin's). */
  ws(token?: string | null): WsClient;
  close(): Promise<void>;
}

let bundle: Promise<{ code: string }> | null = null;
/** The workflow bundle, built once per test process (a few seconds). */
export const workflowBundle = (): Promise<{ code: string }> => {
  bundle ??= buildWorkflowBundle();
  return bundle;
};

export interface StartTestApiOptions {
  /** Run a release worker in this process (default true). */
  worker?: boolean;
  /** An existing data directory (a second API on the same store). */
  dataDir?: string;
  /** An existing task queue (a second API sharing the first one's worker). */
  taskQueue?: string;
  /** Wrap the store the API writes with (the worker keeps the real one). */
  wrapStore?: (store: EventStore) => EventStore;
  options?: BuildAppOptions;
  /** The port to listen on (default 0: a free one); a restarted API reuses its predecessor's. */
  port?: number;
  logger?: Logger;
}

export async function startTestApi(options: StartTestApiOptions = {}): Promise<TestApi> {
  quietTemporalLogs();
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "api-test-"));
  const realStore = await createEventStore({ dataDir, connectionString: "" });
  const store = options.wrapStore ? options.wrapStore(realStore) : realStore;
  const readModels = createReadModels();
  const audit = createAuditIndex({ store: realStore });
  const runner = startProjections({ store: realStore, readModels, audit });
  await runner.ready;
  const logger = options.logger ?? createLogger("test", { level: "silent" });

  const address = temporalTestAddress();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const taskQueue = options.taskQueue ?? `api-test-${randomUUID()}`;

  let worker: Worker | null = null;
  let running: Promise<void> | null = null;
  let nativeConnection: NativeConnection | null = null;
  if (options.worker !== false) {
    nativeConnection = await NativeConnection.connect({ address });
    worker = await createReleaseWorker({
      connection: nativeConnection,
      store: realStore,
      bundle: await workflowBundle(),
      taskQueue,
    });
    running = worker.run();
  }

  const bootstrap = await ensureAdminToken({
    store: realStore,
    readModels,
    runner,
    adminToken: process.env.TEST_ADMIN_TOKEN,
    print: () => {},
  });
  const adminToken = bootstrap.secret ?? process.env.TEST_ADMIN_TOKEN ?? "";

  const app = buildApp({
    store,
    temporal: { client },
    readModels,
    runner,
    audit,
    logger,
    options: { rateLimit: false, taskQueue, ...options.options },
  });
  const { url } = await app.start(options.port ?? 0);
  const wsUrl = url.replace(/^http/, "ws");
  const sockets: WsClient[] = [];

  const { gql, ok } = graphqlOverHttp(url, adminToken);

  return {
    url,
    app,
    store,
    readModels,
    runner,
    audit,
    client,
    taskQueue,
    dataDir,
    adminToken,
    gql,
    ok,
    ws(token) {
      const bearer = token === undefined ? adminToken : token;
      const socket = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        lazy: true,
        retryAttempts: 0,
        connectionParams: bearer === null ? {} : { authorization: `Bearer ${bearer}` },
      });
      sockets.push(socket);
      return socket;
    },
    async close() {
      for (const socket of sockets) await socket.dispose();
      await app.stop();
      if (worker !== null && worker.getState() === "RUNNING") worker.shutdown();
      await running;
      await nativeConnection?.close();
      await runner.close();
      await connection.close();
      audit.close();
      await realStore.close();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * TestApi's HTTP clients on an API at `url`: `gql` (POST /graphql with a bearer token, default
 * `adminToken`; null: none) and `ok` (throws unless the answer has data and no errors). Shared with the
 * ops stack (test/ops/observed-stack.ts), which wires its own API.
 */
export function graphqlOverHttp(url: string, adminToken: string): Pick<TestApi, "gql" | "ok"> {
  const gql: TestApi["gql"] = async (query, variables, token, headers) => {
    const bearer = token === undefined ? adminToken : token;
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        ...(bearer !== null && { authorization: `Bearer ${bearer}` }),
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    let body: { data?: unknown; errors?: GraphQLResponse["errors"] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`not JSON (${response.status}): ${text.slice(0, 500)}`);
    }
    return { status: response.status, data: (body.data ?? null) as never, errors: body.errors };
  };

  const ok: TestApi["ok"] = async (query, variables, token) => {
    const result = await gql(query, variables, token);
    if (result.errors?.length || result.data === null) {
      throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    }
    return result.data as never;
  };
  return { gql, ok };
}

/** Collects a subscription's payloads; `waitFor(n)` waits for the n-th. */
export interface Collected<T> {
  items: T[];
  errors: unknown[];
  completed: boolean;
  /** Resolves when at least `count` items arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves with the first item received (already, or later) that matches `predicate`. */
  until(predicate: (item: T) => boolean, timeoutMs?: number): Promise<T>;
  stop(): void;
}

/**
 * The collecting half of a subscription client, whatever the transport: the transport pushes items and
 * errors and marks completion, then calls `notify()`; `waitFor` and `until` re-check on each notify and
 * reject early once the subscription failed or completed.
 */
function collector<T>(label: string): Collected<T> & { notify(): void } {
  const waiters = new Set<() => void>();
  const collected: Collected<T> & { notify(): void } = {
    items: [],
    errors: [],
    completed: false,
    notify() {
      for (const waiter of [...waiters]) waiter();
    },
    waitFor(count, timeoutMs = 20_000) {
      return awaitCheck(
        () => (collected.items.length >= count ? { found: collected.items.slice(0, count) } : null),
        () => `${label} ended with ${collected.items.length}/${count} items: ${JSON.stringify(collected.errors)}`,
        () => `${label} timed out with ${collected.items.length}/${count} items: ${preview(collected.items)}`,
        timeoutMs,
      );
    },
    until(predicate, timeoutMs = 20_000) {
      return awaitCheck(
        () => {
          const found = collected.items.find(predicate);
          return found === undefined ? null : { found };
        },
        () => `${label} ended first: ${JSON.stringify(collected.errors)}`,
        () => `${label} timed out; got ${preview(collected.items)}`,
        timeoutMs,
      );
    },
    stop: () => {},
  };
  /** Resolves with `check()`'s find, re-checked on every notify; rejects once ended or at the deadline. */
  function awaitCheck<R>(
    check: () => { found: R } | null,
    ended: () => string,
    timedOut: () => string,
    timeoutMs: number,
  ): Promise<R> {
    return new Promise((resolve, reject) => {
      const settle = (outcome: () => void): void => {
        waiters.delete(run);
        clearTimeout(timer);
        outcome();
      };
      const run = (): void => {
        const result = check();
        if (result !== null) settle(() => resolve(result.found));
        else if (collected.errors.length > 0 || collected.completed) settle(() => reject(new Error(ended())));
      };
      const timer = setTimeout(() => settle(() => reject(new Error(timedOut()))), timeoutMs);
      waiters.add(run);
      run();
    });
  }
  return collected;
}

const preview = (items: unknown[]): string => JSON.stringify(items).slice(0, 2000);

export function subscribe<T>(
  client: WsClient,
  query: string,
  variables: Record<string, unknown>,
  pick: (data: Record<string, unknown>) => T,
): Collected<T> {
  const collected = collector<T>("subscription");
  collected.stop = client.subscribe(
    { query, variables },
    {
      next: (message) => {
        if (message.errors) collected.errors.push(message.errors);
        if (message.data) collected.items.push(pick(message.data as Record<string, unknown>));
        collected.notify();
      },
      error: (error) => {
        collected.errors.push(error);
        collected.notify();
      },
      complete: () => {
        collected.completed = true;
        collected.notify();
      },
    },
  );
  return collected;
}

/**
 * A subscription over SSE (Yoga's built-in: POST with `Accept: text/event-stream`), collecting `next` payloads.
 */
export function sseSubscribe<T>(
  url: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown>,
  pick: (data: Record<string, unknown>) => T,
): Collected<T> & { ready: Promise<void> } {
  const collected = collector<T>("SSE");
  const { items, errors, notify } = collected;
  const controller = new AbortController();
  collected.stop = () => controller.abort();
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  (async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        ...(token !== null && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
    markReady();
    if (response.body === null) throw new Error(`SSE: no body (${response.status})`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = block
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        if (event === "complete") collected.completed = true;
        else if (data !== "") {
          const message = JSON.parse(data) as { data?: Record<string, unknown>; errors?: unknown[] };
          if (message.errors) errors.push(message.errors);
          if (message.data) items.push(pick(message.data));
        }
        notify();
        end = buffer.indexOf("\n\n");
      }
    }
    collected.completed = true;
    notify();
  })().catch((error: unknown) => {
    markReady();
    if (!controller.signal.aborted) errors.push(error);
    notify();
  });
  return Object.assign(collected, { ready });
}

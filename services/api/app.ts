// The API server: Yoga over the Pothos schema (POST/GET /graphql, SSE subscriptions, GraphiQL),
// graphql-ws on the same path (WebSocket, graphql-transport-ws), /healthz and /readyz, and the limits:
// body size, per-token rate, query depth, cost and tokens. `buildApp` takes every dependency, so the
// composition root (main.ts) and the tests wire the same app (STYLE example 11).

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import type { Client } from "@temporalio/client";
import type { ExecutionArgs } from "graphql";
import type { OperationResult } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, type Plugin, type YogaInitialContext } from "graphql-yoga";
import { WebSocketServer } from "ws";
import { createAsOfLoader } from "../../schema/as-of.ts";
import type { ApiContext, AuthInfo, RequestInfo } from "../../schema/context.ts";
import { schema } from "../../schema/index.ts";
import type { AuditIndex } from "../audit/audit-index.ts";
import type { EventStore } from "../event-store/port.ts";
import { createLiveFeed, type LiveFeed } from "../live/feed.ts";
import type { Logger } from "../platform/logger.ts";
import type { ReadModels } from "../projections/read-models.ts";
import type { ProjectionRunner } from "../projections/runner.ts";
import { authenticate, bearerSecret, secretFromConnectionParams } from "./auth.ts";
import { type Commands, createCommands } from "./commands.ts";
import { toPublicError } from "./errors.ts";
import {
  createRateLimiter,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RATE_LIMIT,
  RateLimitedError,
  type RateLimiter,
  type RateLimitOptions,
} from "./limits.ts";

export const GRAPHQL_PATH = "/graphql";

export interface BuildAppOptions {
  /**
   * Rate limit per token (a valid token, by its id) and per client address (requests without a valid
   * token); default 50/s, burst 100; false turns it off.
   */
  rateLimit?: RateLimitOptions | false;
  /** Request bodies above this answer 413 (default 1 MB). */
  maxBodyBytes?: number;
  /** Query depth limit (default 12). */
  maxDepth?: number;
  /** Query cost limit (graphql-armor's cost model; default 5000). */
  maxCost?: number;
  /** Query token limit (default 5000). */
  maxTokens?: number;
  /** The release workflows' task queue (default "releases"). */
  taskQueue?: string;
  /** Wall-clock time (default: the system clock). */
  now?: () => Date;
  /** How long a release start waits for the workflow's first step (default 5 s). */
  releaseStartWaitMs?: number;
  /** How long an action waits for the read model to reach the Update's version (default 10 s). */
  actionWaitMs?: number;
  /** Serve GraphiQL to browsers at /graphql (default true). */
  graphiql?: boolean;
  /** Replaces some slices' command handlers (tests inject failures). */
  commands?: Partial<Commands>;
}

export interface BuildAppDeps {
  store: EventStore;
  temporal: { client: Client };
  readModels: ReadModels;
  runner: ProjectionRunner;
  audit: AuditIndex;
  logger: Logger;
  options?: BuildAppOptions;
}

export interface App {
  /** The whole HTTP API as a fetch handler (no WebSocket). */
  fetch(request: Request): Promise<Response>;
  /** Listens on `port` (0: a free one), HTTP and WebSocket. */
  start(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Ends subscriptions, closes sockets and the server. Leaves the store, runner and client open (the caller owns them). */
  stop(): Promise<void>;
  readonly live: LiveFeed;
  readonly commands: Commands;
}

/** What the context factory gets on top of Yoga's: the caller, resolved once per request or per subscription. */
interface ServerContext {
  auth?: AuthInfo | null;
  requestInfo?: RequestInfo;
}

const IDEMPOTENCY_KEY_MAX = 200;
const REQUEST_ID_MAX = 200;

/** A header's value, trimmed; null when missing, blank or longer than `max`. */
function headerValue(headers: { get(name: string): string | null }, name: string, max: number): string | null {
  const value = headers.get(name)?.trim();
  return value && value.length <= max ? value : null;
}

function requestInfoFrom(headers: { get(name: string): string | null }): RequestInfo {
  const requestId = headerValue(headers, "x-request-id", REQUEST_ID_MAX);
  const key = headers.get("idempotency-key")?.trim();
  return {
    correlationId: requestId ?? randomUUID(),
    idempotencyKey: key ? key.slice(0, IDEMPOTENCY_KEY_MAX) : null,
    requestId,
  };
}

function errorResponse(status: number, message: string, code: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

const bodyTooLarge = (max: number): Response =>
  errorResponse(413, `Request body is larger than ${max} bytes.`, "VALIDATION");

/** The body of `request`, read up to `max` bytes; null when it is larger. */
async function readLimited(request: Request, max: number): Promise<Uint8Array<ArrayBuffer> | null> {
  if (request.body === null) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export function buildApp(deps: BuildAppDeps): App {
  const { store, readModels, runner, audit, logger } = deps;
  const options = deps.options ?? {};
  const now = options.now ?? (() => new Date());
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = logger.child({ component: "api" });
  const rateLimiter: RateLimiter | null =
    options.rateLimit === false ? null : createRateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);

  const commands = createCommands({
    store,
    readModels,
    runner,
    temporal: {
      client: deps.temporal.client,
      ...(options.taskQueue !== undefined && { taskQueue: options.taskQueue }),
    },
    logger: log,
    now,
    ...(options.releaseStartWaitMs !== undefined && { releaseStartWaitMs: options.releaseStartWaitMs }),
    ...(options.actionWaitMs !== undefined && { actionWaitMs: options.actionWaitMs }),
    ...(options.commands !== undefined && { overrides: options.commands }),
  });
  const live = createLiveFeed({ runner, readModels, audit, store });

  const contextFor = (auth: AuthInfo | null, request: RequestInfo): ApiContext => ({
    auth,
    request,
    readModels,
    audit,
    store,
    asOf: createAsOfLoader(store),
    ...commands,
    live,
    now,
  });

  // Validation and parse errors that Yoga answers without its maskError get their code here.
  const errorCodes: Plugin = {
    onExecutionResult({ result, setResult }) {
      if (result === undefined || Symbol.asyncIterator in result) return;
      if (result.errors && result.errors.length > 0) {
        setResult({ ...result, errors: result.errors.map((error) => toPublicError(error, log)) });
      }
    },
  };

  const yoga = createYoga<ServerContext, ApiContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    graphiql: options.graphiql === false ? false : { subscriptionsProtocol: "WS", title: "Release pipelines" },
    maskedErrors: { maskError: (error) => toPublicError(error, log) },
    logging: {
      // Yoga reports every error it masks; the ones that matter (INTERNAL) are logged by toPublicError.
      debug: (...args) => log.debug({ yoga: args.map(String) }, "yoga"),
      info: (...args) => log.debug({ yoga: args.map(String) }, "yoga"),
      warn: (...args) => log.warn({ yoga: args.map(String) }, "yoga"),
      error: (...args) => log.debug({ yoga: args.map(String) }, "yoga error"),
    },
    plugins: [
      maxTokensPlugin({ n: options.maxTokens ?? 5000 }),
      maxDepthPlugin({ n: options.maxDepth ?? 12, flattenFragments: true }),
      costLimitPlugin({ maxCost: options.maxCost ?? 5000 }),
      errorCodes,
    ],
    context: (initial: YogaInitialContext & ServerContext) => {
      const auth =
        initial.auth !== undefined
          ? initial.auth
          : authenticate(readModels, bearerSecret(initial.request.headers.get("authorization")));
      return contextFor(auth, initial.requestInfo ?? requestInfoFrom(initial.request.headers));
    },
  });

  async function readiness(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    const check = async (name: string, probe: () => Promise<unknown>): Promise<void> => {
      try {
        await Promise.race([
          probe(),
          new Promise((_, reject) => setTimeout(() => reject(new Error("timed out after 2 s")), 2_000).unref()),
        ]);
        checks[name] = "ok";
      } catch (error) {
        checks[name] = error instanceof Error ? error.message : String(error);
      }
    };
    await Promise.all([
      check("eventStore", () => store.ping()),
      check("temporal", () => deps.temporal.client.workflowService.getSystemInfo({})),
      check("projections", async () => {
        const status = runner.status();
        if (status.error) throw status.error;
        if (!status.caughtUp) throw new Error("catching up");
      }),
    ]);
    return { ok: Object.values(checks).every((value) => value === "ok"), checks };
  }

  /**
   * The rate limiter's key: a valid token by its id (every request of one token shares its allowance, from
   * any address); a missing or unknown token by the client's address, so sending random bearer values
   * does not mint fresh allowances: an anonymous flood is limited per address.
   */
  const rateKey = (auth: AuthInfo | null, remoteAddress: string | null): string =>
    auth !== null ? `token:${auth.tokenId}` : `address:${remoteAddress ?? "unknown"}`;

  async function rateLimited(key: string): Promise<Response | null> {
    if (rateLimiter === null) return null;
    try {
      await rateLimiter.consume(key);
      return null;
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      return errorResponse(429, error.message, "RATE_LIMITED", {
        "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))),
      });
    }
  }

  async function handle(request: Request, remoteAddress: string | null): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz" && request.method === "GET") {
      return Response.json({ status: "ok" });
    }
    if (url.pathname === "/readyz" && request.method === "GET") {
      const { ok, checks } = await readiness();
      return Response.json({ status: ok ? "ready" : "not ready", checks }, { status: ok ? 200 : 503 });
    }
    if (url.pathname !== GRAPHQL_PATH) return errorResponse(404, `Not found: ${url.pathname}`, "NOT_FOUND");

    const length = Number(request.headers.get("content-length") ?? "0");
    if (Number.isFinite(length) && length > maxBodyBytes) return bodyTooLarge(maxBodyBytes);
    let forwarded = request;
    if (request.body !== null) {
      const body = await readLimited(request, maxBodyBytes);
      if (body === null) return bodyTooLarge(maxBodyBytes);
      forwarded = new Request(request.url, {
        method: request.method,
        headers: request.headers,
        body,
        signal: request.signal,
      });
    }
    // Authenticated first, so the limit applies to who is calling (see rateKey); the context reuses it.
    const auth = authenticate(readModels, bearerSecret(forwarded.headers.get("authorization")));
    const limited = await rateLimited(rateKey(auth, remoteAddress));
    if (limited !== null) return limited;
    const server: ServerContext = { auth };
    return yoga.fetch(forwarded, server);
  }

  /** `remoteAddress`: the client's address, when the transport knows it (the Node server does). */
  async function fetchHandler(request: Request, remoteAddress: string | null = null): Promise<Response> {
    try {
      return await handle(request, remoteAddress);
    } catch (error) {
      log.error({ err: error }, "request failed");
      return errorResponse(500, "Unexpected error.", "INTERNAL");
    }
  }

  // ---- Node HTTP + WebSocket ---------------------------------------------------------------------

  let server: Server | null = null;
  let wsServer: WebSocketServer | null = null;
  let disposeWs: (() => Promise<void>) | null = null;

  async function nodeHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    res.once("close", () => controller.abort());
    const declared = Number(req.headers["content-length"] ?? "0");
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    if (hasBody && Number.isFinite(declared) && declared > maxBodyBytes) {
      await writeResponse(res, bodyTooLarge(maxBodyBytes));
      req.resume();
      return;
    }
    let body: Uint8Array<ArrayBuffer> | undefined;
    if (hasBody) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > maxBodyBytes) {
          await writeResponse(res, bodyTooLarge(maxBodyBytes));
          req.destroy();
          return;
        }
        chunks.push(chunk as Buffer);
      }
      body = new Uint8Array(Buffer.concat(chunks));
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    const host = req.headers.host ?? "localhost";
    const request = new Request(`http://${host}${req.url ?? "/"}`, {
      method: req.method ?? "GET",
      headers,
      ...(body !== undefined && { body }),
      signal: controller.signal,
    });
    await writeResponse(res, await fetchHandler(request, req.socket.remoteAddress ?? null));
  }

  async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
    const headers: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      if (name === "set-cookie") return;
      headers[name] = value;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) headers["set-cookie"] = cookies;
    res.writeHead(response.status, response.statusText, headers);
    if (response.body === null) {
      res.end();
      return;
    }
    // Streams SSE as it comes; a client that goes away cancels the stream (and the subscription).
    const reader = response.body.getReader();
    let closed = false;
    res.once("close", () => {
      closed = true;
      reader.cancel().catch(() => {});
    });
    try {
      while (!closed) {
        const { done, value } = await reader.read();
        if (done) break;
        res.write(value);
      }
      res.end();
    } catch {
      res.destroy();
    }
  }

  function startWebSocket(httpServer: Server): void {
    const wss = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH, maxPayload: maxBodyBytes });
    wsServer = wss;
    const cleanup = useServer<Record<string, unknown>, { request: IncomingMessage }>(
      {
        execute: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).execute(args),
        subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
        onSubscribe: async (ctx, _id, payload) => {
          const auth = authenticate(readModels, secretFromConnectionParams(ctx.connectionParams));
          const upgrade = ctx.extra.request;
          if (rateLimiter !== null) {
            try {
              await rateLimiter.consume(rateKey(auth, upgrade.socket.remoteAddress ?? null));
            } catch (error) {
              return [toPublicError(error, log)];
            }
          }
          const requestInfo = requestInfoFrom({
            get: (name) => {
              const value = upgrade.headers[name];
              return typeof value === "string" ? value : null;
            },
          });
          const enveloped = yoga.getEnveloped({
            ...ctx,
            auth,
            requestInfo,
            request: new Request(`http://localhost${GRAPHQL_PATH}`),
            params: payload,
          } as unknown as YogaInitialContext & ServerContext);
          try {
            const document = enveloped.parse(payload.query);
            const errors = enveloped.validate(enveloped.schema, document);
            if (errors.length > 0) return errors.map((error: unknown) => toPublicError(error, log));
            const args: ExecutionArgs = {
              schema: enveloped.schema,
              operationName: payload.operationName ?? null,
              document,
              variableValues: payload.variables ?? null,
              contextValue: await enveloped.contextFactory(),
              rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe } as EnvelopedRoot,
            };
            return args;
          } catch (error) {
            return [toPublicError(error, log)];
          }
        },
        onNext: (_ctx, _id, _payload, _args, result) => {
          if (!result.errors || result.errors.length === 0) return result;
          return { ...result, errors: result.errors.map((error) => toPublicError(error, log)) };
        },
      },
      wss,
    );
    disposeWs = async () => {
      await cleanup.dispose();
    };
  }

  return {
    fetch: (request) => fetchHandler(request),
    live,
    commands,
    async start(port, host = "127.0.0.1") {
      if (server !== null) throw new Error("already started");
      const httpServer = createServer((req, res) => {
        nodeHandler(req, res).catch((error: unknown) => {
          log.error({ err: error }, "HTTP handler failed");
          if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ errors: [{ message: "Unexpected error.", extensions: { code: "INTERNAL" } }] }));
        });
      });
      server = httpServer;
      startWebSocket(httpServer);
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, host, () => {
          httpServer.off("error", reject);
          resolve();
        });
      });
      const address = httpServer.address() as AddressInfo;
      const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
      return { url: `http://${shownHost}:${address.port}${GRAPHQL_PATH}`, port: address.port };
    },
    async stop() {
      live.closeAll();
      if (disposeWs !== null) await disposeWs().catch(() => {});
      for (const client of wsServer?.clients ?? []) client.terminate();
      await new Promise<void>((resolve) => (wsServer ? wsServer.close(() => resolve()) : resolve()));
      wsServer = null;
      const httpServer = server;
      server = null;
      if (httpServer !== null) {
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
      }
    },
  };
}

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
}

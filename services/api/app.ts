// The API server: Yoga over the Pothos schema (POST/GET /graphql, SSE subscriptions, GraphiQL),
// graphql-ws on the same path (WebSocket, graphql-transport-ws), /healthz and /readyz, and the limits:
// body size, per-token rate, query limits (services/api/query-limits.ts), a time budget per request,
// subscriptions per token, header/request timeouts, CORS by allow-list. Every error answer is JSON with
// a contract code. `buildApp` takes every dependency, so the composition root (main.ts) and the tests
// wire the same app (STYLE example 11).

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Client } from "@temporalio/client";
import type { ExecutionArgs } from "graphql";
import type { OperationResult } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, type Plugin, type YogaInitialContext } from "graphql-yoga";
import { type WebSocket, WebSocketServer } from "ws";
import { createAsOfLoader } from "../../schema/as-of.ts";
import type { ApiContext, AuthInfo, RequestInfo } from "../../schema/context.ts";
import { schema } from "../../schema/index.ts";
import type { AuditIndex } from "../audit/audit-index.ts";
import { DomainError } from "../core/errors.ts";
import type { EventStore } from "../event-store/port.ts";
import { createLiveFeed, DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN, type LiveFeed } from "../live/feed.ts";
import type { Logger } from "../platform/logger.ts";
import { type Metrics, processMetrics } from "../platform/metrics.ts";
import type { ReadModels } from "../projections/read-models.ts";
import type { ProjectionRunner } from "../projections/runner.ts";
import { isTokenActive } from "../token/token.ts";
import type { WebhookKey } from "../webhook/secrets.ts";
import { authenticate, bearerSecret, secretFromConnectionParams } from "./auth.ts";
import { type Commands, createCommands } from "./commands.ts";
import { type ConsoleHandler, createConsoleHandler, DEFAULT_CONSOLE_DIR } from "./console.ts";
import { requestScope, toPublicError } from "./errors.ts";
import {
  createRateLimiter,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RATE_LIMIT,
  RateLimitedError,
  type RateLimiter,
  type RateLimitOptions,
} from "./limits.ts";
import { metricsResponse, observabilityPlugin, observeHttp, observeState } from "./observability.ts";
import { oneMutationFieldPlugin } from "./one-mutation.ts";
import {
  DEFAULT_QUERY_LIMITS,
  type QueryLimits,
  queryLimitPlugins,
  timeBudgetError,
  timeBudgetPlugin,
} from "./query-limits.ts";
import { createSdkRoutes, type SdkRoutes } from "./sdk-routes.ts";

export const GRAPHQL_PATH = "/graphql";

export interface BuildAppOptions {
  /**
   * Rate limit per token (a valid token, by its id) and per client address (requests without a valid
   * token); default 50/s, burst 100; false turns it off.
   */
  rateLimit?: RateLimitOptions | false;
  /** Request bodies above this answer 413 (default 1 MB). */
  maxBodyBytes?: number;
  /** Query limits (tokens, depth, aliases, directives, cost, page size, time budget); DEFAULT_QUERY_LIMITS. */
  limits?: Partial<QueryLimits>;
  /** Open subscriptions per token (default 100). */
  maxSubscriptionsPerToken?: number;
  /** Undelivered events a subscription may hold before it ends with RATE_LIMITED (default 1,000). */
  maxSubscriptionBuffer?: number;
  /** Bytes a WebSocket may have unsent before its client counts as too slow and is closed (default 4 MB). */
  maxSocketBufferedBytes?: number;
  /** How long a WebSocket may wait before `connection_init` with a valid token (default 3 s). */
  connectionInitTimeoutMs?: number;
  /** Headers must arrive within this (default 10 s); the whole request within `requestTimeoutMs` (30 s). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Browser origins allowed by CORS (default none: no CORS headers at all). */
  corsOrigins?: readonly string[];
  /** How often open subscriptions and sockets are checked for expired tokens (default 1 s). */
  expirySweepMs?: number;
  /** The release workflows' task queue (default "releases"). */
  taskQueue?: string;
  /** Wall-clock time (default: the system clock). */
  now?: () => Date;
  /** How long a release start waits for the workflow's first step (default 5 s). */
  releaseStartWaitMs?: number;
  /** How long an action waits for the read model to reach the Update's version (default 10 s). */
  actionWaitMs?: number;
  /** Serve GraphiQL to browsers at /graphql (default true), from local assets (works offline). */
  graphiql?: boolean;
  /** The built console served at `/` (default console/dist); false serves none. */
  consoleDir?: string | false;
  /** Replaces some slices' command handlers (tests inject failures). */
  commands?: Partial<Commands>;
  /** Seals webhook signing secrets (services/webhook/secrets.ts); the delivering worker needs the same key. */
  webhookKey?: WebhookKey;
  /** SDK streams' heartbeat interval (default 15 s). */
  sdkHeartbeatMs?: number;
  /** How long stop() lets in-flight HTTP requests (e.g. a release action awaiting its Update) finish (default 20 s). */
  drainMs?: number;
  /** Serve GET /metrics on the API's port (default true; false when METRICS_PORT serves it apart). */
  serveMetrics?: boolean;
}

export interface BuildAppDeps {
  store: EventStore;
  temporal: { client: Client };
  readModels: ReadModels;
  runner: ProjectionRunner;
  audit: AuditIndex;
  logger: Logger;
  /** Where /metrics reads from (default: the process's registry). */
  metrics?: Metrics;
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
  /** The registry /metrics serves: slices that open streams report them with `metrics.trackStream(kind)`. */
  readonly metrics: Metrics;
  readonly commands: Commands;
  /** GET /sdk/v1/config and /sdk/v1/stream. */
  readonly sdk: SdkRoutes;
}

/** What the context factory gets on top of Yoga's: the caller, resolved once per request or per subscription. */
interface ServerContext {
  auth?: AuthInfo | null;
  requestInfo?: RequestInfo;
}

const IDEMPOTENCY_KEY_MAX = 200;
/** graphql-ws close codes: no valid token at connection_init (or since), and a client too slow to keep up. */
export const WS_CLOSE_UNAUTHORIZED = 4401;
export const WS_CLOSE_FORBIDDEN = 4403;
export const WS_CLOSE_SLOW_CONSUMER = 1013;
export const DEFAULT_MAX_SOCKET_BUFFERED_BYTES = 4 * 1024 * 1024;
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

/** What an HTTP error status means, as a contract code and a message. */
const HTTP_ERRORS: Record<number, { code: string; message: string }> = {
  400: { code: "VALIDATION", message: "Bad request." },
  404: { code: "NOT_FOUND", message: "Not found." },
  405: { code: "VALIDATION", message: "Method not allowed: use GET or POST." },
  406: { code: "VALIDATION", message: "Not acceptable: accept application/json or text/event-stream." },
  408: { code: "VALIDATION", message: "Request timeout: the request took too long to arrive." },
  413: { code: "VALIDATION", message: "Request body too large." },
  414: { code: "VALIDATION", message: "URI too long." },
  415: { code: "VALIDATION", message: "Unsupported media type: send application/json or application/graphql+json." },
  429: { code: "RATE_LIMITED", message: "Too many requests." },
  431: { code: "VALIDATION", message: "Request header fields too large (at most 16 KB)." },
};

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

/** A raw HTTP/1.1 error answer with a JSON body, for errors Node answers before any handler runs. */
function rawErrorResponse(status: number): string {
  const { code, message } = HTTP_ERRORS[status] ?? { code: "VALIDATION", message: "Bad request." };
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  const reason = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
  };
  return `HTTP/1.1 ${status} ${reason[status as keyof typeof reason] ?? "Bad Request"}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** A Host header usable in a URL (letters, digits, dots, dashes, a port, an IPv6 literal); else localhost. */
const safeHost = (host: string | undefined): string =>
  host !== undefined && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? host : "localhost";

export function buildApp(deps: BuildAppDeps): App {
  const { store, readModels, runner, audit, logger } = deps;
  const options = deps.options ?? {};
  const now = options.now ?? (() => new Date());
  const limits: QueryLimits = { ...DEFAULT_QUERY_LIMITS, ...options.limits };
  const corsOrigins = options.corsOrigins ?? [];
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
    ...(options.webhookKey !== undefined && { webhookKey: options.webhookKey }),
  });
  const live = createLiveFeed({
    runner,
    readModels,
    audit,
    store,
    now,
    maxPerToken: options.maxSubscriptionsPerToken ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN,
    ...(options.maxSubscriptionBuffer !== undefined && { maxBuffered: options.maxSubscriptionBuffer }),
    ...(options.expirySweepMs !== undefined && { expirySweepMs: options.expirySweepMs }),
  });
  const metrics = deps.metrics ?? processMetrics();
  observeState(metrics, { readModels, runner, store });
  const sdk = createSdkRoutes({
    readModels,
    runner,
    logger: log,
    trackStream: () => metrics.trackStream("sdk_stream"),
    ...(options.sdkHeartbeatMs !== undefined && { heartbeatMs: options.sdkHeartbeatMs }),
  });
  const consoleHandler: ConsoleHandler | null =
    options.consoleDir === false ? null : createConsoleHandler(options.consoleDir ?? DEFAULT_CONSOLE_DIR);

  const contextFor = (auth: AuthInfo | null, request: RequestInfo): ApiContext => ({
    auth,
    request,
    readModels,
    audit,
    store,
    // Audit replay folds nothing another project's token may not see, and starts no fold past the budget.
    asOf: createAsOfLoader(store, {
      auth,
      readModels,
      deadline: Date.now() + limits.timeBudgetMs,
      onOverBudget: () => timeBudgetError(limits.timeBudgetMs),
    }),
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
    graphiql: options.graphiql === false ? false : GRAPHIQL_PAGE,
    // Yoga's default GraphiQL page loads its scripts from a CDN (and shows "Loading…" forever offline);
    // this one inlines them from the installed package. Loaded on first use: the bundle is ~9 MB.
    renderGraphiQL: async (graphiqlOptions) =>
      (await import("@graphql-yoga/render-graphiql")).renderGraphiQL(graphiqlOptions),
    maskedErrors: { maskError: (error) => toPublicError(error, log) },
    // CORS only for the configured origins; none by default (no CORS headers: browsers refuse cross-origin).
    cors:
      corsOrigins.length === 0
        ? false
        : {
            origin: [...corsOrigins],
            credentials: true,
            methods: ["GET", "POST"],
            allowedHeaders: ["authorization", "content-type", "idempotency-key", "x-request-id"],
            maxAge: 600,
          },
    logging: {
      // Yoga reports every error it masks; the ones that matter (INTERNAL) are logged by toPublicError.
      debug: (...args) => log.debug({ yoga: args.map(String) }, "yoga"),
      info: (...args) => log.debug({ yoga: args.map(String) }, "yoga"),
      warn: (...args) => log.warn({ yoga: args.map(String) }, "yoga"),
      error: (...args) => log.debug({ yoga: args.map(String) }, "yoga error"),
    },
    plugins: [
      ...queryLimitPlugins(limits),
      timeBudgetPlugin(limits.timeBudgetMs),
      oneMutationFieldPlugin(),
      errorCodes,
      observabilityPlugin(metrics),
    ],
    // Parsed documents are cached, validation results never: the cost rule reads the request's variables
    // and "introspection needs a token" the caller, so a cached verdict would let a query priced with
    // `first: 1` pass again with `first: 500`, or an anonymous caller reuse a token holder's verdict.
    parserAndValidationCache: { validationCache: false },
    context: (initial: YogaInitialContext & ServerContext) => {
      const auth =
        initial.auth !== undefined
          ? initial.auth
          : authenticate(readModels, bearerSecret(initial.request.headers.get("authorization")), now());
      return contextFor(auth, initial.requestInfo ?? requestInfoFrom(initial.request.headers));
    },
  });

  async function readiness(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    const check = async (name: string, probe: () => Promise<unknown>): Promise<void> => {
      try {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          probe(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error("timed out after 2 s")), 2_000);
            timer.unref();
          }),
        ]).finally(() => clearTimeout(timer));
        checks[name] = "ok";
      } catch (error) {
        // The failing check is named; what failed inside it goes to the log only.
        checks[name] = "failing";
        log.warn({ check: name, err: error }, "readiness check failed");
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
    if (url.pathname === "/metrics" && request.method === "GET" && options.serveMetrics !== false) {
      return metricsResponse(metrics);
    }
    if (url.pathname === "/readyz" && request.method === "GET") {
      const { ok, checks } = await readiness();
      return Response.json({ status: ok ? "ready" : "not ready", checks }, { status: ok ? 200 : 503 });
    }
    if (sdk.matches(url.pathname)) return sdk.fetch(request);
    if (url.pathname !== GRAPHQL_PATH) {
      const page = consoleHandler === null ? null : await consoleHandler.handle(request, url.pathname);
      return page ?? errorResponse(404, `Not found: ${url.pathname}`, "NOT_FOUND");
    }

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
    const auth = authenticate(readModels, bearerSecret(forwarded.headers.get("authorization")), now());
    const limited = await rateLimited(rateKey(auth, remoteAddress));
    if (limited !== null) return limited;
    const requestInfo = requestInfoFrom(forwarded.headers);
    const server: ServerContext = { auth, requestInfo };
    const response = await requestScope.run({ requestId: requestInfo.correlationId }, () =>
      yoga.fetch(forwarded, server),
    );
    response.headers.set("x-request-id", requestInfo.correlationId);
    return await withJsonError(response);
  }

  /** Yoga answers some HTTP errors (405, 406, 415 …) with an empty or non-JSON body: give each a code. */
  async function withJsonError(response: Response): Promise<Response> {
    if (response.status < 400) return response;
    if ((response.headers.get("content-type") ?? "").includes("json")) return response;
    await response.body?.cancel().catch(() => {});
    const { code, message } = HTTP_ERRORS[response.status] ?? {
      code: response.status >= 500 ? "INTERNAL" : "VALIDATION",
      message: response.status >= 500 ? "Unexpected error." : "Bad request.",
    };
    const headers: Record<string, string> = {};
    for (const name of ["allow", "retry-after", "x-request-id"]) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return errorResponse(response.status, message, code, headers);
  }

  /** `remoteAddress`: the client's address, when the transport knows it (the Node server does). */
  async function fetchHandler(request: Request, remoteAddress: string | null = null): Promise<Response> {
    try {
      return await observeHttp(metrics, request, () => handle(request, remoteAddress));
    } catch (error) {
      const requestId = randomUUID();
      log.error({ err: error, requestId }, "request failed");
      return errorResponse(500, `Unexpected error. Request id: ${requestId}.`, "INTERNAL", {
        "x-request-id": requestId,
      });
    }
  }

  // ---- Node HTTP + WebSocket ---------------------------------------------------------------------

  let server: Server | null = null;
  let wsServer: WebSocketServer | null = null;
  let disposeWs: (() => Promise<void>) | null = null;

  let inFlight = 0;
  let wsInFlight = 0;
  async function nodeHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    inFlight++;
    res.once("close", () => inFlight--);
    // The SDK routes answer from memory, without the fetch-API objects below (the 304 path is hot).
    if (req.url?.startsWith("/sdk/")) {
      sdk.node(req, res);
      return;
    }
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
      try {
        for await (const chunk of req) {
          size += (chunk as Buffer).length;
          if (size > maxBodyBytes) {
            await writeResponse(res, bodyTooLarge(maxBodyBytes));
            req.destroy();
            return;
          }
          chunks.push(chunk as Buffer);
        }
      } catch (error) {
        // The client went away or was timed out mid-body: nothing to answer, nothing unexpected.
        log.debug({ err: error }, "request body not received");
        return;
      }
      if (req.readableAborted || controller.signal.aborted) return;
      body = new Uint8Array(Buffer.concat(chunks));
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    // A malformed Host or path is the client's error, answered as such (never a 500 with a stack).
    let url: URL;
    try {
      url = new URL(req.url ?? "/", `http://${safeHost(req.headers.host)}`);
    } catch {
      await writeResponse(res, errorResponse(400, "Bad request: malformed URL.", "VALIDATION"));
      return;
    }
    const request = new Request(url, {
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
        // A client that does not read: wait for its socket to drain, then give up on it (slow consumer);
        // meanwhile nothing more is pulled, so its subscription's own bounded buffer fills and ends it.
        if (!res.write(value) && !(await drained(res, SLOW_CLIENT_DRAIN_MS))) {
          log.info("closing a response whose client does not read (slow consumer)");
          res.destroy();
          await reader.cancel().catch(() => {});
          return;
        }
      }
      res.end();
    } catch {
      res.destroy();
    }
  }

  /** Open WebSockets by token id: a revoked or expired token's sockets are closed (4403). */
  const socketsByToken = new Map<string, Set<WebSocket>>();
  const closeTokenSockets = (tokenId: string, reason: string): void => {
    for (const socket of socketsByToken.get(tokenId) ?? []) socket.close(WS_CLOSE_FORBIDDEN, reason);
  };
  const offRevocations = runner.onEvent((event, _models, change) => {
    if (event.type === "ApiTokenRevoked" && change.kind === "token") {
      closeTokenSockets(change.id, "Forbidden: the API token was revoked");
    }
  });
  const maxSocketBuffered = options.maxSocketBufferedBytes ?? DEFAULT_MAX_SOCKET_BUFFERED_BYTES;

  /** Disconnects a WebSocket whose client does not read: closed 1013, dropped a second later. */
  const dropSlowSocket = (socket: WebSocket): void => {
    log.info({ buffered: socket.bufferedAmount }, "closing a WebSocket that does not read (slow consumer)");
    socket.close(WS_CLOSE_SLOW_CONSUMER, "Try again later: the client did not keep up");
    // A client that does not read will not answer the close either.
    setTimeout(() => socket.terminate(), 1_000).unref();
  };

  // Every second: sockets of expired tokens close (4403), and sockets whose unsent data outgrew the bound
  // (a client that stopped reading while its subscriptions' messages pile up) are dropped.
  const expirySweep = setInterval(() => {
    for (const tokenId of socketsByToken.keys()) {
      const token = readModels.token(tokenId);
      if (token === null || !isTokenActive(token, now())) {
        live.endToken(tokenId, "the API token expired");
        closeTokenSockets(tokenId, "Forbidden: the API token expired");
      }
    }
    for (const sockets of socketsByToken.values()) {
      for (const socket of sockets) {
        if (socket.readyState === socket.OPEN && socket.bufferedAmount > maxSocketBuffered) dropSlowSocket(socket);
      }
    }
  }, options.expirySweepMs ?? 1_000);
  expirySweep.unref();

  type SocketExtra = {
    request: IncomingMessage;
    socket: WebSocket;
    auth?: AuthInfo;
  };

  function startWebSocket(httpServer: Server): void {
    const wss = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH, maxPayload: maxBodyBytes });
    wsServer = wss;
    const cleanup = useServer<Record<string, unknown>, SocketExtra>(
      {
        // A socket without a valid token at connection_init is closed: 4401 (and 4408 from graphql-ws
        // when no connection_init comes within the timeout). It holds no subscription meanwhile.
        connectionInitWaitTimeout: options.connectionInitTimeoutMs ?? 3_000,
        onConnect: (ctx) => {
          const auth = authenticate(readModels, secretFromConnectionParams(ctx.connectionParams), now());
          if (auth === null) {
            ctx.extra.socket.close(WS_CLOSE_UNAUTHORIZED, "Unauthorized: a valid API token is required");
            return false;
          }
          ctx.extra.auth = auth;
          const sockets = socketsByToken.get(auth.tokenId) ?? new Set<WebSocket>();
          sockets.add(ctx.extra.socket);
          socketsByToken.set(auth.tokenId, sockets);
          ctx.extra.socket.once("close", () => {
            sockets.delete(ctx.extra.socket);
            if (sockets.size === 0 && socketsByToken.get(auth.tokenId) === sockets) socketsByToken.delete(auth.tokenId);
          });
          return true;
        },
        // Queries and mutations over the socket are counted, so stop() lets them answer before closing.
        execute: async (args: ExecutionArgs) => {
          wsInFlight++;
          try {
            return await (args.rootValue as EnvelopedRoot).execute(args);
          } finally {
            wsInFlight--;
          }
        },
        subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
        onSubscribe: async (ctx, _id, payload) => {
          const upgrade = ctx.extra.request;
          const requestInfo = requestInfoFrom({
            get: (name) => {
              const value = upgrade.headers[name];
              return typeof value === "string" ? value : null;
            },
          });
          return requestScope.run({ requestId: requestInfo.correlationId }, async () => {
            // The token may have been revoked or expired since connection_init: checked again.
            const auth = authenticate(readModels, secretFromConnectionParams(ctx.connectionParams), now());
            if (auth === null) {
              ctx.extra.socket.close(WS_CLOSE_FORBIDDEN, "Forbidden: the API token is no longer valid");
              return [toPublicError(new DomainError("UNAUTHENTICATED", "The API token is no longer valid."), log)];
            }
            if (rateLimiter !== null) {
              try {
                await rateLimiter.consume(rateKey(auth, upgrade.socket.remoteAddress ?? null));
              } catch (error) {
                return [toPublicError(error, log)];
              }
            }
            const enveloped = yoga.getEnveloped({
              ...ctx,
              auth,
              requestInfo,
              // POST: graphql-transport-ws carries mutations too, which Yoga refuses on a GET request.
              request: new Request(`http://localhost${GRAPHQL_PATH}`, { method: "POST" }),
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
          });
        },
        onNext: (ctx, _id, _payload, args, result) => {
          // A client that does not read its socket: disconnected rather than buffered without bound.
          if (ctx.extra.socket.bufferedAmount > maxSocketBuffered) {
            dropSlowSocket(ctx.extra.socket);
            return result;
          }
          if (!result.errors || result.errors.length === 0) return result;
          const requestId = (args.contextValue as ApiContext | undefined)?.request.correlationId;
          return { ...result, errors: result.errors.map((error) => toPublicError(error, log, requestId)) };
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
    metrics,
    commands,
    sdk,
    async start(port, host = "127.0.0.1") {
      if (server !== null) throw new Error("already started");
      const httpServer = createServer(
        {
          // Sized for an API: headers within 10 s, a whole request within 30 s (not Node's 300 s), at most
          // 16 KB of headers; idle keep-alive sockets close after 5 s.
          headersTimeout: options.headersTimeoutMs ?? 10_000,
          requestTimeout: options.requestTimeoutMs ?? 30_000,
          keepAliveTimeout: 5_000,
          maxHeaderSize: 16 * 1024,
          // How often Node checks those timeouts (its default, 30 s, would let a slow body live 30 s more).
          connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs ?? 10_000),
        },
        (req, res) => {
          nodeHandler(req, res).catch((error: unknown) => {
            const requestId = randomUUID();
            log.error({ err: error, requestId }, "HTTP handler failed");
            if (!res.headersSent) res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
            res.end(
              JSON.stringify({
                errors: [
                  {
                    message: `Unexpected error. Request id: ${requestId}.`,
                    extensions: { code: "INTERNAL", requestId },
                  },
                ],
              }),
            );
          });
        },
      );
      // Errors Node answers before any handler (headers too large, a malformed request, a timeout): the
      // same JSON body with a code as every other error, and no stack trace in the logs.
      httpServer.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
        log.debug({ code: error.code }, "client error");
        // A request already being answered (its response started) cannot get another answer: just close.
        const answering = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
        if (!socket.writable || answering?.headersSent === true) {
          socket.destroy();
          return;
        }
        const status =
          error.code === "HPE_HEADER_OVERFLOW"
            ? 431
            : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
              ? 408
              : error.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW"
                ? 413
                : 400;
        socket.end(rawErrorResponse(status));
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
      offRevocations();
      clearInterval(expirySweep);
      // Graceful: stop accepting, end subscriptions (SSE streams end; WebSockets get graphql-ws' 1001
      // "Going away" and a moment to take it), let in-flight requests answer (a release action waits for
      // its Update), then close what is left.
      const httpServer = server;
      httpServer?.close();
      live.closeAll();
      sdk.closeAll();
      const sockets = [...(wsServer?.clients ?? [])];
      await waitUntil(() => wsInFlight === 0, options.drainMs ?? 20_000);
      if (disposeWs !== null) await disposeWs().catch(() => {});
      await waitUntil(() => sockets.every((socket) => socket.readyState === socket.CLOSED), 1_000);
      for (const client of sockets) client.terminate();
      await new Promise<void>((resolve) => (wsServer ? wsServer.close(() => resolve()) : resolve()));
      wsServer = null;
      server = null;
      if (httpServer !== null) {
        httpServer.closeIdleConnections();
        await waitUntil(() => inFlight === 0, options.drainMs ?? 20_000);
        httpServer.closeAllConnections();
      }
    },
  };
}

/**
 * GraphiQL's options. Its schema query is graphql-js' standard introspection query: with
 * `inputValueDeprecation` (Yoga's default) it prices at 51,933 and the cost limit (50,000) refused it, so
 * GraphiQL had no schema (no docs, no completion) even with a token. Without, 49,532.
 */
export const GRAPHIQL_PAGE = {
  subscriptionsProtocol: "WS",
  title: "Release pipelines",
  inputValueDeprecation: false,
} as const;

/** How long a response waits for a client to read what was written before it is dropped (slow consumer). */
const SLOW_CLIENT_DRAIN_MS = 10_000;

/** Whether `res` drained within `ms` (false: closed or still full). */
function drained(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    const timer = setTimeout(() => done(false), ms);
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

/** Resolves once `done()` holds (checked every 20 ms) or after `timeoutMs`. */
async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
}

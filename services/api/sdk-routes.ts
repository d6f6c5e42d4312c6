// The SDK endpoints, served by every API process from its own read models:
//   GET /sdk/v1/config  the environment's configuration document; ETag / If-None-Match → 304; gzip.
//   GET /sdk/v1/stream  Server-Sent Events: `put` (the whole document) first — or, resuming with
//                       Last-Event-ID, the `patch`es since that version — then a `patch` per change,
//                       a heartbeat comment every `heartbeatMs` (15 s), and `revoked` before it closes
//                       when its key is revoked.
// `Authorization: Bearer <SDK key>`; an unknown or revoked key answers 401 with a JSON body carrying the
// contract's error code. The GraphQL rate limit does not apply here: a fleet of servers shares one key.
//
// The Node server calls `node()` directly (no Request/Response objects on the hot 304 path); `fetch()`
// serves the same routes to the in-process fetch handler.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorCode } from "../core/errors.ts";
import { hashSecret } from "../core/ids.ts";
import type { Logger } from "../platform/logger.ts";
import type { ReadModels } from "../projections/read-models.ts";
import type { ProjectionRunner } from "../projections/runner.ts";
import type { SdkKey } from "../sdk-key/sdk-key.ts";
import { VERSION_PATTERN } from "../serving/config-document.ts";
import { type ConfigSnapshot, ServedConfigs, type ServedPatch } from "./served-configs.ts";

export const SDK_CONFIG_PATH = "/sdk/v1/config";
export const SDK_STREAM_PATH = "/sdk/v1/stream";
const SDK_PREFIX = "/sdk/";

export interface SdkRoutesOptions {
  readModels: ReadModels;
  runner: Pick<ProjectionRunner, "onEvent">;
  logger: Logger;
  /** Heartbeat comment interval on streams (default 15 s, the most PRODUCT.md allows). */
  heartbeatMs?: number;
  /** A stream whose client has not read this many bytes is closed (it reconnects and resumes). Default 8 MB. */
  maxBufferedBytes?: number;
  /** Called as a stream opens; the function it returns as it closes (the open-streams metric). */
  trackStream?: () => () => void;
}

export interface SdkRoutes {
  /** Whether `pathname` is one of these routes' (everything under /sdk/). */
  matches(pathname: string): boolean;
  /** Serves a Node request (the server's fast path). */
  node(req: IncomingMessage, res: ServerResponse): void;
  /** Serves a fetch Request (the in-process handler). */
  fetch(request: Request): Response;
  /** Streams open now. */
  readonly openStreams: number;
  /** Ends every stream (server shutdown). */
  closeAll(): void;
}

interface Plain {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer | null;
}

/** Where a stream writes: a Node response or a ReadableStream's controller. */
interface Sink {
  write(chunk: string | Buffer): void;
  /** Bytes written but not yet taken by the client. */
  buffered(): number;
  end(): void;
}

interface Session {
  key: SdkKey;
  sink: Sink;
  off: () => void;
  closed: boolean;
}

const JSON_TYPE = "application/json; charset=utf-8";

function errorBody(status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): Plain {
  return {
    status,
    headers: { "content-type": JSON_TYPE, "cache-control": "no-store", ...headers },
    body: JSON.stringify({ errors: [{ message, extensions: { code } }] }),
  };
}

const unauthenticated = (message: string): Plain =>
  errorBody(401, "UNAUTHENTICATED", message, { "www-authenticate": 'Bearer realm="sdk"' });

/** Whether an If-None-Match header names `etag` (weak comparison; `*` matches). */
function etagMatches(header: string | null, version: string): boolean {
  if (header === null) return false;
  // What the SDK sends back: the ETag as it was given.
  if (header.length === version.length + 4 && header === `W/"${version}"`) return true;
  for (const part of header.split(",")) {
    const tag = part.trim().replace(/^W\//, "");
    if (tag === "*" || tag === `"${version}"`) return true;
  }
  return false;
}

const acceptsGzip = (header: string | null): boolean =>
  header !== null && /(?:^|,)\s*gzip\s*(?:;\s*q=(?!0(?:\.0*)?\s*(?:,|$))[0-9.]+)?\s*(?:,|$)/i.test(header);

export function createSdkRoutes(options: SdkRoutesOptions): SdkRoutes {
  const { readModels, logger } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const log = logger.child({ component: "sdk" });
  const configs = new ServedConfigs({ readModels, runner: options.runner });
  const sessions = new Set<Session>();

  const closeSession = (session: Session, frame?: string | Buffer): void => {
    if (session.closed) return;
    session.closed = true;
    sessions.delete(session);
    session.off();
    try {
      if (frame !== undefined) session.sink.write(frame);
      session.sink.end();
    } catch {
      // The client is gone already.
    }
  };

  const send = (session: Session, frame: string | Buffer): void => {
    if (session.closed) return;
    if (session.sink.buffered() > maxBuffered) {
      log.warn({ keyId: session.key.id }, "SDK stream closed: its client does not keep up");
      closeSession(session);
      return;
    }
    session.sink.write(frame);
  };

  const offKeys = configs.onKeyChange((key) => {
    if (key.revokedAt === null) return;
    const frame = `event: revoked\ndata: ${JSON.stringify({ code: "UNAUTHENTICATED", message: `SDK key "${key.name}" was revoked` })}\n\n`;
    for (const session of [...sessions]) if (session.key.id === key.id) closeSession(session, frame);
  });

  const heartbeat = setInterval(() => {
    for (const session of sessions) send(session, ": heartbeat\n\n");
  }, heartbeatMs);
  heartbeat.unref();

  /**
   * Authorization header → the id of its key, for keys seen before: a fleet polls with the same few keys,
   * and hashing the secret was the dearest step of a 304. Only known keys are kept (bounded), and the key
   * itself is read from the read model every time, so a revocation applies at once.
   */
  const knownKeys = new Map<string, string>();

  /** The key of the request, or the 401/404 to answer. */
  function authorize(authorization: string | null): { key: SdkKey; snapshot: ConfigSnapshot } | Plain {
    let key: SdkKey | null = null;
    const knownId = authorization === null ? undefined : knownKeys.get(authorization);
    if (knownId !== undefined) key = readModels.sdkKey(knownId);
    else {
      const match = authorization === null ? null : /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
      const secret = match?.[1];
      if (secret === undefined) return unauthenticated("An SDK key is required: Authorization: Bearer <SDK key>.");
      key = readModels.sdkKeyByHash(hashSecret(secret));
      if (key !== null && authorization !== null) {
        if (knownKeys.size >= 10_000) knownKeys.clear();
        knownKeys.set(authorization, key.id);
      }
    }
    if (key === null) return unauthenticated("Unknown SDK key.");
    if (key.revokedAt !== null) return unauthenticated(`SDK key "${key.name}" was revoked at ${key.revokedAt}.`);
    const snapshot = configs.snapshot(key.projectId, key.environment);
    if (snapshot === null) {
      return errorBody(
        404,
        "NOT_FOUND",
        `The SDK key's environment "${key.environment}" no longer exists in its project.`,
      );
    }
    return { key, snapshot };
  }

  /** Each document's answer headers, made once. */
  const headersOf = new WeakMap<
    ConfigSnapshot,
    { notModified: Record<string, string>; json: Record<string, string>; gzip: Record<string, string> }
  >();

  function config(headers: (name: string) => string | null): Plain {
    const auth = authorize(headers("authorization"));
    if ("status" in auth) return auth;
    const { snapshot } = auth;
    let made = headersOf.get(snapshot);
    if (made === undefined) {
      const common = {
        etag: `W/"${snapshot.version}"`,
        "cache-control": "no-cache",
        vary: "Accept-Encoding, Authorization",
        "x-config-version": snapshot.version,
      };
      made = {
        notModified: common,
        json: { ...common, "content-type": JSON_TYPE },
        gzip: { ...common, "content-type": JSON_TYPE, "content-encoding": "gzip" },
      };
      headersOf.set(snapshot, made);
    }
    if (etagMatches(headers("if-none-match"), snapshot.version))
      return { status: 304, headers: made.notModified, body: null };
    if (acceptsGzip(headers("accept-encoding"))) return { status: 200, headers: made.gzip, body: snapshot.gzip() };
    return { status: 200, headers: made.json, body: snapshot.json };
  }

  /** Validates a stream request; the frames to start with, or the error to answer. */
  function openStream(headers: (name: string) => string | null): { key: SdkKey; first: (string | Buffer)[] } | Plain {
    const auth = authorize(headers("authorization"));
    if ("status" in auth) return auth;
    const { key, snapshot } = auth;
    const lastEventId = headers("last-event-id")?.trim() ?? "";
    if (lastEventId !== "" && !VERSION_PATTERN.test(lastEventId)) {
      return errorBody(
        400,
        "VALIDATION",
        `Last-Event-ID must be a configuration version as sent in an event id (16 hex digits); got "${lastEventId.slice(0, 64)}".`,
      );
    }
    const first: (string | Buffer)[] = ["retry: 1000\n\n"];
    const patches = lastEventId === "" ? null : configs.patchesSince(key.projectId, key.environment, lastEventId);
    // Resuming: the patches since the client's version (none when it is current); otherwise the whole document.
    if (patches === null) first.push(snapshot.putFrame);
    else for (const patch of patches) first.push(patch.frame);
    return { key, first };
  }

  const STREAM_HEADERS = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  };

  function startSession(key: SdkKey, first: (string | Buffer)[], sink: Sink): Session {
    const session: Session = { key, sink, off: () => {}, closed: false };
    sessions.add(session);
    for (const frame of first) sink.write(frame);
    const unsubscribe = configs.subscribe(key.projectId, key.environment, (patch: ServedPatch) =>
      send(session, patch.frame),
    );
    const untrack = options.trackStream?.() ?? (() => {});
    session.off = () => {
      unsubscribe();
      untrack();
    };
    return session;
  }

  function route(method: string, pathname: string): "config" | "stream" | Plain {
    if (pathname !== SDK_CONFIG_PATH && pathname !== SDK_STREAM_PATH) {
      return errorBody(404, "NOT_FOUND", `Not found: ${pathname}`);
    }
    if (method !== "GET") return errorBody(405, "VALIDATION", `${pathname} answers GET only.`, { allow: "GET" });
    return pathname === SDK_CONFIG_PATH ? "config" : "stream";
  }

  return {
    matches: (pathname) => pathname.startsWith(SDK_PREFIX),

    get openStreams() {
      return sessions.size;
    },

    node(req, res) {
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const pathname = q < 0 ? url : url.slice(0, q);
      const header = (name: string): string | null => {
        const value = req.headers[name];
        return typeof value === "string" ? value : Array.isArray(value) ? value.join(", ") : null;
      };
      const writePlain = (plain: Plain): void => {
        res.writeHead(plain.status, plain.headers);
        res.end(plain.body ?? undefined);
      };
      const target = route(req.method ?? "GET", pathname);
      if (typeof target !== "string") return writePlain(target);
      if (target === "config") return writePlain(config(header));
      const opened = openStream(header);
      if ("status" in opened) return writePlain(opened);
      res.writeHead(200, STREAM_HEADERS);
      res.socket?.setNoDelay(true);
      const session = startSession(opened.key, opened.first, {
        write: (chunk) => {
          res.write(chunk);
        },
        buffered: () => res.writableLength,
        end: () => res.end(),
      });
      res.once("close", () => closeSession(session));
    },

    fetch(request) {
      const url = new URL(request.url);
      const header = (name: string): string | null => request.headers.get(name);
      const toResponse = (plain: Plain): Response =>
        new Response(plain.body === null ? null : new Uint8Array(Buffer.from(plain.body)), {
          status: plain.status,
          headers: plain.headers,
        });
      const target = route(request.method, url.pathname);
      if (typeof target !== "string") return toResponse(target);
      if (target === "config") return toResponse(config(header));
      const opened = openStream(header);
      if ("status" in opened) return toResponse(opened);
      const encoder = new TextEncoder();
      let session: Session | null = null;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          session = startSession(opened.key, opened.first, {
            write: (chunk) => {
              controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : new Uint8Array(chunk));
            },
            buffered: () => Math.max(0, -(controller.desiredSize ?? 0)),
            end: () => controller.close(),
          });
          request.signal.addEventListener("abort", () => session && closeSession(session));
        },
        cancel() {
          if (session !== null) closeSession(session);
        },
      });
      return new Response(body, { status: 200, headers: STREAM_HEADERS });
    },

    closeAll() {
      clearInterval(heartbeat);
      offKeys();
      for (const session of [...sessions]) closeSession(session);
      configs.close();
    },
  };
}

// The server SDK: keeps one environment's configuration live and evaluates in process.
//
//   const client = createClient({ baseUrl: "https://flags.example.com", sdkKey: process.env.RP_SDK_KEY });
//   await client.ready();
//   client.evaluate("new-checkout", { id: user.id, attributes: { region: "us-west" } }).enabled;
//
// Streams /sdk/v1/stream (a `put`, then `patch`es), reconnecting with exponential backoff and jitter and
// resuming with Last-Event-ID; while the stream is down it polls /sdk/v1/config (ETag, 304) as a
// fallback; it keeps serving the last good configuration while the server is unreachable; a revoked or
// unknown key stops it (status ERROR) but the last configuration is still served. `evaluate` never throws.

import type { FeatureKind } from "../services/core/model.ts";
import {
  type ConfigPatch,
  isConfigDocument,
  isConfigPatch,
  notServed,
  PreparedConfig,
  type SdkEvaluation,
  type Unit,
} from "./evaluator.ts";
import { createSseParser, type SseEvent } from "./sse.ts";

export type ClientStatus = "NOT_READY" | "READY" | "STALE" | "ERROR" | "CLOSED";

export interface ClientOptions {
  /** The API's base URL, e.g. http://localhost:4000 (a trailing /graphql is ignored). */
  baseUrl: string;
  sdkKey: string;
  /** Stream changes (default true); false polls only. */
  streaming?: boolean;
  /** Poll interval while the stream is down, or always without streaming (default 30 s); 0: never poll. */
  pollIntervalMs?: number;
  /** First reconnect delay (default 500 ms); doubles per failure up to `maxBackoffMs` (default 30 s), with jitter. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A stream silent this long (no event, no heartbeat) is dropped and reopened (default 45 s: three heartbeats). */
  streamTimeoutMs?: number;
  /** How long `ready()` waits by default (default 15 s). */
  readyTimeoutMs?: number;
  /** The fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Where the client reports trouble (default: console.warn). */
  logger?: { warn(message: string): void };
}

export interface ChangeEvent {
  version: string;
  previousVersion: string | null;
  /** Keys of the features whose answers may have changed. */
  changedFlags: string[];
}

export class SdkKeyError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "SdkKeyError";
    this.status = status;
    this.code = code;
  }
}

type Listeners = {
  change: (event: ChangeEvent) => void;
  ready: () => void;
  stale: (reason: string) => void;
  error: (error: Error) => void;
};

export interface ReleasePipelinesClient {
  /** Resolves once a configuration is loaded; rejects on a refused key or after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** In process, from the current configuration. Never throws. */
  evaluate(featureKey: string, unit: Unit): SdkEvaluation;
  /** The feature's kind, or null when the configuration has no such feature. */
  kindOf(featureKey: string): FeatureKind | null;
  readonly status: ClientStatus;
  /** The configuration's version (null before the first). */
  readonly version: string | null;
  /** Requests made so far, by endpoint (for operators and tests). */
  readonly requests: { readonly config: number; readonly stream: number };
  on<E extends keyof Listeners>(event: E, listener: Listeners[E]): () => void;
  close(): Promise<void>;
}

const jitter = (ms: number): number => Math.round(ms * (0.5 + Math.random() / 2));

function httpError(status: number, body: string): SdkKeyError {
  let code = status === 401 ? "UNAUTHENTICATED" : status === 404 ? "NOT_FOUND" : "INTERNAL";
  let message = `HTTP ${status}`;
  try {
    const parsed = JSON.parse(body) as { errors?: { message?: string; extensions?: { code?: string } }[] };
    code = parsed.errors?.[0]?.extensions?.code ?? code;
    message = parsed.errors?.[0]?.message ?? message;
  } catch {
    // Not JSON: the status says enough.
  }
  return new SdkKeyError(status, code, message);
}

export function createClient(options: ClientOptions): ReleasePipelinesClient {
  const base = options.baseUrl.replace(/\/+$/, "").replace(/\/graphql$/, "");
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const streaming = options.streaming ?? true;
  const pollIntervalMs = options.pollIntervalMs ?? 30_000;
  const initialBackoffMs = options.initialBackoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const streamTimeoutMs = options.streamTimeoutMs ?? 45_000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const logger = options.logger ?? { warn: (message: string) => console.warn(`[release-pipelines] ${message}`) };
  const authorization = `Bearer ${options.sdkKey}`;

  let config: PreparedConfig | null = null;
  let status: ClientStatus = "NOT_READY";
  let fatal: Error | null = null;
  let closed = false;
  let attempt = 0;
  let streamAbort: AbortController | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let pollTimer: NodeJS.Timeout | null = null;
  let polling = false;
  const requests = { config: 0, stream: 0 };
  const listeners: { [E in keyof Listeners]: Set<Listeners[E]> } = {
    change: new Set(),
    ready: new Set(),
    stale: new Set(),
    error: new Set(),
  };
  const readyWaiters = new Set<{ resolve: () => void; reject: (error: Error) => void }>();

  function emit<E extends keyof Listeners>(event: E, ...args: Parameters<Listeners[E]>): void {
    for (const listener of listeners[event]) {
      try {
        (listener as (...a: Parameters<Listeners[E]>) => void)(...args);
      } catch (error) {
        logger.warn(`a ${event} listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  function setStatus(next: ClientStatus, reason = ""): void {
    if (status === next || status === "CLOSED") return;
    const previous = status;
    status = next;
    if (next === "READY") {
      if (previous === "NOT_READY") for (const waiter of readyWaiters) waiter.resolve();
      if (previous === "NOT_READY") readyWaiters.clear();
      emit("ready");
    } else if (next === "STALE") emit("stale", reason);
  }

  function fail(error: Error): void {
    if (fatal !== null || closed) return;
    fatal = error;
    logger.warn(`stopped: ${error.message}${config ? " (serving the last configuration)" : ""}`);
    stopNetwork();
    status = "ERROR";
    for (const waiter of readyWaiters) waiter.reject(error);
    readyWaiters.clear();
    emit("error", error);
  }

  /** Installs a new configuration; emits `change` when it differs. */
  function install(next: PreparedConfig): void {
    const previous = config;
    if (previous !== null && previous.version === next.version) return;
    config = next;
    if (previous === null) {
      setStatus("READY");
      return;
    }
    const changedFlags = next.changedSince(previous);
    emit("change", { version: next.version, previousVersion: previous.version, changedFlags });
  }

  function stopNetwork(): void {
    streamAbort?.abort();
    streamAbort = null;
    if (reconnectTimer !== null) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    stopPolling();
  }

  // ---- polling ---------------------------------------------------------------------------------

  async function pollOnce(): Promise<void> {
    if (closed || fatal !== null) return;
    requests.config++;
    const headers: Record<string, string> = { authorization, "accept-encoding": "gzip" };
    if (config !== null) headers["if-none-match"] = `W/"${config.version}"`;
    try {
      const response = await doFetch(`${base}/sdk/v1/config`, { headers });
      if (response.status === 304) {
        await response.body?.cancel();
        if (!streaming) setStatus("READY");
        return;
      }
      const body = await response.text();
      if (response.status === 401 || response.status === 403 || response.status === 404) {
        fail(httpError(response.status, body));
        return;
      }
      if (!response.ok) throw httpError(response.status, body);
      const doc: unknown = JSON.parse(body);
      if (!isConfigDocument(doc)) throw new Error("the configuration document has an unknown shape");
      install(PreparedConfig.fromDocument(doc));
      if (!streaming && status === "STALE") setStatus("READY");
    } catch (error) {
      logger.warn(`could not load the configuration: ${error instanceof Error ? error.message : String(error)}`);
      if (!streaming && config !== null) setStatus("STALE", "polling failed");
    }
  }

  function startPolling(): void {
    if (polling || pollIntervalMs <= 0 || closed || fatal !== null) return;
    polling = true;
    const tick = (): void => {
      pollTimer = setTimeout(() => {
        void pollOnce().finally(() => {
          if (polling) tick();
        });
      }, pollIntervalMs);
      pollTimer.unref?.();
    };
    tick();
  }

  function stopPolling(): void {
    polling = false;
    if (pollTimer !== null) clearTimeout(pollTimer);
    pollTimer = null;
  }

  // ---- streaming -------------------------------------------------------------------------------

  function scheduleReconnect(reason: string): void {
    if (closed || fatal !== null || reconnectTimer !== null) return;
    if (config !== null) setStatus("STALE", reason);
    startPolling();
    const delay = jitter(Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(attempt, 16)));
    attempt++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      void connect();
    }, delay);
    reconnectTimer.unref?.();
  }

  function onStreamEvent(event: SseEvent, abort: AbortController): void {
    switch (event.event) {
      case "put": {
        const doc: unknown = JSON.parse(event.data);
        if (!isConfigDocument(doc)) throw new Error("a put event carried an unknown document shape");
        install(PreparedConfig.fromDocument(doc));
        return;
      }
      case "patch": {
        const patch: unknown = JSON.parse(event.data);
        if (!isConfigPatch(patch)) throw new Error("a patch event has an unknown shape");
        if (config === null || config.version !== (patch as ConfigPatch).previousVersion) {
          // A gap: reconnect from our version; the server replays the patches or sends the whole document.
          abort.abort();
          return;
        }
        install(config.withPatch(patch));
        return;
      }
      case "revoked": {
        const body = JSON.parse(event.data) as { code?: string; message?: string };
        fail(new SdkKeyError(401, body.code ?? "UNAUTHENTICATED", body.message ?? "the SDK key was revoked"));
        return;
      }
      default:
        return;
    }
  }

  async function connect(): Promise<void> {
    if (closed || fatal !== null) return;
    const abort = new AbortController();
    streamAbort = abort;
    // A silent stream (no event, no heartbeat for streamTimeoutMs) is dropped: one timer per stream that
    // checks when data last came, rather than a timer reset for every chunk.
    let lastData = Date.now();
    const feed = (): void => {
      lastData = Date.now();
    };
    const watchdog = setInterval(
      () => {
        if (Date.now() - lastData > streamTimeoutMs) abort.abort();
      },
      Math.max(50, Math.min(5_000, streamTimeoutMs / 4)),
    );
    watchdog.unref?.();
    requests.stream++;
    try {
      const headers: Record<string, string> = { authorization, accept: "text/event-stream" };
      if (config !== null) headers["last-event-id"] = config.version;
      feed();
      const response = await doFetch(`${base}/sdk/v1/stream`, { headers, signal: abort.signal });
      if (response.status === 401 || response.status === 403 || response.status === 404) {
        fail(httpError(response.status, await response.text()));
        return;
      }
      if (response.status !== 200 || response.body === null) {
        throw httpError(response.status, await response.text());
      }
      attempt = 0;
      stopPolling();
      const parser = createSseParser((event) => onStreamEvent(event, abort));
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        feed();
        parser.push(decoder.decode(value, { stream: true }));
        if (status === "STALE" && config !== null) setStatus("READY");
      }
      if (!closed && fatal === null) scheduleReconnect("the stream ended");
    } catch (error) {
      if (closed || fatal !== null) return;
      const message = error instanceof Error ? error.message : String(error);
      if (!abort.signal.aborted) logger.warn(`stream failed: ${message}; reconnecting`);
      scheduleReconnect(abort.signal.aborted ? "the stream was reset" : message);
    } finally {
      clearInterval(watchdog);
      if (streamAbort === abort) streamAbort = null;
    }
  }

  // ---- start -----------------------------------------------------------------------------------

  if (streaming) void connect();
  else {
    void pollOnce();
    startPolling();
  }

  return {
    ready(timeoutMs = readyTimeoutMs) {
      if (config !== null) return Promise.resolve();
      if (fatal !== null) return Promise.reject(fatal);
      if (closed) return Promise.reject(new Error("the client is closed"));
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (error: Error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          readyWaiters.delete(waiter);
          reject(new Error(`no configuration within ${timeoutMs} ms from ${base}`));
        }, timeoutMs);
        readyWaiters.add(waiter);
      });
    },

    evaluate(featureKey, unit) {
      try {
        if (config === null) {
          return {
            ...notServed(featureKey, null, "ERROR"),
            errorCode: "PROVIDER_NOT_READY",
            errorMessage: fatal?.message ?? "no configuration loaded yet",
          };
        }
        return config.evaluate(featureKey, unit);
      } catch (error) {
        return {
          ...notServed(featureKey, config?.version ?? null, "ERROR"),
          errorCode: "GENERAL",
          errorMessage: error instanceof Error ? error.message : String(error),
        };
      }
    },

    kindOf(featureKey) {
      return config?.kindOf(featureKey) ?? null;
    },

    get status() {
      return status;
    },

    get version() {
      return config?.version ?? null;
    },

    requests,

    on(event, listener) {
      listeners[event].add(listener);
      return () => {
        listeners[event].delete(listener);
      };
    },

    async close() {
      if (closed) return;
      stopNetwork();
      closed = true;
      status = "CLOSED";
      for (const waiter of readyWaiters) waiter.reject(new Error("the client is closed"));
      readyWaiters.clear();
    },
  };
}

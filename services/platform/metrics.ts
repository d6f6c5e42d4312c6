// Prometheus metrics (prom-client), one registry per process, served at the API's GET /metrics and at
// the worker's METRICS_PORT. Every name starts with `rp_`. What each one is for (README "Dashboards"):
//
//   rp_http_request_duration_seconds{method,route,status}       histogram: every HTTP request
//   rp_graphql_operation_duration_seconds{operation_type,operation_name}
//                                                               histogram: GraphQL execution
//   rp_graphql_errors_total{code,operation_name}                 counter: errors answered, by contract code
//   rp_release_actions_total{action,outcome}                     counter: approve/pause/… (outcome ok or the code)
//   rp_releases{status}                                          gauge: releases by status (read models)
//   rp_temporal_update_duration_seconds{update,outcome}          histogram: Update round trip, client side
//   rp_event_store_append_duration_seconds{stream_kind,outcome}  histogram: appends to the event store
//   rp_projection_lag{}                                          gauge: log head minus the read models' position
//   rp_open_streams{kind}                                        gauge: open GraphQL subscriptions, SDK streams
//   rp_reconcile_repairs_total{outcome}                          counter: workflows (re)started by reconcile
//   rp_build_info{version,node}                                  gauge 1: which build each process runs
//   rp_process_* / rp_nodejs_*                                   prom-client's process metrics
//
// Code that opens a long-lived stream (a subscription, an SDK stream) calls `trackStream(kind)` and the
// function it returns when the stream ends: the tiny registry API other slices feed.

import { readFileSync } from "node:fs";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export const METRICS_PREFIX = "rp_";

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** Kinds of long-lived streams counted in rp_open_streams. */
export type StreamKind = "graphql_subscription" | "sdk_stream" | (string & {});

/** Seconds: from a fast in-memory answer to a slow Update under load. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<"method" | "route" | "status">;
  readonly graphqlOperationDuration: Histogram<"operation_type" | "operation_name">;
  readonly graphqlErrors: Counter<"code" | "operation_name">;
  readonly releaseActions: Counter<"action" | "outcome">;
  readonly temporalUpdateDuration: Histogram<"update" | "outcome">;
  readonly eventStoreAppendDuration: Histogram<"stream_kind" | "outcome">;
  readonly openStreams: Gauge<"kind">;
  readonly reconcileRepairs: Counter<"outcome">;
  /** Counts a stream as open until the returned function is called (idempotent). */
  trackStream(kind: StreamKind): () => void;
  /** rp_releases reads these counts at each scrape. */
  setReleaseCounter(count: () => Readonly<Record<string, number>>): void;
  /** rp_projection_lag reads this at each scrape (null: unknown, not exported). */
  setProjectionLag(lag: () => Promise<number | null>): void;
  /** The Prometheus text exposition and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface CreateMetricsOptions {
  /** prom-client's process metrics (CPU, memory, event-loop lag, GC); default true. */
  processMetrics?: boolean;
  /** Labels on every series (e.g. { service: "api" }). */
  defaultLabels?: Record<string, string>;
}

export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });

  let releaseCounter: (() => Readonly<Record<string, number>>) | null = null;
  let projectionLag: (() => Promise<number | null>) | null = null;

  const metrics: Metrics = {
    registry,
    httpRequestDuration: new Histogram({
      name: `${METRICS_PREFIX}http_request_duration_seconds`,
      help: "HTTP requests by method, route and status: time until the response head is ready.",
      labelNames: ["method", "route", "status"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    graphqlOperationDuration: new Histogram({
      name: `${METRICS_PREFIX}graphql_operation_duration_seconds`,
      help: "GraphQL operations executed, by type and operation name (anonymous: the first root field).",
      labelNames: ["operation_type", "operation_name"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    graphqlErrors: new Counter({
      name: `${METRICS_PREFIX}graphql_errors_total`,
      help: "Errors answered by the GraphQL API, by the contract's error code.",
      labelNames: ["code", "operation_name"],
      registers: [registry],
    }),
    releaseActions: new Counter({
      name: `${METRICS_PREFIX}release_actions_total`,
      help: "Release actions requested through the API, by action and outcome (ok, or the error code).",
      labelNames: ["action", "outcome"],
      registers: [registry],
    }),
    temporalUpdateDuration: new Histogram({
      name: `${METRICS_PREFIX}temporal_update_duration_seconds`,
      help: "Round trip of a release workflow Update as the API sees it, by Update name and outcome.",
      labelNames: ["update", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    eventStoreAppendDuration: new Histogram({
      name: `${METRICS_PREFIX}event_store_append_duration_seconds`,
      help: "Appends to the event store, by stream kind (project, pipeline, feature, release, apitoken …) and outcome.",
      labelNames: ["stream_kind", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    openStreams: new Gauge({
      name: `${METRICS_PREFIX}open_streams`,
      help: "Long-lived streams open now: GraphQL subscriptions (WebSocket and SSE) and SDK streams.",
      labelNames: ["kind"],
      registers: [registry],
    }),
    reconcileRepairs: new Counter({
      name: `${METRICS_PREFIX}reconcile_repairs_total`,
      help: "Release workflows that reconcile found missing and started (outcome started), or failed to start.",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    trackStream(kind) {
      metrics.openStreams.inc({ kind });
      let open = true;
      return () => {
        if (!open) return;
        open = false;
        metrics.openStreams.dec({ kind });
      };
    },
    setReleaseCounter(count) {
      releaseCounter = count;
    },
    setProjectionLag(lag) {
      projectionLag = lag;
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };

  // Read at scrape time: state that already lives elsewhere is not copied into the metrics.
  new Gauge({
    name: `${METRICS_PREFIX}releases`,
    help: "Releases by status, as the read models hold them.",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      this.reset();
      if (releaseCounter === null) return;
      for (const [status, value] of Object.entries(releaseCounter())) this.set({ status }, value);
    },
  });
  new Gauge({
    name: `${METRICS_PREFIX}projection_lag`,
    help: "How far the read models are behind the event log's head (embedded store: events; EventStoreDB: bytes of log).",
    registers: [registry],
    async collect() {
      this.reset();
      if (projectionLag === null) return;
      const lag = await projectionLag().catch(() => null);
      if (lag !== null) this.set(lag);
    },
  });
  // Which build each process runs (version from package.json, Node's): one series of value 1 per process,
  // so a dashboard shows an upgrade rolling through the pods.
  new Gauge({
    name: `${METRICS_PREFIX}build_info`,
    help: "The running build: version and Node.js version (always 1).",
    labelNames: ["version", "node"],
    registers: [registry],
  }).set({ version: PACKAGE_VERSION, node: process.versions.node }, 1);
  // Series that exist before anything happened, so a dashboard shows 0 rather than "no data".
  for (const kind of ["graphql_subscription", "sdk_stream"]) metrics.openStreams.set({ kind }, 0);
  return metrics;
}

let processWide: Metrics | null = null;

/** The process's registry (what /metrics serves unless a test passes its own). */
export function processMetrics(): Metrics {
  processWide ??= createMetrics();
  return processWide;
}

/** Seconds since `start` (a process.hrtime.bigint() value). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** The kind of a stream name: "release-abc.1" → "release". */
export function streamKind(stream: string): string {
  const dash = stream.indexOf("-");
  return dash > 0 ? stream.slice(0, dash) : stream;
}

/**
 * Position distance for rp_projection_lag: the embedded store's positions are event numbers, EventStoreDB's
 * `C<commit>/P<prepare>` are log offsets (the commit position is compared).
 */
export function positionDistance(head: string | null, applied: string | null): number | null {
  if (head === null) return 0;
  const numberOf = (position: string): bigint | null => {
    const match = /^(?:C)?(\d+)/.exec(position);
    return match?.[1] === undefined ? null : BigInt(match[1]);
  };
  const headNumber = numberOf(head);
  if (headNumber === null) return null;
  const appliedNumber = applied === null ? 0n : numberOf(applied);
  if (appliedNumber === null) return null;
  const lag = headNumber - appliedNumber;
  return lag > 0n ? Number(lag) : 0;
}

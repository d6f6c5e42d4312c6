// What the API tells an operator: HTTP and GraphQL metrics, release actions by outcome, open
// subscriptions, and a trace per request (HTTP server span → GraphQL operation span → command handler →
// event store / Temporal). Wired into the server by app.ts through `observeHttp`, `metricsResponse`
// and the Yoga plugin `observabilityPlugin`.

import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { DocumentNode, ExecutionResult, GraphQLError, OperationDefinitionNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { EventStore } from "../event-store/port.ts";
import { type Metrics, positionDistance, secondsSince } from "../platform/metrics.ts";
import { tracer } from "../platform/tracing.ts";
import type { ReadModels } from "../projections/read-models.ts";
import type { ProjectionRunner } from "../projections/runner.ts";
import { toPublicError } from "./errors.ts";

/** The mutations that act on a running release (counted in rp_release_actions_total). */
export const RELEASE_ACTION_FIELDS: ReadonlySet<string> = new Set([
  "approveRelease",
  "pauseRelease",
  "unpauseRelease",
  "skipPhase",
  "abortRelease",
  "fullRollout",
  "rollbackToPhase",
  "breakGlass",
]);

/** Methods are labels as they are; anything else a client sends is "other". */
const HTTP_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Fixed routes keep the label set small; anything else is "other". */
const KNOWN_ROUTES = ["/graphql", "/healthz", "/readyz", "/metrics", "/sdk/v1/config", "/sdk/v1/stream"];

export function routeLabel(pathname: string): string {
  if (KNOWN_ROUTES.includes(pathname)) return pathname;
  if (pathname === "/" || pathname.startsWith("/assets/")) return "/console";
  const page = /^\/(features|releases|pipelines|projects|audit)(\/|$)/.exec(pathname);
  if (page !== null) return "/console";
  return "other";
}

/**
 * Times an HTTP request into rp_http_request_duration_seconds and runs it inside a SERVER span that
 * continues the caller's trace (W3C `traceparent`).
 */
export async function observeHttp(
  metrics: Metrics,
  request: Request,
  handle: () => Promise<Response>,
): Promise<Response> {
  const started = process.hrtime.bigint();
  const route = routeLabel(new URL(request.url).pathname);
  const method = HTTP_METHODS.has(request.method) ? request.method : "other";
  const carrier: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    carrier[name] = value;
  });
  const parent = propagation.extract(context.active(), carrier);
  const response = await tracer().startActiveSpan(
    `${method} ${route}`,
    { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "http.route": route } },
    parent,
    async (span) => {
      try {
        const answered = await handle();
        span.setAttribute("http.response.status_code", answered.status);
        if (answered.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return answered;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
  metrics.httpRequestDuration.observe({ method, route, status: String(response.status) }, secondsSince(started));
  return response;
}

/** GET /metrics: the Prometheus text exposition. */
export async function metricsResponse(metrics: Metrics): Promise<Response> {
  const { contentType, body } = await metrics.scrape();
  return new Response(body, { status: 200, headers: { "content-type": contentType } });
}

interface OperationInfo {
  type: string;
  name: string;
  /** Response key → field name, for the root fields. */
  rootFields: Map<string, string>;
}

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationInfo {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === "OperationDefinition",
  );
  const operation =
    operationName !== undefined && operationName !== null
      ? operations.find((candidate) => candidate.name?.value === operationName)
      : operations[0];
  const rootFields = new Map<string, string>();
  for (const selection of operation?.selectionSet.selections ?? []) {
    if (selection.kind === "Field")
      rootFields.set(selection.alias?.value ?? selection.name.value, selection.name.value);
  }
  // Anonymous operations are named after their first root field, so dashboards still tell them apart.
  const first = [...rootFields.values()][0];
  return {
    type: operation?.operation ?? "unknown",
    name: operationLabel(operation?.name?.value ?? (first !== undefined ? `anonymous:${first}` : "anonymous")),
    rootFields,
  };
}

/**
 * Operation names come from clients: the label keeps the first MAX_OPERATION_NAMES distinct ones (each
 * cut to 100 characters) and counts any later one as "other", so a client inventing names cannot grow
 * the series without bound.
 */
const MAX_OPERATION_NAMES = 500;
const seenOperationNames = new Set<string>();
export function operationLabel(name: string): string {
  const label = name.slice(0, 100);
  if (seenOperationNames.has(label)) return label;
  if (seenOperationNames.size >= MAX_OPERATION_NAMES) return "other";
  seenOperationNames.add(label);
  return label;
}

const codeOf = (error: GraphQLError): string => String(toPublicError(error).extensions?.code ?? "INTERNAL");

/** The Yoga/envelop plugin: GraphQL latency, errors by code, release actions, open subscriptions, spans. */
export function observabilityPlugin(metrics: Metrics): Plugin {
  return {
    instrumentation: {
      // A span around each execution, active while resolvers run: command handler, event store and
      // Temporal client spans become its children. Named after the operation in onExecute.
      execute: (_payload, wrapped) =>
        tracer().startActiveSpan("graphql.execute", { kind: SpanKind.INTERNAL }, async (span) => {
          try {
            await wrapped();
          } finally {
            span.end();
          }
        }),
    },
    onParse() {
      return ({ result }) => {
        if (result instanceof Error) metrics.graphqlErrors.inc({ code: "VALIDATION", operation_name: "unparsed" });
      };
    },
    onValidate({ params }) {
      return ({ valid, result }) => {
        if (valid) return;
        const { name } = operationOf(params.documentAST, null);
        metrics.graphqlErrors.inc({ code: "VALIDATION", operation_name: name }, result.length);
      };
    },
    onExecute({ args }) {
      const started = process.hrtime.bigint();
      const operation = operationOf(args.document, args.operationName);
      const span = trace.getActiveSpan();
      span?.updateName(`graphql ${operation.type} ${operation.name}`);
      span?.setAttributes({ "graphql.operation.type": operation.type, "graphql.operation.name": operation.name });
      return {
        onExecuteDone({ result }) {
          metrics.graphqlOperationDuration.observe(
            { operation_type: operation.type, operation_name: operation.name },
            secondsSince(started),
          );
          if (Symbol.asyncIterator in result) return;
          recordResult(metrics, operation, result as ExecutionResult, span);
        },
      };
    },
    onSubscribe({ args }) {
      const operation = operationOf(args.document, args.operationName);
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in result)) {
            recordResult(metrics, operation, result as ExecutionResult, undefined);
            return;
          }
          const close = metrics.trackStream("graphql_subscription");
          return { onEnd: close };
        },
      };
    },
  };
}

function recordResult(
  metrics: Metrics,
  operation: OperationInfo,
  result: ExecutionResult,
  span: ReturnType<typeof trace.getActiveSpan>,
): void {
  const failedFields = new Map<string, string>();
  for (const error of result.errors ?? []) {
    const code = codeOf(error);
    metrics.graphqlErrors.inc({ code, operation_name: operation.name });
    const key = error.path?.[0];
    if (typeof key === "string" && !failedFields.has(key)) failedFields.set(key, code);
  }
  if (failedFields.size > 0) {
    span?.setStatus({ code: SpanStatusCode.ERROR });
    span?.setAttribute("graphql.error_codes", [...new Set(failedFields.values())].join(","));
  }
  if (operation.type !== "mutation") return;
  for (const [key, field] of operation.rootFields) {
    if (!RELEASE_ACTION_FIELDS.has(field)) continue;
    metrics.releaseActions.inc({ action: field, outcome: failedFields.get(key) ?? "ok" });
  }
}

/** rp_releases and rp_projection_lag read the API's own state at each scrape. */
export function observeState(
  metrics: Metrics,
  state: {
    readModels: Pick<ReadModels, "releaseCountsByStatus">;
    runner: Pick<ProjectionRunner, "status">;
    store: Pick<EventStore, "headPosition">;
  },
): void {
  metrics.setReleaseCounter(() => {
    // Counted as the releases change (a checkpointed count), not by reading every release at each scrape.
    return { IN_PROGRESS: 0, COMPLETED: 0, ABORTED: 0, ...state.readModels.releaseCountsByStatus() };
  });
  metrics.setProjectionLag(async () =>
    positionDistance(await state.store.headPosition(), state.runner.status().position),
  );
}

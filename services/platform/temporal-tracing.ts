// Traces through Temporal (@temporalio/interceptors-opentelemetry): the client interceptor opens a span
// for each start/Update/signal and puts its context in the call's headers; the workflow interceptors
// (bundled into the workflow code) continue it inside the sandbox and hand their spans to the worker
// through a sink; the activity interceptor continues it around each activity, so an activity's event
// store append is a descendant of the GraphQL request that caused it.

import { createRequire } from "node:module";
import type { Resource } from "@opentelemetry/resources";
import type { WorkflowClientInterceptor } from "@temporalio/client";
import { OpenTelemetryWorkflowClientInterceptor } from "@temporalio/interceptors-opentelemetry/lib/client/index.js";
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from "@temporalio/interceptors-opentelemetry/lib/worker/index.js";
import type { WorkerOptions } from "@temporalio/worker";
import type { Tracing } from "./tracing.ts";

/** The workflow-side interceptors' module, to bundle with the workflow code when tracing is on. */
export const WORKFLOW_TRACING_MODULE = createRequire(import.meta.url).resolve(
  "@temporalio/interceptors-opentelemetry/lib/workflow-interceptors",
);

/** Client interceptors: a span per workflow start, Update and signal, propagated in the headers. */
export function tracingClientInterceptors(tracing: Tracing | null): WorkflowClientInterceptor[] {
  return tracing === null ? [] : [new OpenTelemetryWorkflowClientInterceptor()];
}

/**
 * The worker options that carry traces through workflows and activities: the activity interceptors and
 * the sink the workflow interceptors export their spans through. The workflow bundle must be built with
 * WORKFLOW_TRACING_MODULE among its interceptor modules (buildWorkflowBundle's third argument).
 */
export function tracingWorkerOptions(tracing: Tracing | null): Partial<WorkerOptions> {
  if (tracing === null) return {};
  return {
    // The workflow side comes with the bundle (built with WORKFLOW_TRACING_MODULE): a worker given a
    // bundle ignores `interceptors.workflowModules`.
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource as Resource) },
  };
}

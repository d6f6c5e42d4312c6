// OpenTelemetry traces, off by default, configured by the standard OTEL_* variables:
//   - on when OTEL_TRACES_EXPORTER is `otlp` or `console`, or an OTLP endpoint is set
//     (OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); OTEL_SDK_DISABLED=true wins;
//   - the OTLP exporter (http/protobuf) reads its endpoint, headers and timeout from OTEL_EXPORTER_OTLP_*;
//   - OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES name the process; OTEL_TRACES_SAMPLER(_ARG) samples;
//     W3C trace context propagates (a caller's `traceparent` header continues its trace).
// A trace runs: HTTP request → GraphQL operation → command handler → event store, and for release
// actions → Temporal client (Update) → workflow → activity → event store (Temporal's interceptors carry
// the context through the workflow's headers: services/platform/temporal-tracing.ts). Logs carry the
// active trace and span ids (logger.ts).
//
// The Temporal interceptors are built on the 1.x OpenTelemetry SDK, so this module uses that line too.

import { type Attributes, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { envDetectorSync, type IResource, Resource } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

export const TRACER_NAME = "release-pipelines";

type Env = Readonly<Record<string, string | undefined>>;

export interface Tracing {
  readonly provider: NodeTracerProvider;
  readonly resource: IResource;
  /** Where spans go: also handed to the Temporal worker's workflow-span sink. */
  readonly spanProcessor: SpanProcessor;
  /** Flushes and stops exporting. */
  shutdown(): Promise<void>;
}

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== "";

/** The exporter the OTEL_* variables ask for, or null when tracing is off (the default). */
export function exporterFromEnv(env: Env = process.env): SpanExporter | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return null;
  const kinds = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((kind) => kind.trim().toLowerCase())
    .filter((kind) => kind !== "");
  if (kinds.includes("none")) return null;
  if (kinds.includes("console")) return new ConsoleSpanExporter();
  if (
    kinds.includes("otlp") ||
    isSet(env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
    isSet(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  ) {
    return new OTLPTraceExporter();
  }
  return null;
}

export interface StartTracingOptions {
  /** The process ("api", "worker"): the default service.name is `release-pipelines-<service>`. */
  service: string;
  /** Replaces the exporter chosen from the environment (tests: an in-memory exporter with a simple processor). */
  spanProcessor?: SpanProcessor;
  env?: Env;
}

/**
 * Registers the global tracer provider when tracing is on (or a span processor is given) and returns it;
 * null when off, in which case every span below is a no-op.
 */
export function startTracing(options: StartTracingOptions): Tracing | null {
  const env = options.env ?? process.env;
  let spanProcessor = options.spanProcessor;
  if (spanProcessor === undefined) {
    const exporter = exporterFromEnv(env);
    if (exporter === null) return null;
    spanProcessor = new BatchSpanProcessor(exporter);
  }
  const resource = new Resource({ "service.name": `release-pipelines-${options.service}` }).merge(
    envDetectorSync.detect(),
  );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // AsyncLocalStorage context manager and W3C trace-context + baggage propagation.
  provider.register();
  return {
    provider,
    resource: provider.resource,
    spanProcessor,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
    },
  };
}

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Runs `fn` inside an active span, ending it and recording an error (and the error's code) when it throws. */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes, kind }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === "string") span.setAttribute("rp.error_code", code);
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The active span's ids, for log lines (empty when there is none). */
export function activeTraceIds(): { traceId?: string; spanId?: string } {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const context = span.spanContext();
  if (!trace.isSpanContextValid(context)) return {};
  return { traceId: context.traceId, spanId: context.spanId };
}

export { SpanKind };

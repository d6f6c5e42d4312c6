// One approval as one trace, exported to an in-memory exporter: the HTTP request → the GraphQL
// operation → the Temporal client's Update → the workflow's Update handler → the activity that appends
// the release's events → the event store append, each span a descendant of the one before. A caller's
// W3C `traceparent` is continued, and log lines written inside the request carry its trace id.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../services/platform/logger.ts";
import {
  activeTraceIds,
  exporterFromEnv,
  startTracing,
  type Tracing,
  tracer,
} from "../../services/platform/tracing.ts";
import { createProject, createPublishedPipeline, eventually } from "../api/documents.ts";
import { REPO_ROOT } from "../setup/binaries.ts";
import { getFreePort, temporalTestAddress } from "../setup/temporal.ts";
import { type ObservedStack, startObservedStack } from "./observed-stack.ts";

const exporter = new InMemorySpanExporter();
let tracing: Tracing | null;
let stack: ObservedStack;

beforeAll(async () => {
  tracing = startTracing({ service: "test", spanProcessor: new SimpleSpanProcessor(exporter) });
  stack = await startObservedStack({ tracing });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await tracing?.shutdown();
});

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanId;

/** The chain of span names from `span` up to the trace's root. */
function ancestry(span: ReadableSpan, byId: Map<string, ReadableSpan>): string[] {
  const names: string[] = [];
  let current: ReadableSpan | undefined = span;
  while (current !== undefined) {
    names.push(current.name);
    const parent = parentOf(current);
    current = parent === undefined ? undefined : byId.get(parent);
  }
  return names;
}

describe("tracing one approval", () => {
  it("spans the API, the Temporal Update, the workflow and the activity's append in one trace", async () => {
    const projectId = await createProject(stack.api, "Traced");
    const pipelineId = await createPublishedPipeline(stack.api, projectId, [
      { name: "gate", requiresApproval: true, targets: [{ environment: "development" }] },
    ]);
    const feature = await stack.api.ok<{ createFeature: { id: string } }>(
      /* GraphQL */ `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "traced", kind: GATE, pipelineId: $pl }) { id } }`,
      { p: projectId, pl: pipelineId },
    );
    const started = await stack.api.ok<{ updateFeature: { id: string } }>(
      /* GraphQL */ `mutation($id: ID!) { updateFeature(id: $id, input: { environments: [{ environment: "development", definition: { enabled: true } }] }) { ... on Release { id } } }`,
      { id: feature.createFeature.id },
    );
    const releaseId = started.updateFeature.id;
    await eventually(async () => {
      const { release } = await stack.api.ok<{ release: { phases: { status: string }[] } }>(
        /* GraphQL */ `query($id: ID!) { release(id: $id) { phases { status } } }`,
        { id: releaseId },
      );
      expect(release.phases[0]?.status).toBe("AWAITING_APPROVAL");
    });
    exporter.reset();

    // The caller's own trace: the API continues it.
    const callerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const response = await fetch(stack.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${stack.adminToken}`,
        traceparent: `00-${callerTraceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({
        query: /* GraphQL */ `mutation Approve($id: ID!) { approveRelease(id: $id) { id status } }`,
        variables: { id: releaseId },
      }),
    });
    const body = (await response.json()) as { data?: { approveRelease: { status: string } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data?.approveRelease.status).toBe("COMPLETED");

    // Workflow spans reach the exporter through the worker's sink once their task completes.
    const spans = await eventually(async () => {
      const inTrace = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === callerTraceId);
      expect(inTrace.map((span) => span.name)).toEqual(
        expect.arrayContaining(["HandleUpdate:approveRelease", "RunActivity:appendReleaseEvents"]),
      );
      return inTrace;
    }, 15_000);
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const named = (name: string): ReadableSpan => {
      const span = spans.find((candidate) => candidate.name === name);
      if (span === undefined) throw new Error(`no span ${name} in ${spans.map((s) => s.name).join(", ")}`);
      return span;
    };

    // The HTTP server span is the caller's child.
    const http = named("POST /graphql");
    expect(parentOf(http)).toBe("00f067aa0ba902b7");
    expect(http.attributes["http.response.status_code"]).toBe(200);

    // The append of the approval's events, inside the activity, inside the workflow's Update handler,
    // inside the client's Update call, inside the GraphQL mutation, inside the HTTP request.
    const append = spans.find(
      (span) =>
        span.name === "eventstore.append" && String(span.attributes["rp.event_types"]).includes("ReleasePhaseApproved"),
    );
    expect(append, spans.map((s) => s.name).join(", ")).toBeDefined();
    const chain = ancestry(append as ReadableSpan, byId);
    const expectedOrder = [
      "eventstore.append",
      "RunActivity:appendReleaseEvents",
      "StartActivity:appendReleaseEvents",
      "HandleUpdate:approveRelease",
      "StartWorkflowUpdate:approveRelease",
      "graphql mutation Approve",
      "POST /graphql",
    ];
    const positions = expectedOrder.map((name) => chain.indexOf(name));
    expect(
      positions.every((position) => position >= 0),
      chain.join(" ← "),
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(chain.at(-1)).toBe("POST /graphql");
    expect((append as ReadableSpan).attributes["rp.stream"]).toBe(`release-${releaseId}`);
  }, 90_000);

  it("spans a plain mutation through its command handler to the event store", async () => {
    const projectId = await createProject(stack.api, "Traced commands");
    exporter.reset();
    await stack.api.ok(
      /* GraphQL */ `mutation CreateGate($p: ID!) { createFeature(input: { projectId: $p, key: "plain", kind: GATE }) { id } }`,
      { p: projectId },
    );
    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const append = spans.find(
      (span) => span.name === "eventstore.append" && String(span.attributes["rp.stream"]).startsWith("feature-"),
    );
    expect(append, spans.map((s) => s.name).join(", ")).toBeDefined();
    const chain = ancestry(append as ReadableSpan, byId);
    expect(chain[0]).toBe("eventstore.append");
    expect(chain[1]).toMatch(/^command \w+$/);
    expect(chain.slice(2)).toEqual(["graphql mutation CreateGate", "POST /graphql"]);
    // The handler's read of the stream is traced beside its append.
    const command = byId.get(parentOf(append as ReadableSpan) as string) as ReadableSpan;
    expect(
      spans.some((span) => span.name === "eventstore.readStream" && parentOf(span) === command.spanContext().spanId),
    ).toBe(true);
    expect(command.attributes["rp.events"]).toBeGreaterThan(0);
  });

  it("puts the active trace and span ids on log lines", async () => {
    const lines: string[] = [];
    const logger = createLogger("test", {
      format: "json",
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    let ids: { traceId?: string; spanId?: string } = {};
    await tracer().startActiveSpan("logging", async (span) => {
      ids = activeTraceIds();
      logger.info("inside a span");
      span.end();
    });
    logger.info("outside");
    const [inside, outside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(inside).toMatchObject({ msg: "inside a span", traceId: ids.traceId, spanId: ids.spanId });
    expect(outside?.traceId).toBeUndefined();
  });
});

describe("tracing configuration", () => {
  it("is off by default and follows the standard OTEL_* variables", () => {
    expect(exporterFromEnv({})).toBeNull();
    expect(
      exporterFromEnv({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }),
    ).toBeNull();
    expect(exporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })?.constructor.name).toBe(
      "OTLPTraceExporter",
    );
    expect(exporterFromEnv({ OTEL_TRACES_EXPORTER: "otlp" })?.constructor.name).toBe("OTLPTraceExporter");
    expect(exporterFromEnv({ OTEL_TRACES_EXPORTER: "console" })?.constructor.name).toBe("ConsoleSpanExporter");
    expect(exporterFromEnv({ OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" })).toBeNull();
  });
});

describe("the API process with OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("exports its spans over OTLP/HTTP (protobuf) to the collector it is given", async () => {
    // A stand-in collector: records what is POSTed to /v1/traces.
    const received: { contentType: string | undefined; body: Buffer }[] = [];
    const collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        if (request.url === "/v1/traces") {
          received.push({ contentType: request.headers["content-type"], body: Buffer.concat(chunks) });
        }
        response.writeHead(200, { "content-type": "application/x-protobuf" });
        response.end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const collectorPort = (collector.address() as AddressInfo).port;
    const dataDir = mkdtempSync(join(tmpdir(), "otlp-api-"));
    const port = await getFreePort();
    const child = spawn(process.execPath, ["services/api/main.ts"], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        DATA_DIR: dataDir,
        TEMPORAL_ADDRESS: temporalTestAddress(),
        ADMIN_TOKEN: "otlp-test-admin-token-0123456789",
        EVENTSTORE_CONNECTION_STRING: "",
        LOG_LEVEL: "warn",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
        OTEL_SERVICE_NAME: "release-pipelines-api-under-test",
        OTEL_BSP_SCHEDULE_DELAY: "100",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk) => (output += String(chunk)));
    child.stderr?.on("data", (chunk) => (output += String(chunk)));
    try {
      await eventually(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer otlp-test-admin-token-0123456789" },
          body: JSON.stringify({ query: "query Projects { projects { id } }" }),
        });
        expect(response.status).toBe(200);
      }, 60_000);
      await eventually(async () => {
        const all = Buffer.concat(received.map((export_) => export_.body)).toString("latin1");
        expect(all).toContain("release-pipelines-api-under-test");
        expect(all).toContain("graphql query Projects");
        expect(all).toContain("POST /graphql");
      }, 20_000);
      expect(received[0]?.contentType).toBe("application/x-protobuf");
    } catch (error) {
      throw new Error(`${String(error)}\n${output}`);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
      collector.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    expect(child.exitCode).toBe(0);
  }, 90_000);
});

// GET /metrics after a release: every metric the README's dashboards use is there with its labels —
// HTTP and GraphQL latency by operation, errors by code, release actions by kind and outcome, releases
// by status, the Update round trip, event-store append latency, projection lag, open subscriptions and
// SDK streams, and reconcile repairs (a release whose workflow was terminated, started again).

import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startReconcileLoop } from "../../workflows/reconcile.ts";
import {
  createProject,
  createPublishedPipeline,
  eventually,
  RELEASE_UPDATED,
  type ReleaseView,
} from "../api/documents.ts";
import { subscribe } from "../api/harness.ts";
import { type ObservedStack, startObservedStack } from "./observed-stack.ts";

let stack: ObservedStack;

beforeAll(async () => {
  stack = await startObservedStack();
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition, parsed into samples (enough of the format for prom-client's output). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = pair[2] as string;
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(): Promise<{ samples: Sample[]; contentType: string | null; text: string }> {
  const response = await fetch(`${stack.origin}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return { samples: parseExposition(text), contentType: response.headers.get("content-type"), text };
}

/** The value of the one sample of `name` whose labels include `labels` (undefined when none). */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

const CREATE_FEATURE = /* GraphQL */ `mutation CreateGate($p: ID!, $k: String!, $pl: ID) {
  createFeature(input: { projectId: $p, key: $k, kind: GATE, pipelineId: $pl }) { id }
}`;
const UPDATE_FEATURE = /* GraphQL */ `mutation ChangeGate($id: ID!) {
  updateFeature(id: $id, input: { environments: [{ environment: "production", definition: { enabled: true } }] }) {
    ... on Release { id status }
  }
}`;
const PAUSE = /* GraphQL */ `mutation Pause($id: ID!) { pauseRelease(id: $id) { id } }`;
const APPROVE = /* GraphQL */ `mutation Approve($id: ID!) { approveRelease(id: $id) { id status } }`;
const APPROVAL_REQUESTED = /* GraphQL */ `subscription Approvals($p: ID!) { approvalRequested(projectId: $p) { id } }`;
const RELEASE = /* GraphQL */ `query Release($id: ID!) { release(id: $id) { id status } }`;

async function startRelease(projectId: string, pipelineId: string, key: string): Promise<string> {
  const feature = await stack.api.ok<{ createFeature: { id: string } }>(CREATE_FEATURE, {
    p: projectId,
    k: key,
    pl: pipelineId,
  });
  const started = await stack.api.ok<{ updateFeature: { id: string } }>(UPDATE_FEATURE, {
    id: feature.createFeature.id,
  });
  return started.updateFeature.id;
}

describe("GET /metrics after a release", () => {
  it("has every metric with its labels", async () => {
    const projectId = await createProject(stack.api, "Observed");
    const pipelineId = await createPublishedPipeline(stack.api, projectId, [
      { name: "gate", requiresApproval: true, targets: [{ environment: "development" }] },
      { name: "everywhere", targets: [{ environment: "staging" }, { environment: "production" }] },
    ]);

    // A release approved to completion, watched by subscriptions meanwhile (releaseUpdated ends with the
    // release; approvalRequested stays open).
    const releaseId = await startRelease(projectId, pipelineId, "observed-gate");
    const ws = createClient({
      url: stack.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${stack.adminToken}` },
    });
    const updates = subscribe<ReleaseView>(
      ws,
      RELEASE_UPDATED,
      { id: releaseId },
      (data) => data.releaseUpdated as ReleaseView,
    );
    await updates.waitFor(1);
    const approvals = subscribe<{ id: string }>(
      ws,
      APPROVAL_REQUESTED,
      { p: projectId },
      (data) => data.approvalRequested as { id: string },
    );

    const paused = await stack.api.gql(PAUSE, { id: releaseId });
    expect(paused.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");
    const approved = await stack.api.gql<{ approveRelease: { status: string } }>(APPROVE, { id: releaseId });
    expect(approved.errors).toBeUndefined();
    await eventually(async () => {
      const { release } = await stack.api.ok<{ release: { status: string } }>(RELEASE, { id: releaseId });
      expect(release.status).toBe("COMPLETED");
    });

    // A second release whose workflow dies: reconcile starts it again (a repair).
    const stuckId = await startRelease(projectId, pipelineId, "repaired-gate");
    await stack.client.workflow.getHandle(`release-${stuckId}`).terminate("test: lose the workflow");
    const reconcile = startReconcileLoop(stack.reconcileClient, stack.store, { taskQueue: stack.taskQueue });
    await reconcile.ready;
    await reconcile.close();

    // A real SDK stream on a production key: the serving routes report it.
    const { createSdkKey } = await stack.api.ok<{ createSdkKey: { secret: string } }>(
      `mutation Key($p: ID!) { createSdkKey(projectId: $p, environment: "production", name: "observed-service") { secret } }`,
      { p: projectId },
    );
    const sdkStream = new AbortController();
    const streamResponse = await fetch(`${stack.origin}/sdk/v1/stream`, {
      headers: { authorization: `Bearer ${createSdkKey.secret}` },
      signal: sdkStream.signal,
    });
    expect(streamResponse.status).toBe(200);

    const { samples, contentType } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);

    // HTTP latency by route and status.
    expect(
      sampleValue(samples, "rp_http_request_duration_seconds_count", {
        method: "POST",
        route: "/graphql",
        status: "200",
      }),
    ).toBeGreaterThanOrEqual(8);
    // GraphQL latency by operation.
    for (const name of ["CreateGate", "ChangeGate", "Pause", "Approve"]) {
      expect(
        sampleValue(samples, "rp_graphql_operation_duration_seconds_count", {
          operation_type: "mutation",
          operation_name: name,
        }),
        name,
      ).toBeGreaterThanOrEqual(1);
    }
    expect(
      sampleValue(samples, "rp_graphql_operation_duration_seconds_bucket", {
        operation_type: "query",
        operation_name: "Release",
        le: "+Inf",
      }),
    ).toBeGreaterThanOrEqual(1);
    // Errors by code.
    expect(sampleValue(samples, "rp_graphql_errors_total", { code: "INVALID_STATE", operation_name: "Pause" })).toBe(1);
    // Release actions by kind and outcome.
    expect(sampleValue(samples, "rp_release_actions_total", { action: "approveRelease", outcome: "ok" })).toBe(1);
    expect(sampleValue(samples, "rp_release_actions_total", { action: "pauseRelease", outcome: "INVALID_STATE" })).toBe(
      1,
    );
    // Releases by status.
    expect(sampleValue(samples, "rp_releases", { status: "COMPLETED" })).toBe(1);
    expect(sampleValue(samples, "rp_releases", { status: "IN_PROGRESS" })).toBe(1);
    expect(sampleValue(samples, "rp_releases", { status: "ABORTED" })).toBe(0);
    // The Update round trip, by Update and outcome (a validator's refusal is a failure outcome).
    expect(
      sampleValue(samples, "rp_temporal_update_duration_seconds_count", { update: "approveRelease", outcome: "ok" }),
    ).toBe(1);
    expect(
      sampleValue(samples, "rp_temporal_update_duration_seconds_count", { update: "pauseRelease", outcome: "failure" }),
    ).toBe(1);
    // Event-store appends by stream kind (the API's and the worker's activities').
    for (const kind of ["project", "pipeline", "feature", "release", "apitoken"]) {
      expect(
        sampleValue(samples, "rp_event_store_append_duration_seconds_count", { stream_kind: kind, outcome: "ok" }),
        kind,
      ).toBeGreaterThanOrEqual(1);
    }
    // Projection lag behind the log head: caught up.
    expect(sampleValue(samples, "rp_projection_lag")).toBe(0);
    // Open subscriptions (releaseUpdated ended with its release) and SDK streams.
    expect(updates.completed).toBe(true);
    expect(sampleValue(samples, "rp_open_streams", { kind: "graphql_subscription" })).toBe(1);
    expect(sampleValue(samples, "rp_open_streams", { kind: "sdk_stream" })).toBe(1);
    // Reconcile repairs.
    expect(sampleValue(samples, "rp_reconcile_repairs_total", { outcome: "started" })).toBe(1);
    // The build.
    expect(sampleValue(samples, "rp_build_info", { version: "0.1.0", node: process.versions.node })).toBe(1);

    // Streams that end are no longer counted.
    approvals.stop();
    sdkStream.abort();
    await eventually(async () => {
      const after = (await scrape()).samples;
      expect(sampleValue(after, "rp_open_streams", { kind: "graphql_subscription" })).toBe(0);
      expect(sampleValue(after, "rp_open_streams", { kind: "sdk_stream" })).toBe(0);
    });
    await ws.dispose();
  }, 120_000);

  it("counts a release's workflow that is still running as no repair", async () => {
    const before = sampleValue((await scrape()).samples, "rp_reconcile_repairs_total", { outcome: "started" }) ?? 0;
    const reconcile = startReconcileLoop(stack.reconcileClient, stack.store, { taskQueue: stack.taskQueue });
    await reconcile.ready;
    await reconcile.close();
    // The repaired release of the first test is in progress with a running workflow: started again, no-op.
    expect(sampleValue((await scrape()).samples, "rp_reconcile_repairs_total", { outcome: "started" }) ?? 0).toBe(
      before,
    );
  });
});

describe("metric labels stay bounded", () => {
  it("counts operation names beyond the first 500 distinct ones as 'other', each cut to 100 characters", async () => {
    const { operationLabel } = await import("../../services/api/observability.ts");
    const long = `Op${"x".repeat(200)}`;
    expect(operationLabel(long)).toBe(long.slice(0, 100));
    for (let index = 0; index < 600; index++) operationLabel(`Generated${index}`);
    expect(operationLabel("NeverSeenBefore")).toBe("other");
    // Names seen before the cap keep their own series.
    expect(operationLabel(long)).toBe(long.slice(0, 100));
  });
});

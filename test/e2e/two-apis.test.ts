// Two API processes — each `node services/api/main.ts`, the composition root `npm start` runs — on one
// embedded store (one DATA_DIR) and one Temporal, with a release worker in this process: a mutation made
// through one is seen by subscriptions on the other, because both feed their subscriptions from the
// store's catch-up subscription, not from their own writes. Also: a fresh installation prints its ADMIN
// token once, and a restart on the same DATA_DIR keeps it working.

import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NativeConnection, type Worker } from "@temporalio/worker";
import { createClient, type Client as WsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { streams } from "../../services/core/streams.ts";
import { loadStream } from "../../services/event-store/command-handler.ts";
import { createEventStore } from "../../services/event-store/create-event-store.ts";
import type { EventStore } from "../../services/event-store/port.ts";
import { featureDecider } from "../../services/feature/feature.ts";
import { pipelineDecider } from "../../services/pipeline/pipeline.ts";
import { getFreePort } from "../../services/platform/temporal-dev-server.ts";
import { createReleaseWorker } from "../../workflows/worker.ts";
import { FEATURE_RELEASES, RELEASE_FIELDS, RELEASE_UPDATED, type ReleaseView } from "../api/documents.ts";
import { subscribe, workflowBundle } from "../api/harness.ts";
import { temporalTestAddress } from "../setup/temporal.ts";
import { quietTemporalLogs } from "../workflows/helpers.ts";

const MAIN = fileURLToPath(new URL("../../services/api/main.ts", import.meta.url));

interface ApiProcess {
  child: ChildProcess;
  url: string;
  lines: string[];
  stop(): Promise<void>;
}

let dataDir: string;
let taskQueue: string;
let store: EventStore;
let worker: Worker;
let running: Promise<void>;
let nativeConnection: NativeConnection;
let adminToken: string;
const processes: ApiProcess[] = [];
const sockets: WsClient[] = [];

async function startApi(env: Record<string, string> = {}): Promise<ApiProcess> {
  const port = await getFreePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: temporalTestAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      LOG_LEVEL: "info",
      EVENTSTORE_CONNECTION_STRING: "",
      ADMIN_TOKEN: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let buffered = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        if (line.includes(`GraphQL API ready at http://localhost:${port}/graphql`)) resolve();
      }
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => lines.push(`stderr: ${chunk}`));
    child.once("exit", (code) => reject(new Error(`API exited (${code}) before it was ready:\n${lines.join("\n")}`)));
  });
  const timeout = setTimeout(() => child.kill("SIGKILL"), 60_000);
  await ready.finally(() => clearTimeout(timeout));
  const api: ApiProcess = {
    child,
    url: `http://127.0.0.1:${port}/graphql`,
    lines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
  processes.push(api);
  return api;
}

/** The API's "read models caught up" log line. */
function caughtUp(api: ApiProcess): { slot: string; fresh: boolean; events: number; applied: number } {
  const line = api.lines.find((text) => text.startsWith("{") && text.includes('"read models caught up"'));
  if (line === undefined) throw new Error(`no "read models caught up" line:\n${api.lines.join("\n")}`);
  return JSON.parse(line);
}

async function gql<T>(api: ApiProcess, query: string, variables: Record<string, unknown> = {}, token = adminToken) {
  const response = await fetch(api.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length || body.data === undefined) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function ws(api: ApiProcess): WsClient {
  const client = createClient({
    url: api.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { token: adminToken },
  });
  sockets.push(client);
  return client;
}

beforeAll(async () => {
  quietTemporalLogs();
  dataDir = mkdtempSync(join(tmpdir(), "two-apis-"));
  taskQueue = `two-apis-${randomUUID()}`;
  store = await createEventStore({ dataDir, connectionString: "" });
  nativeConnection = await NativeConnection.connect({ address: temporalTestAddress() });
  worker = await createReleaseWorker({
    connection: nativeConnection,
    store,
    bundle: await workflowBundle(),
    taskQueue,
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) await socket.dispose();
  for (const api of processes) await api.stop();
  if (worker?.getState() === "RUNNING") worker.shutdown();
  await running;
  await nativeConnection?.close();
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("two API processes on one store and one Temporal", () => {
  let first: ApiProcess;
  let second: ApiProcess;

  it("a fresh installation prints its ADMIN token once; the second process finds it", async () => {
    first = await startApi();
    // Shown in a banner on stderr, outside the JSON log lines, and saved under DATA_DIR (mode 0600).
    const printed = first.lines.join("\n").match(/^ADMIN token \(shown once\): (\S+)$/gm) ?? [];
    expect(printed).toHaveLength(1);
    adminToken = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    expect(printed[0]).toBe(`ADMIN token (shown once): ${adminToken}`);
    expect(adminToken).toMatch(/^rp_[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dataDir, "admin-token")).mode & 0o777).toBe(0o600);
    const logLines = first.lines.filter((line) => line.startsWith("{"));
    expect(logLines.some((line) => line.includes(adminToken))).toBe(false);
    // Only a hash of it is stored.
    const stored = JSON.stringify((await store.readAll()).map((event) => [event.data, event.metadata]));
    expect(stored).not.toContain(adminToken);

    second = await startApi();
    expect(second.lines.some((line) => line.includes("ADMIN token (shown once)"))).toBe(false);
    const viewer = await gql<{ viewer: { tokenName: string; role: string } }>(second, "{ viewer { tokenName role } }");
    expect(viewer.viewer).toEqual({ tokenName: "admin", role: "ADMIN" });
    // Each process holds a projection slot of its own under DATA_DIR/projections.
    expect(caughtUp(first).slot).toBe(join(dataDir, "projections", "slot-0"));
    expect(caughtUp(second).slot).toBe(join(dataDir, "projections", "slot-1"));
  }, 120_000);

  it("a mutation through one API reaches subscriptions on the other, state by state", async () => {
    const audit = subscribe(
      ws(second),
      `subscription { auditEvents(filter: { types: ["ProjectCreated", "PipelinePublished"] }) { type entityId } }`,
      {},
      (d) => d.auditEvents as { type: string; entityId: string },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const project = await gql<{ createProject: { id: string } }>(
      first,
      `mutation { createProject(input: { name: "Shared", environments: ["staging", "production"] }) { id } }`,
    );
    const projectId = project.createProject.id;
    const seen = await audit.until((event) => event.type === "ProjectCreated");
    expect(seen.entityId).toBe(projectId);

    // A pipeline made on the second API, published on the first.
    const pipeline = await gql<{ createPipeline: { id: string } }>(
      second,
      `mutation($p: ID!) { createPipeline(input: { projectId: $p, name: "p", phases: [
        { name: "staging", targets: [{ environment: "staging" }] },
        { name: "production", requiresApproval: true, targets: [{ environment: "production" }] }
      ] }) { id } }`,
      { p: projectId },
    );
    await gql(first, `mutation($id: ID!) { publishPipeline(id: $id) { id } }`, { id: pipeline.createPipeline.id });
    await audit.until((event) => event.type === "PipelinePublished" && event.entityId === pipeline.createPipeline.id);

    const created = await gql<{ createFeature: { id: string } }>(
      first,
      `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "shared-gate", kind: GATE, pipelineId: $pl }) { id } }`,
      { p: projectId, pl: pipeline.createPipeline.id },
    );
    const featureId = created.createFeature.id;
    const onSecond = subscribe(ws(second), FEATURE_RELEASES, { featureId }, (d) => d.featureReleases as ReleaseView);
    await new Promise((resolve) => setTimeout(resolve, 300));

    // The release starts through the first API; the second API's subscription sees every state.
    const started = await gql<{ startRelease: ReleaseView }>(
      first,
      `mutation($f: ID!) { startRelease(featureId: $f) { ${RELEASE_FIELDS} } }`,
      { f: featureId },
    );
    const releaseId = started.startRelease.id;
    const awaiting = await onSecond.until((r) => r.phases[1]?.status === "AWAITING_APPROVAL");
    expect(awaiting.id).toBe(releaseId);

    // Approved through the second API; the first API's releaseUpdated subscription sees it complete.
    const onFirst = subscribe(ws(first), RELEASE_UPDATED, { id: releaseId }, (d) => d.releaseUpdated as ReleaseView);
    await onFirst.waitFor(1);
    await gql(second, `mutation($id: ID!) { approveRelease(id: $id, phaseIndex: 1) { id } }`, { id: releaseId });
    const completed = await onFirst.until((r) => r.status === "COMPLETED");
    expect(completed.actions.map((a) => a.kind)).toEqual(["APPROVE"]);
    await onSecond.until((r) => r.status === "COMPLETED");
    expect(onSecond.items.map((r) => r.version)).toEqual(onSecond.items.map((_, i) => i + 1));
    audit.stop();
    onSecond.stop();
  }, 60_000);

  // PIPELINE_IN_USE across processes: the delete (first API) and the attach (second API) serialize on the
  // pipeline's stream (services/feature/attachment.ts), so they never both succeed.
  it("a delete and an attach racing on the two APIs never leave a feature attached to a DELETED pipeline", async () => {
    const codeOf = async (api: ApiProcess, query: string, variables: Record<string, unknown>): Promise<string> => {
      const response = await fetch(api.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      return body.errors?.[0]?.extensions?.code ?? "OK";
    };
    const project = await gql<{ createProject: { id: string } }>(
      first,
      `mutation { createProject(input: { name: "Race", environments: ["production"] }) { id } }`,
    );
    for (let round = 0; round < 8; round++) {
      const pipeline = await gql<{ createPipeline: { id: string } }>(
        first,
        `mutation($p: ID!) { createPipeline(input: { projectId: $p, name: "race", phases: [
          { name: "all", targets: [{ environment: "production" }] }] }) { id } }`,
        { p: project.createProject.id },
      );
      const pipelineId = pipeline.createPipeline.id;
      await gql(first, `mutation($id: ID!) { publishPipeline(id: $id) { id } }`, { id: pipelineId });
      const feature = await gql<{ createFeature: { id: string } }>(
        second,
        `mutation($p: ID!, $k: String!) { createFeature(input: { projectId: $p, key: $k, kind: GATE }) { id } }`,
        { p: project.createProject.id, k: `race-${round}` },
      );
      const featureId = feature.createFeature.id;
      const [deleted, attached] = await Promise.all([
        codeOf(first, `mutation($id: ID!) { deletePipeline(id: $id) { id } }`, { id: pipelineId }),
        // The attach leaves 0–35 ms after the delete, so the two meet at different points of each other.
        new Promise((resolve) => setTimeout(resolve, 5 * round)).then(() =>
          codeOf(second, `mutation($f: ID!, $pl: ID!) { attachPipeline(featureId: $f, pipelineId: $pl) { id } }`, {
            f: featureId,
            pl: pipelineId,
          }),
        ),
      ]);
      expect([deleted, attached]).not.toEqual(["OK", "OK"]);
      expect(deleted === "OK" ? attached : deleted).toMatch(/^(PIPELINE_NOT_PUBLISHED|PIPELINE_IN_USE)$/);
      // The stored truth, whatever the answers said.
      const stored = await loadStream(store, featureDecider, streams.feature(featureId));
      const storedPipeline = await loadStream(store, pipelineDecider, streams.pipeline(pipelineId));
      expect(stored.state?.pipelineId === pipelineId && storedPipeline.state?.status === "DELETED").toBe(false);
      expect(stored.state?.pipelineId ?? null).toBe(attached === "OK" ? pipelineId : null);
    }
  }, 120_000);

  it("a restart on the same DATA_DIR keeps the ADMIN token working and prints nothing", async () => {
    await first.stop();
    const again = await startApi();
    expect(again.lines.some((line) => line.includes("ADMIN token (shown once)"))).toBe(false);
    // It took the slot the first process left and resumed from its checkpoint: only the events appended
    // since that process stopped (the test's release worker may still be appending a few) were applied,
    // not the whole log.
    const resumed = caughtUp(again);
    expect(resumed.slot).toBe(caughtUp(first).slot);
    expect(resumed.fresh).toBe(false);
    expect(resumed.events).toBeGreaterThan(20);
    expect(resumed.applied).toBeLessThan(resumed.events / 2);
    const data = await gql<{ projects: { name: string }[] }>(again, "{ projects { name } }");
    expect(data.projects.map((p) => p.name)).toEqual(["Shared", "Race"]);
  }, 60_000);
});

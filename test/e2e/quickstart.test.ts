// The README's quickstart, run as written: the ```sh quickstart blocks are extracted from README.md and run
// in one bash script from the checkout's root, against the API process `npm start` runs
// (`node services/api/main.ts` on a fresh DATA_DIR, so the ADMIN token is the one it saves to
// DATA_DIR/admin-token) with a release worker in this process, on the test run's Temporal dev server.
// The only edits: the README's http://localhost:4000 becomes this API's address and `.data/` its DATA_DIR.
// If the README's commands stop working, this fails.

import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NativeConnection, type Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventStore } from "../../services/event-store/create-event-store.ts";
import type { EventStore } from "../../services/event-store/port.ts";
import { getFreePort } from "../../services/platform/temporal-dev-server.ts";
import { createReleaseWorker } from "../../workflows/worker.ts";
import { workflowBundle } from "../api/harness.ts";
import { temporalTestAddress } from "../setup/temporal.ts";
import { quietTemporalLogs } from "../workflows/helpers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const README = join(ROOT, "README.md");
const MAIN = join(ROOT, "services/api/main.ts");

let dataDir: string;
let store: EventStore;
let worker: Worker;
let running: Promise<void>;
let nativeConnection: NativeConnection;
let api: ChildProcess | null = null;
let baseUrl: string;

/** The README's ```sh quickstart blocks, in order. */
function quickstartBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh quickstart\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? "");
}

beforeAll(async () => {
  quietTemporalLogs();
  dataDir = mkdtempSync(join(tmpdir(), "quickstart-"));
  const taskQueue = `quickstart-${randomUUID()}`;
  store = await createEventStore({ dataDir, connectionString: "" });
  nativeConnection = await NativeConnection.connect({ address: temporalTestAddress() });
  worker = await createReleaseWorker({
    connection: nativeConnection,
    store,
    bundle: await workflowBundle(),
    taskQueue,
  });
  running = worker.run();

  const port = await getFreePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: temporalTestAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      EVENTSTORE_CONNECTION_STRING: "",
      ADMIN_TOKEN: "",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  api = child;
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(`GraphQL API ready at http://localhost:${port}/graphql`)) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the API exited (${code}) before it was ready:\n${output}`)));
  });
}, 180_000);

afterAll(async () => {
  if (api !== null && api.exitCode === null) {
    const exited = new Promise((resolve) => api?.once("exit", resolve));
    api.kill("SIGTERM");
    await exited;
  }
  if (worker?.getState() === "RUNNING") worker.shutdown();
  await running;
  await nativeConnection?.close();
  await store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the README's quickstart", () => {
  it("runs as written, from the ADMIN token to a completed release approved from the CLI", async () => {
    const blocks = quickstartBlocks(readFileSync(README, "utf8"));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    const original = blocks.join("\n");
    // The two places that name this machine's service; each must be there, or the README changed shape.
    expect(original).toContain("export RP_URL=http://localhost:4000");
    expect(original).toContain('"$(cat .data/admin-token)"');
    const script = original
      .replaceAll("http://localhost:4000", baseUrl)
      .replaceAll(".data/admin-token", join(dataDir, "admin-token"));

    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.RP_URL;
    delete env.RP_TOKEN;
    const child = spawn("bash", ["-c", `set -euo pipefail\n${script}`], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    if (process.env.QUICKSTART_PRINT) process.stderr.write(`${stdout}\n---\n${stderr}\n`);
    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);

    // curl with the saved ADMIN token.
    expect(stdout).toContain('{"data":{"viewer":{"tokenName":"admin","role":"ADMIN"}}}');
    // The timeline right after the start, then the waits and the end.
    expect(stdout).toMatch(/#1 Staging\s+staging\s+bake 10s/);
    expect(stdout).toMatch(/#2 Production us-west\s+production\/us-west\s+1 approval/);
    expect(stdout).toMatch(/^AWAITING_APPROVAL: release \S+ is IN_PROGRESS$/m);
    expect(stdout).toMatch(/#3 Production\s+production\s+bake 10s/);
    // Approving us-west rolls out us-west only: the rest of production then bakes on its own timer.
    expect(stdout).toContain("approveRelease: done");
    expect(stdout).toMatch(/#2 Production us-west .*ROLLED_OUT.*\n.*#3 Production .*WAITING until/);
    expect(stdout).toMatch(/^COMPLETED: release \S+ is COMPLETED$/m);
    // Production (us-east) serves the change once it completed.
    expect(stdout).toMatch(/"evaluate": \{\s*"enabled": true,/);
    // The audit log of the release, with Amy's approval.
    expect(stdout).toMatch(/amy\s+ReleasePhaseApproved/);
    expect(stdout).toMatch(/system\s+ReleaseCompleted/);

    // What the service stored agrees.
    const events = await store.readAll();
    const approved = events.filter((event) => event.type === "ReleasePhaseApproved");
    expect(approved).toHaveLength(1);
    expect(approved[0]?.metadata).toMatchObject({ actor: "amy" });
    expect(events.filter((event) => event.type === "ReleaseCompleted")).toHaveLength(1);
  }, 240_000);
});

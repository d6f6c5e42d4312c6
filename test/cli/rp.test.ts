// The `rp` CLI end to end: the real bin (cli/rp, the bash shim that runs cli/main.ts on the checkout's
// Node 24) as a child process with RP_URL and RP_TOKEN, against the API wired as `npm start` wires it
// (test/api/harness.ts: buildApp on a free port, a real release worker, the run's Temporal dev server).
// The worked pipeline of the README: development → staging (bake) → production/us-west (approval) →
// production.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getFreePort } from "../../services/platform/temporal-dev-server.ts";
import { action, createProject, createPublishedPipeline, createToken, release } from "../api/documents.ts";
import { startTestApi, type TestApi } from "../api/harness.ts";

const RP = fileURLToPath(new URL("../../cli/rp", import.meta.url));

let api: TestApi;
let baseUrl: string;
let projectId: string;
let pipelineId: string;
let approver: string;
let viewer: string;
let features = 0;
const children: ChildProcess[] = [];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once stdout contains `text` (rejects if the process ends first). */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<Ran>;
}

function start(args: string[], env: Record<string, string | undefined> = {}): Running {
  const child = spawn("bash", [RP, ...args], {
    env: { ...process.env, RP_URL: baseUrl, RP_TOKEN: api.adminToken, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<Ran>((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForOutput(text, timeoutMs = 60_000) {
      const matches = (): boolean => (typeof text === "string" ? stdout.includes(text) : text.test(stdout));
      return new Promise<void>((resolve, reject) => {
        if (matches()) return resolve();
        const timer = setTimeout(() => reject(new Error(`no "${text}" in:\n${stdout}\n${stderr}`)), timeoutMs);
        const check = (): void => {
          if (!matches()) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        void done.then(() => {
          if (matches()) return;
          clearTimeout(timer);
          reject(new Error(`rp ended before printing "${text}":\n${stdout}\n${stderr}`));
        });
      });
    },
  };
}

const rp = (args: string[], env: Record<string, string | undefined> = {}): Promise<Ran> => start(args, env).done;

/** A new gate with the worked pipeline attached, changed: its release id. */
async function newRelease(): Promise<string> {
  features += 1;
  const created = await api.ok<{ createFeature: { id: string } }>(
    /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`,
    { input: { projectId, key: `checkout-${features}`, kind: "GATE", pipelineId } },
  );
  const updated = await api.ok<{ updateFeature: { id: string } }>(
    /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) {
      updateFeature(id: $id, input: $input) { ... on Release { id } }
    }`,
    {
      id: created.createFeature.id,
      input: {
        environments: ["development", "staging", "production"].map((environment) => ({
          environment,
          definition: { enabled: true },
        })),
      },
    },
  );
  return updated.updateFeature.id;
}

beforeAll(async () => {
  api = await startTestApi();
  baseUrl = api.url.replace(/\/graphql$/, "");
  projectId = await createProject(api, "Checkout");
  approver = await createToken(api, "amy", "APPROVER", projectId);
  viewer = await createToken(api, "vic", "VIEWER", projectId);
  pipelineId = await createPublishedPipeline(api, projectId, [
    { name: "Development", targets: [{ environment: "development" }] },
    { name: "Staging", waitFor: "PT2S", targets: [{ environment: "staging" }] },
    {
      name: "Production us-west",
      requiresApproval: true,
      targets: [{ environment: "production", segment: "us-west" }],
    },
    { name: "Production", targets: [{ environment: "production" }] },
  ]);
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await api?.close();
});

describe("rp against the real service", () => {
  it("waits for the approval, approves from the CLI, and `release wait --until COMPLETED` exits 0", async () => {
    const id = await newRelease();
    const asked = await rp(["release", "wait", id, "--until", "AWAITING_APPROVAL", "--timeout", "60s"]);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toContain(`AWAITING_APPROVAL: release ${id} is IN_PROGRESS`);

    const approved = await rp(["approve", id, "--reason", "dashboards are green", "--phase", "2"], {
      RP_TOKEN: approver,
    });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain("approveRelease: done");
    expect(approved.stdout).toMatch(/#2 Production us-west .*ROLLED_OUT.*approved by amy/);

    const waited = await rp(["release", "wait", id, "--until", "COMPLETED", "--timeout", "60s"]);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout).toContain(`COMPLETED: release ${id} is COMPLETED`);
    const stored = await release(api, id);
    expect(stored.status).toBe("COMPLETED");
    expect(stored.phases[2]?.approvals).toMatchObject([{ by: "amy", comment: "dashboards are green" }]);
  });

  it("`release <id> --watch` prints the phase timeline live, state by state, and ends with the release", async () => {
    const id = await newRelease();
    const watching = start(["release", id, "--watch"]);
    await watching.waitForOutput(/#2 Production us-west .*AWAITING_APPROVAL \(0\/1\)/);
    await action(api, "approveRelease", id, {}, approver);
    const ended = await watching.done;
    expect(ended.code, ended.stderr).toBe(0);
    const frames = ended.stdout.split(/^--- /m).filter((frame) => frame.trim() !== "");
    // Each frame is the whole timeline; in order they pass through the bake, the approval and the end.
    const first = (pattern: RegExp): number => frames.findIndex((frame) => pattern.test(frame));
    const baking = first(/#1 Staging .*bake 2s\s+WAITING until/);
    const asking = first(/#2 Production us-west .*AWAITING_APPROVAL/);
    const completed = first(new RegExp(`Release ${id.replace(".", "\\.")}\\s+COMPLETED`));
    expect(asking).toBeGreaterThan(-1);
    expect(completed).toBeGreaterThan(asking);
    // The first frame is the state when it started: already baking, or (on a slow machine) further on.
    if (baking !== -1) expect(baking).toBeLessThan(asking);
    expect(frames.at(-1)).toMatch(/APPROVE phase #2 by amy/);
  });

  it("`release wait` exits 1 when the release is aborted", async () => {
    const id = await newRelease();
    const waiting = start(["release", "wait", id, "--until", "COMPLETED", "--timeout", "120s"]);
    // Abort from the CLI too, once the waiter has seen the release.
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (waiting.stderr().includes(id)) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
      void waiting.done.then(() => {
        clearInterval(poll);
        reject(new Error(`ended early: ${waiting.stdout()}${waiting.stderr()}`));
      });
    });
    const aborted = await rp(["abort", id, "--reason", "error rate up"]);
    expect(aborted.code, aborted.stderr).toBe(0);
    const ended = await waiting.done;
    expect(ended.code).toBe(1);
    expect(ended.stdout).toContain(`ABORTED: release ${id} is ABORTED (error rate up)`);
  });

  it("`release wait` exits 2 when the timeout passes first, and 3 when waiting for an approval of a completed release", async () => {
    const id = await newRelease();
    const timedOut = await rp(["release", "wait", id, "--until", "COMPLETED", "--timeout", "1s", "--json"]);
    expect(timedOut.code).toBe(2);
    expect(JSON.parse(timedOut.stdout)).toMatchObject({
      outcome: "timed out waiting for COMPLETED",
      exitCode: 2,
      release: { id, status: "IN_PROGRESS" },
    });
    const done = await rp(["full-rollout", id, "--reason", "hotfix"], { RP_TOKEN: approver });
    expect(done.code, done.stderr).toBe(0);
    const over = await rp(["release", "wait", id, "--until", "AWAITING_APPROVAL", "--timeout", "10s"]);
    expect(over.code).toBe(3);
  });

  it("an action the state refuses prints the contract's code and message and exits 1", async () => {
    const id = await newRelease();
    // The release starts on phase 0 or 1: never awaiting approval yet.
    const refused = await rp(["approve", id], { RP_TOKEN: approver });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^rp: INVALID_STATE: .+/m);
    const forbidden = await rp(["pause", id], { RP_TOKEN: viewer });
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^rp: FORBIDDEN: /m);
    const stale = await rp(["abort", id, "--phase", "3", "--json"]);
    expect(stale.code).toBe(1);
    expect(JSON.parse(stale.stderr)).toMatchObject({ error: { code: "INVALID_STATE" } });
    const missing = await rp(["release", "wait", `${id}0`, "--timeout", "5s"]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/^rp: NOT_FOUND: /m);
    await action(api, "abortRelease", id);
  });

  it("rolls a release back to a phase; one that has not rolled out is INVALID_STATE", async () => {
    const id = await newRelease();
    const notYet = await rp(["rollback", id, "--to", "3"]);
    expect(notYet.code).toBe(1);
    expect(notYet.stderr).toMatch(/^rp: INVALID_STATE: cannot roll back to phase 3/m);
    const done = await rp(["rollback", id, "--to", "0", "--reason", "staging looks off", "--json"]);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ id, currentPhaseIndex: 1 });
    expect((await release(api, id)).actions.at(-1)).toMatchObject({
      kind: "ROLLBACK_TO_PHASE",
      phaseIndex: 0,
      reason: "staging looks off",
    });
    await action(api, "abortRelease", id);
  });

  it("lists releases and reads the audit log, as text and as JSON", async () => {
    const id = await newRelease();
    const listed = await rp(["releases", "--project", projectId, "--status", "IN_PROGRESS", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const releases = JSON.parse(listed.stdout) as { id: string; status: string }[];
    expect(releases.map((r) => r.id)).toContain(id);
    expect(releases.every((r) => r.status === "IN_PROGRESS")).toBe(true);
    const text = await rp(["releases"]);
    expect(text.stdout).toMatch(new RegExp(`^${id.replace(".", "\\.")}\\s+IN_PROGRESS`, "m"));
    const shown = await rp(["release", id, "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, status: "IN_PROGRESS", pipeline: { id: pipelineId } });

    await action(api, "abortRelease", id, { reason: "audit me" });
    const audit = await rp(["audit", "--entity", id, "--since", "1h", "--json"]);
    expect(audit.code, audit.stderr).toBe(0);
    const events = JSON.parse(audit.stdout) as { type: string; actor: string; entityId: string }[];
    expect(events[0]).toMatchObject({ type: "ReleaseAborted", actor: "admin", entityId: id });
    expect(events.map((event) => event.type)).toContain("ReleaseStarted");
    const lines = await rp(["audit", "--entity", id, "--limit", "2"]);
    expect(lines.stdout.trim().split("\n")).toHaveLength(2);
    expect(lines.stdout).toMatch(/admin\s+ReleaseAborted/);
    const future = await rp(["audit", "--since", "2999-01-01T00:00:00Z"]);
    expect(future.stdout.trim()).toBe("no events");
  });

  it("`rp api` sends any request: a query from a .graphql file, variables, and one picked field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rp-api-"));
    try {
      const file = join(dir, "project.graphql");
      writeFileSync(file, "query($id: ID!) { project(id: $id) { name environments } }\n");
      const picked = await rp(["api", `@${file}`, "-f", `id=${projectId}`, "--pick", "project.name"]);
      expect(picked.code, picked.stderr).toBe(0);
      expect(picked.stdout).toBe("Checkout\n");
      const whole = await rp([
        "api",
        "query($n: Int) { auditLog(first: $n) { edges { node { type } } } }",
        "-F",
        "n=2",
      ]);
      expect(JSON.parse(whole.stdout).auditLog.edges).toHaveLength(2);
      const badJson = await rp(["api", "{ viewer { role } }", "-F", "n=not-json"]);
      expect(badJson.code).toBe(64);
      const badQuery = await rp(["api", "{ nope }"]);
      expect(badQuery.code).toBe(1);
      expect(badQuery.stderr).toMatch(/^rp: VALIDATION: /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says what to do when the token is missing or refused, or the server is unreachable (exit 4)", async () => {
    const missing = await rp(["releases"], { RP_TOKEN: "" });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("rp: NOT_CONFIGURED: RP_TOKEN is not set");
    expect(missing.stderr).toContain('export RP_TOKEN="$(cat .data/admin-token)"');

    const noUrl = await rp(["releases"], { RP_URL: "" });
    expect(noUrl.code).toBe(4);
    expect(noUrl.stderr).toContain("export RP_URL=http://localhost:4000");

    const refused = await rp(["releases"], { RP_TOKEN: "rp_not-a-real-token" });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^rp: UNAUTHENTICATED: /m);
    expect(refused.stderr).toContain("RP_TOKEN was refused");

    const refusedLive = await rp(["release", "x.1", "--watch"], { RP_TOKEN: "rp_not-a-real-token" });
    expect(refusedLive.code).toBe(4);

    const closedPort = await getFreePort();
    const unreachable = await rp(["release", "wait", "x.1", "--timeout", "5s"], {
      RP_URL: `http://127.0.0.1:${closedPort}`,
    });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain(`rp: UNREACHABLE: cannot reach the service at http://127.0.0.1:${closedPort}`);
    expect(unreachable.stderr).toContain("npm start");

    const usage = await rp(["approve"]);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain("missing required argument 'id'");
  });
});

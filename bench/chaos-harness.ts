// Chaos: the whole installation (`npm start`'s supervisor: Temporal dev server, worker, API) runs many
// releases while its processes are killed with SIGKILL at random moments and restarted by the supervisor.
// Then the event store is read directly and every release is checked: COMPLETED, every expected event
// exactly once, the feature's final definitions equal to what a direct update left on a twin feature
// without a pipeline, no feature locked. Used by `npm run bench:chaos` (bench/chaos.ts) and, smaller, by
// test/e2e/chaos.test.ts.
//
// The client is an ordinary retrying client: every request has a timeout and is retried on network errors
// and 5xx; release actions carry an Idempotency-Key, so a retry is applied once.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { streams } from "../services/core/streams.ts";
import { createEventStore } from "../services/event-store/create-event-store.ts";
import { getFreePort } from "../services/platform/temporal-dev-server.ts";
import { descendantsOf, type ProcessInfo } from "../test/setup/processes.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export type Victim = "api" | "worker" | "temporal";

export interface ChaosOptions {
  releases: number;
  /** The processes to kill, in order (each killed once per entry), at random moments. */
  kills: readonly Victim[];
  /** Seconds of each bake (two baked phases per release). */
  bakeSeconds?: number;
  /** Random moments between kills (ms). */
  killEveryMs?: [number, number];
  /** Give up waiting for completion this long after the last kill. */
  settleTimeoutMs?: number;
  log?: (message: string) => void;
}

export interface ChaosResult {
  releases: number;
  kills: number;
  lost: number;
  duplicated: number;
  stuck: number;
  wrongFinalState: number;
  /** Per-release problems, for a failing test's message. */
  problems: string[];
  seconds: number;
}

export interface Installation {
  url: string;
  adminToken: string;
  supervisor: ChildProcess;
  gql<T>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlAnswer<T>>;
  /** The pid (and process group) of one of the supervisor's children. */
  find(victim: Victim): ProcessInfo | undefined;
  output(): string;
}

interface GqlAnswer<T> {
  data: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const EXPECTED_RELEASE_EVENTS: Record<string, number> = {
  ReleaseStarted: 1,
  ReleasePhaseWaitStarted: 2,
  ReleasePhaseRolledOut: 3,
  ReleaseApprovalRequested: 1,
  ReleasePhaseApproved: 1,
  ReleaseCompleted: 1,
};

export const pgrpOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
};

export async function startInstallation(dataDir: string, log: (message: string) => void): Promise<Installation> {
  const port = await getFreePort();
  const adminToken = `chaos-${randomBytes(16).toString("hex")}`;
  const supervisor = spawn(process.execPath, ["infra/start.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      TEMPORAL_DEV_PORT: String(await getFreePort()),
      TEMPORAL_DEV_UI_PORT: "0",
      TEMPORAL_ADDRESS: "",
      ADMIN_TOKEN: adminToken,
      LOG_LEVEL: "warn",
      // Heal quickly in a short run (the default is 30 s, within PRODUCT.md's minute).
      RECONCILE_INTERVAL_MS: "3000",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  supervisor.stdout?.on("data", keep);
  supervisor.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}/graphql`;

  const gql = async <T>(
    query: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): Promise<GqlAnswer<T>> => {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${adminToken}`,
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    if (response.status >= 500 || response.status === 429) throw new Error(`HTTP ${response.status}`);
    return (await response.json()) as GqlAnswer<T>;
  };

  const installation: Installation = {
    url,
    adminToken,
    supervisor,
    gql,
    find(victim) {
      const pattern =
        victim === "api"
          ? /services\/api\/main\.ts/
          : victim === "worker"
            ? /workflows\/worker\.ts/
            : /temporal server start-dev/;
      return descendantsOf(supervisor.pid ?? -1).find((info) => pattern.test(info.command) && info.state !== "Z");
    },
    output: () => output,
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (supervisor.exitCode !== null) throw new Error(`the supervisor exited:\n${output}`);
    try {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (ready.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`the installation never became ready:\n${output}`);
    await sleep(250);
  }
  log(`installation ready at ${url}`);
  return installation;
}

/** Retries `call` on network errors, timeouts and 5xx until it answers (or the deadline passes). */
/** How long a feature may stay locked after its release ended: reconcile's interval here (3 s), with room. */
const UNLOCK_GRACE_MS = 10_000;

async function retrying<T>(call: () => Promise<T>, deadlineMs = 240_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(Math.min(2_000, 100 * 2 ** attempt));
    }
  }
}

const codeOf = (answer: GqlAnswer<unknown>): string | undefined => answer.errors?.[0]?.extensions?.code;

function ok<T>(answer: GqlAnswer<T>, what: string): T {
  if (answer.errors?.length || answer.data === null) throw new Error(`${what}: ${JSON.stringify(answer.errors)}`);
  return answer.data;
}

const ENVIRONMENTS = ["development", "staging", "production"];

const definitionsFor = (i: number) =>
  ENVIRONMENTS.map((environment, index) => ({
    environment,
    definition: { enabled: index !== 1 || i % 2 === 0, value: { variant: i, environment } },
  }));

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => {});
  const startedAt = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), "chaos-"));
  const installation = await startInstallation(dataDir, log);
  const { gql } = installation;
  const problems: string[] = [];
  let kills = 0;
  try {
    // ---- setup (before any kill: these mutations are not idempotent) --------------------------------
    const project = ok(
      await retrying(() =>
        gql<{ createProject: { id: string } }>(
          `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`,
          { input: { name: "chaos", environments: ENVIRONMENTS } },
        ),
      ),
      "createProject",
    ).createProject.id;
    const bake = `PT${options.bakeSeconds ?? 1}S`;
    const pipeline = ok(
      await gql<{ createPipeline: { id: string } }>(
        `mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }`,
        {
          input: {
            projectId: project,
            name: "chaos",
            phases: [
              { name: "dev", waitFor: bake, targets: [{ environment: "development" }] },
              { name: "staging", requiresApproval: true, targets: [{ environment: "staging" }] },
              { name: "prod", waitFor: bake, targets: [{ environment: "production" }] },
            ],
          },
        },
      ),
      "createPipeline",
    ).createPipeline.id;
    ok(await gql(`mutation($id: ID!) { publishPipeline(id: $id) { id } }`, { id: pipeline }), "publishPipeline");
    const features: { released: string; twin: string }[] = [];
    for (let i = 0; i < options.releases; i++) {
      // Retried only on 429 (refused before running: the API's rate limit) — no kill happens during setup.
      const create = async (key: string, pipelineId: string | null) =>
        ok(
          await retrying(() =>
            gql<{ createFeature: { id: string } }>(
              `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`,
              { input: { projectId: project, key, kind: "DYNAMIC_CONFIG", pipelineId } },
            ),
          ),
          "createFeature",
        ).createFeature.id;
      features.push({ released: await create(`released-${i}`, pipeline), twin: await create(`direct-${i}`, null) });
    }
    // The direct updates: what a release must leave once COMPLETED.
    for (const [i, feature] of features.entries()) {
      ok(
        await retrying(() =>
          gql(
            `mutation($id: ID!, $input: UpdateFeatureInput!) { updateFeature(id: $id, input: $input) { __typename } }`,
            { id: feature.twin, input: { environments: definitionsFor(i) } },
          ),
        ),
        "direct update",
      );
    }
    log(`set up ${features.length} features and their twins`);

    // ---- chaos -----------------------------------------------------------------------------------------
    let stopChaos = false;
    const [minGap, maxGap] = options.killEveryMs ?? [3_000, 8_000];
    const chaos = (async () => {
      for (const victim of options.kills) {
        await sleep(minGap + Math.random() * (maxGap - minGap));
        if (stopChaos) return;
        // Wait until the victim runs again (a previous kill may still be restarting it).
        let target = installation.find(victim);
        for (let i = 0; target === undefined && i < 200; i++) {
          await sleep(100);
          target = installation.find(victim);
        }
        if (target === undefined) {
          problems.push(`could not find the ${victim} to kill`);
          continue;
        }
        try {
          // Temporal runs under a guard that leads its process group: kill the whole group (a crash).
          if (victim === "temporal") process.kill(-pgrpOf(target.pid), "SIGKILL");
          else process.kill(target.pid, "SIGKILL");
          kills++;
          log(`killed the ${victim} (pid ${target.pid})`);
        } catch (error) {
          problems.push(`could not kill the ${victim}: ${String(error)}`);
        }
      }
    })();

    // ---- releases: start them, approve their middle phase ---------------------------------------------
    const releaseOf = new Map<string, string>();
    await Promise.all(
      features.map(async (feature, i) => {
        await sleep(Math.random() * 2_000);
        const answer = await retrying(() =>
          gql<{ updateFeature: { __typename: string; id: string } }>(
            `mutation($id: ID!, $input: UpdateFeatureInput!) { updateFeature(id: $id, input: $input) { __typename ... on Release { id } } }`,
            { id: feature.released, input: { environments: definitionsFor(i) } },
          ).then((a) => {
            // INTERNAL: the API could not finish (a store or Temporal fault): retry like any 5xx.
            if (codeOf(a) === "INTERNAL") throw new Error(JSON.stringify(a.errors));
            return a;
          }),
        );
        const started = answer.data?.updateFeature.__typename === "Release" ? answer.data.updateFeature.id : undefined;
        if (started !== undefined) {
          releaseOf.set(feature.released, started);
          return;
        }
        // A retry after a lost answer: the first attempt started it.
        if (codeOf(answer) === "RELEASE_IN_PROGRESS") {
          const active = await retrying(() =>
            gql<{ feature: { activeRelease: { id: string } | null } }>(
              `query($id: ID!) { feature(id: $id) { activeRelease { id } } }`,
              { id: feature.released },
            ),
          );
          const id = active.data?.feature.activeRelease?.id;
          if (id !== undefined) releaseOf.set(feature.released, id);
          return;
        }
        problems.push(`updateFeature of feature ${i}: ${JSON.stringify(answer.errors)}`);
      }),
    );
    log(`${releaseOf.size} releases started`);

    const approved = new Set<string>();
    const settleDeadline = () => Date.now() + (options.settleTimeoutMs ?? 180_000);
    let deadline = settleDeadline();
    let chaosDone = false;
    void chaos.then(() => {
      chaosDone = true;
      deadline = settleDeadline();
    });
    const done = new Set<string>();
    while (Date.now() < deadline || !chaosDone) {
      for (const releaseId of releaseOf.values()) {
        if (done.has(releaseId)) continue;
        let status: { status: string; currentPhaseIndex: number | null; phases: { status: string }[] } | null = null;
        try {
          status =
            (
              await gql<{
                release: { status: string; currentPhaseIndex: number | null; phases: { status: string }[] };
              }>(`query($id: ID!) { release(id: $id) { status currentPhaseIndex phases { status } } }`, {
                id: releaseId,
              })
            ).data?.release ?? null;
        } catch {
          break; // the API is down: next round
        }
        if (status === null) continue;
        if (status.status !== "IN_PROGRESS") {
          done.add(releaseId);
          continue;
        }
        if (status.currentPhaseIndex === 1 && status.phases[1]?.status === "AWAITING_APPROVAL") {
          // An approval client: retried with the same Idempotency-Key until it gets an answer.
          void retrying(() =>
            gql(
              `mutation($id: ID!) { approveRelease(id: $id, phaseIndex: 1, comment: "chaos") { id } }`,
              { id: releaseId },
              { "Idempotency-Key": `approve-${releaseId}-1` },
            ).then((a) => {
              if (codeOf(a) === "INTERNAL") throw new Error(JSON.stringify(a.errors));
              return a;
            }),
          )
            .then((a) => {
              if (a.errors === undefined) approved.add(releaseId);
            })
            .catch(() => undefined);
        }
      }
      if (chaosDone && done.size === releaseOf.size) break;
      await sleep(500);
    }
    stopChaos = true;
    await chaos;
    log(`${done.size} of ${releaseOf.size} releases ended; checking`);
    // What a release that did not end looks like, for the report: its read model and its workflow.
    for (const releaseId of releaseOf.values()) {
      if (done.has(releaseId)) continue;
      const seen = await gql(
        `query($id: ID!) { release(id: $id) { status currentPhaseIndex phases { status approvals { by } } } }`,
        { id: releaseId },
      ).catch((error: unknown) => String(error));
      const port = /--port[= ](\d+)/.exec(installation.find("temporal")?.command ?? "")?.[1];
      const described = await describeWorkflow(`127.0.0.1:${port}`, `release-${releaseId}`);
      problems.push(`release ${releaseId} did not end: ${JSON.stringify(seen)}; workflow: ${described}`);
    }

    // ---- checks ----------------------------------------------------------------------------------------
    const finalFeatures = new Map<string, { environments: unknown; activeRelease: unknown }>();
    const readFeature = async (id: string) =>
      (
        await retrying(() =>
          gql<{ feature: { environments: unknown; activeRelease: unknown } }>(
            `query($id: ID!) { feature(id: $id) { activeRelease { id } environments { environment definition { enabled value rules { segment enabled value rolloutPercentage } } } } }`,
            { id },
          ),
        )
      ).data?.feature;
    // A release ends in two appends: ReleaseCompleted on its stream, then FeatureReleaseEnded (the unlock,
    // with the final definitions) on the feature's. A kill between the two is healed by reconcile (every
    // 3 s here): a lock still held UNLOCK_GRACE_MS after the release ended is stuck.
    const unlockDeadline = Date.now() + UNLOCK_GRACE_MS;
    for (const feature of features) {
      for (const id of [feature.released, feature.twin]) {
        let answer = await readFeature(id);
        while (id === feature.released && answer?.activeRelease != null && Date.now() < unlockDeadline) {
          await sleep(250);
          answer = await readFeature(id);
        }
        if (answer) finalFeatures.set(id, answer);
      }
    }
    await stop(installation);

    const store = await createEventStore({ dataDir, connectionString: "" });
    let lost = 0;
    let duplicated = 0;
    let stuck = 0;
    let wrongFinalState = 0;
    try {
      for (const [i, feature] of features.entries()) {
        const releaseId = releaseOf.get(feature.released) ?? `${feature.released}.1`;
        const events = await store.readStream(streams.release(releaseId));
        const counts = new Map<string, number>();
        for (const event of events) counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
        const ids = new Set(events.map((event) => event.id));
        const missing = Object.entries(EXPECTED_RELEASE_EVENTS).filter(([type, n]) => (counts.get(type) ?? 0) < n);
        const extra = Object.entries(EXPECTED_RELEASE_EVENTS).filter(([type, n]) => (counts.get(type) ?? 0) > n);
        const completed = (counts.get("ReleaseCompleted") ?? 0) > 0;
        const released = finalFeatures.get(feature.released);
        const locked = released === undefined || released.activeRelease !== null;
        if (events.length === 0 || (completed && missing.length > 0)) {
          lost++;
          problems.push(`release ${releaseId} (feature ${i}): lost ${JSON.stringify(missing.map(([t]) => t))}`);
        }
        if (extra.length > 0 || ids.size !== events.length) {
          duplicated++;
          problems.push(`release ${releaseId}: duplicated ${JSON.stringify(extra.map(([t]) => t))}`);
        }
        if (!completed || locked) {
          stuck++;
          problems.push(`release ${releaseId}: ${completed ? "feature still locked" : "not COMPLETED"}`);
        }
        const twin = finalFeatures.get(feature.twin);
        if (JSON.stringify(released?.environments) !== JSON.stringify(twin?.environments)) {
          wrongFinalState++;
          problems.push(`feature ${i}: final definitions differ from the direct update`);
        }
      }
    } finally {
      await store.close();
    }
    return {
      releases: features.length,
      kills,
      lost,
      duplicated,
      stuck,
      wrongFinalState,
      problems,
      seconds: Math.round((Date.now() - startedAt) / 1000),
    };
  } finally {
    await stop(installation);
    if (problems.length === 0 || process.env.CHAOS_KEEP_DATA === undefined)
      rmSync(dataDir, { recursive: true, force: true });
    else log(`kept the data directory for inspection: ${dataDir}`);
  }
}

/** `temporal workflow describe` of a workflow, shortened (for a failing run's report). */
async function describeWorkflow(address: string, workflowId: string): Promise<string> {
  const cli = process.env.TEMPORAL_CLI_PATH ?? join(ROOT, ".tools", "venv", "bin", "temporal");
  return new Promise((resolveOutput) => {
    execFile(
      cli,
      ["workflow", "describe", "--address", address, "--workflow-id", workflowId, "--output", "json"],
      { timeout: 10_000, maxBuffer: 10_000_000 },
      (error, stdout, stderr) => {
        if (error) resolveOutput(`describe failed: ${String(stderr || error.message).slice(0, 500)}`);
        else {
          try {
            const json = JSON.parse(stdout) as {
              workflowExecutionInfo?: { status?: string };
              pendingActivities?: unknown[];
              pendingWorkflowTask?: unknown;
            };
            resolveOutput(
              JSON.stringify({
                status: json.workflowExecutionInfo?.status,
                pendingActivities: json.pendingActivities,
                pendingWorkflowTask: json.pendingWorkflowTask,
              }).slice(0, 3000),
            );
          } catch {
            resolveOutput(stdout.slice(0, 3000));
          }
        }
      },
    );
  });
}

export async function stop(installation: Installation): Promise<void> {
  const { supervisor } = installation;
  if (supervisor.exitCode !== null || supervisor.signalCode !== null) return;
  const exited = new Promise((resolveExit) => supervisor.once("exit", resolveExit));
  supervisor.kill("SIGTERM");
  const timer = setTimeout(() => {
    try {
      process.kill(-(supervisor.pid ?? 0), "SIGKILL");
    } catch {
      // gone
    }
  }, 40_000);
  await exited;
  clearTimeout(timer);
}

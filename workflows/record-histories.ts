// Records the histories the replay test (test/workflows/replay.test.ts) replays: real runs of
// representative releases on a dev server, written to test/histories/<scenario>.json.
//
//   node workflows/record-histories.ts            # starts its own dev server, records every scenario
//   node workflows/record-histories.ts signals-checked continue-as-new-checked   # only these
//   TEMPORAL_ADDRESS=host:port node workflows/record-histories.ts
//   node workflows/record-histories.ts governance-freeze-break-glass   # only the scenarios named
//
// Re-record only when a change is meant to be incompatible and old histories can no longer exist in
// production (see docs/decisions/0004-workflow-versioning.md); otherwise add a new scenario beside
// the old ones: the old files are the proof that in-flight releases still replay.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Client, Connection } from "@temporalio/client";
import protos, { type temporal } from "@temporalio/proto";
import { NativeConnection } from "@temporalio/worker";
import type { Actor } from "../services/core/model.ts";
import { streams } from "../services/core/streams.ts";
import { handleCommand } from "../services/event-store/command-handler.ts";
import type { EventStore } from "../services/event-store/port.ts";
import { createSqliteEventStore } from "../services/event-store/sqlite/sqlite-event-store.ts";
import { type PromotionWindow, WEEKDAYS } from "../services/pipeline/windows.ts";
import { startTemporalDevServer } from "../services/platform/temporal-dev-server.ts";
import { type ProjectCommand, projectDecider } from "../services/project/project.ts";
import {
  type ReleaseActionInput,
  type ReleaseActionName,
  type ReleaseWorkflowHandle,
  runReleaseAction,
  signalReleaseAction,
  startReleaseWorkflow,
} from "./client.ts";
import type { ReleaseWorkflowOptions } from "./release.workflow.ts";
import { freezeChangedSignal } from "./release-messages.workflow.ts";
import { type SeedPhase, seedRelease, seedToken } from "./testing/seed-release.ts";
import { buildWorkflowBundle, createReleaseWorker } from "./worker.ts";

// CommonJS: its named exports are only reachable through the default import under Node's ESM.
const { History } = protos.temporal.api.history.v1;
type History = temporal.api.history.v1.History;

/**
 * History files are protobufjs JSON (`History.toJSON()`: int64 as strings, enums by name, bytes in
 * base64), read back with `History.fromObject`. Not the SDK's historyToJSON/historyFromJSON: with
 * protobufjs 7 hoisted for @grpc/proto-loader, @temporalio/common and @temporalio/proto each get their own
 * protobufjs 8 copy and those two functions fail (`type must be a Type`). Same content, same replay.
 */
export const historyToFile = (history: History): string => `${JSON.stringify(history.toJSON(), null, 1)}\n`;
export const historyFromFile = (text: string): History => History.fromObject(JSON.parse(text));

export const HISTORIES_DIR = fileURLToPath(new URL("../test/histories/", import.meta.url));

/** Where the guardrail scenario's probe goes: a local server answering 500 to everything (see recordHistories). */
const UNHEALTHY_PORT = 0;
let UNHEALTHY_URL = "http://127.0.0.1:9";

const approver: Actor = { name: "approver", role: "APPROVER" };
const editor: Actor = { name: "editor", role: "EDITOR" };

interface ScenarioContext {
  store: EventStore;
  client: Client;
  taskQueue: string;
}

/** Runs a project command as an ADMIN (governance scenarios freeze and unfreeze). */
async function projectCommand(store: EventStore, projectId: string, command: ProjectCommand): Promise<void> {
  await handleCommand(store, projectDecider, {
    stream: streams.project(projectId),
    command,
    metadata: { actor: "admin", occurredAt: command.now, correlationId: projectId, causationId: null, projectId },
  });
}

const admin: Actor = { name: "admin", role: "ADMIN" };

interface Scenario {
  name: string;
  phases: SeedPhase[];
  workflowOptions?: ReleaseWorkflowOptions;
  /** Before the release starts: the project, its freeze, the pipeline's windows. */
  setup?(store: EventStore, projectId: string): Promise<{ windows?: PromotionWindow[] }>;
  /** Drives the release to its end. */
  drive(run: RunningRelease): Promise<void>;
}

interface RunningRelease {
  releaseId: string;
  projectId: string;
  store: EventStore;
  handle: ReleaseWorkflowHandle;
  /** Resolves once the release stream holds an event of `type` (the n-th one when `count` is given). */
  stored(type: string, count?: number): Promise<void>;
  act(action: ReleaseActionName, input: ReleaseActionInput): Promise<void>;
  signal(action: ReleaseActionName, input: ReleaseActionInput): Promise<void>;
}

export const SCENARIOS: Scenario[] = [
  {
    name: "wait-then-approval",
    phases: [
      { environment: "development", waitMs: 1_000 },
      { environment: "staging", approvals: 1 },
      { environment: "production", waitMs: 1_000 },
    ],
    async drive(run) {
      await run.stored("ReleaseApprovalRequested");
      await run.act("approve", { actor: approver, phaseIndex: 1, comment: "looks good" });
    },
  },
  {
    name: "pause-unpause",
    phases: [
      { environment: "development", waitMs: 2_000 },
      { environment: "production", waitMs: 500 },
    ],
    async drive(run) {
      await run.stored("ReleasePhaseWaitStarted");
      await sleep(300);
      await run.act("pause", { actor: editor, reason: "investigating" });
      await sleep(700);
      await run.act("unpause", { actor: editor });
    },
  },
  {
    name: "approvals-and-signals",
    phases: [
      { environment: "development", approvals: 2 },
      { environment: "production", approvals: 1 },
    ],
    async drive(run) {
      await run.stored("ReleaseApprovalRequested");
      await run.act("approve", { actor: approver });
      // Refused in the validator: never reaches history as an accepted update.
      await run.act("approve", { actor: approver }).catch(() => undefined);
      // A signal that does not apply: stored as ReleaseSignalRejected.
      await run.signal("pause", { actor: editor });
      await run.stored("ReleaseSignalRejected");
      await run.act("approve", { actor: { name: "second", role: "ADMIN" } });
      await run.signal("approve", { actor: approver, phaseIndex: 1 });
    },
  },
  {
    name: "abort-after-rollout",
    phases: [
      { environment: "development", approvals: 1 },
      { environment: "production", waitMs: 3_600_000 },
    ],
    async drive(run) {
      await run.stored("ReleaseApprovalRequested");
      await run.act("approve", { actor: approver });
      await run.stored("ReleasePhaseWaitStarted");
      await run.act("abort", { actor: editor, reason: "error rate up" });
    },
  },
  {
    name: "skip-then-full-rollout",
    phases: [
      { environment: "development", waitMs: 3_600_000 },
      { environment: "staging", waitMs: 3_600_000 },
      { environment: "production", approvals: 1 },
    ],
    async drive(run) {
      await run.stored("ReleasePhaseWaitStarted");
      await run.act("skip", { actor: editor, phaseIndex: 0 });
      await run.stored("ReleasePhaseWaitStarted", 2);
      await run.act("fullRollout", { actor: approver, reason: "hotfix" });
    },
  },
  {
    // Two ramping phases: the first paused mid-ramp and resumed, the second skipped to 100.
    name: "ramp-pause-skip",
    phases: [
      { environment: "development", ramp: { initialPercentage: 20, increaseBy: 40, every: "PT1S", everyMs: 1_000 } },
      { environment: "production", ramp: { initialPercentage: 50, increaseBy: 25, every: "PT1H", everyMs: 3_600_000 } },
    ],
    async drive(run) {
      await run.stored("ReleaseRampAdvanced");
      await run.act("pause", { actor: editor, phaseIndex: 0, reason: "checking the dashboards" });
      await sleep(1_500);
      await run.act("unpause", { actor: editor, phaseIndex: 0 });
      await run.stored("ReleasePhaseRolledOut");
      await run.stored("ReleaseRampAdvanced", 4);
      await run.act("skip", { actor: editor, phaseIndex: 1, reason: "all green" });
    },
  },
  {
    // A guardrail probing an endpoint that answers 500: it trips on its second failure and pauses (as
    // system); an editor unpauses, then skips the rest of the bake.
    name: "guardrail-trip-pause",
    // A getter: the server's URL is known only once recordHistories has started it.
    get phases(): SeedPhase[] {
      return [
        { environment: "development" },
        {
          environment: "production",
          waitMs: 3_600_000,
          guardrails: [
            {
              name: "health",
              kind: "HTTP_PROBE",
              url: `${UNHEALTHY_URL}/healthz`,
              query: null,
              comparator: null,
              threshold: null,
              interval: "PT1S",
              intervalMs: 1_000,
              failuresToTrip: 2,
              onFailure: "PAUSE",
            },
          ],
        },
      ];
    },
    async drive(run) {
      await run.stored("ReleasePaused");
      await run.act("unpause", { actor: editor, phaseIndex: 1 });
      await run.act("skip", { actor: editor, phaseIndex: 1 });
    },
  },
  {
    name: "continue-as-new",
    phases: [
      { environment: "development", waitMs: 300 },
      { environment: "staging", approvals: 1 },
      { environment: "production", waitMs: 300 },
    ],
    workflowOptions: { continueAsNewAfterEvents: 3 },
    async drive(run) {
      await run.stored("ReleaseApprovalRequested");
      await run.act("approve", { actor: approver });
    },
  },
  {
    // Governance (decision 0037): a frozen project, break glass, an approval while frozen, the unfreeze.
    name: "governance-freeze-break-glass",
    phases: [
      { environment: "development", waitMs: 500 },
      { environment: "production", approvals: 1 },
    ],
    async setup(store, projectId) {
      const now = new Date().toISOString();
      await projectCommand(store, projectId, {
        type: "CreateProject",
        data: { projectId, name: projectId, environments: ["development", "production"] },
        actor: admin,
        now,
      });
      await projectCommand(store, projectId, {
        type: "FreezeProject",
        data: { projectId, reason: "incident" },
        actor: admin,
        now,
      });
      return {};
    },
    async drive(run) {
      await run.stored("ReleasePhaseHeld");
      await run.act("breakGlass", { actor: admin, reason: "hotfix" });
      await run.stored("ReleaseApprovalRequested");
      await run.act("approve", { actor: approver });
      await run.stored("ReleasePhaseHeld", 2);
      await projectCommand(run.store, run.projectId, {
        type: "UnfreezeProject",
        data: { projectId: run.projectId, reason: "resolved" },
        actor: admin,
        now: new Date().toISOString(),
      });
      await run.handle.signal(freezeChangedSignal);
    },
  },
  {
    // Governance: a phase held AWAITING_WINDOW until the window opens (at the next minute, UTC).
    name: "governance-window",
    phases: [{ environment: "production" }],
    async setup() {
      const opens = new Date(Math.ceil((Date.now() + 1_000) / 60_000) * 60_000);
      const start = `${String(opens.getUTCHours()).padStart(2, "0")}:${String(opens.getUTCMinutes()).padStart(2, "0")}`;
      const endAt = new Date(opens.getTime() + 30 * 60_000);
      const end = `${String(endAt.getUTCHours()).padStart(2, "0")}:${String(endAt.getUTCMinutes()).padStart(2, "0")}`;
      return { windows: [{ days: [...WEEKDAYS], start, end, timeZone: "UTC" }] };
    },
    async drive(run) {
      await run.stored("ReleasePhaseHeld");
    },
  },
  // Recorded with the signals-checked-v1 and carried-checked-v1 patches (release.workflow.ts): signals whose
  // actor is a token (one spelled differently, one made up), and a chain of runs whose carried state is
  // checked against the stream. The scenarios above keep their pre-patch files.
  {
    name: "signals-checked",
    phases: [
      { environment: "development", approvals: 2 },
      { environment: "production", waitMs: 500 },
    ],
    async drive(run) {
      await run.stored("ReleaseApprovalRequested");
      await run.signal("approve", { actor: { name: "anyone", role: "ADMIN" } });
      await run.signal("approve", { actor: { name: "APPROVER", role: "APPROVER" } });
      await run.stored("ReleasePhaseApproved");
      await run.signal("approve", { actor: approver });
      await run.stored("ReleaseSignalRejected", 2);
      await run.act("approve", { actor: { name: "second", role: "ADMIN" } });
    },
  },
  {
    name: "continue-as-new-checked",
    phases: [
      { environment: "development", waitMs: 300 },
      { environment: "staging", approvals: 1 },
      { environment: "production", waitMs: 300 },
    ],
    workflowOptions: { continueAsNewAfterEvents: 3 },
    async drive(run) {
      await run.stored("ReleaseApprovalRequested");
      await run.act("approve", { actor: approver });
    },
  },
];

/** The tokens the scenarios' actors name (signals are checked against them). */
const TOKENS = [
  { name: "approver", role: "APPROVER" },
  { name: "editor", role: "EDITOR" },
  { name: "second", role: "ADMIN" },
] as const;

async function runScenario(context: ScenarioContext, scenario: Scenario): Promise<Record<string, History>> {
  const projectId = `project-${scenario.name}-${Date.now()}`;
  const prepared = (await scenario.setup?.(context.store, projectId)) ?? {};
  const { releaseId } = await seedRelease(context.store, {
    phases: scenario.phases,
    projectId,
    ...(prepared.windows !== undefined && { windows: prepared.windows }),
  });
  const handle = await startReleaseWorkflow(context.client, releaseId, {
    taskQueue: context.taskQueue,
    workflowOptions: scenario.workflowOptions,
  });
  let updates = 0;
  const run: RunningRelease = {
    releaseId,
    projectId,
    store: context.store,
    handle,
    async stored(type, count = 1) {
      for (let i = 0; i < 600; i++) {
        const events = await context.store.readStream(streams.release(releaseId));
        if (events.filter((event) => event.type === type).length >= count) return;
        await sleep(50);
      }
      throw new Error(`${scenario.name}: ${type} never stored`);
    },
    async act(action, input) {
      await runReleaseAction(context.client, releaseId, action, input, {
        updateId: `${scenario.name}-${action}-${++updates}`,
      });
    },
    signal: (action, input) => signalReleaseAction(context.client, releaseId, action, input),
  };
  await scenario.drive(run);
  await handle.result();
  // Every run of the chain (continue-as-new makes more than one), oldest first.
  const histories: Record<string, History> = {};
  let runId: string | undefined;
  const latest = await context.client.workflow.getHandle(handle.workflowId).fetchHistory();
  const chain = [latest];
  runId = latest.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
  while (runId) {
    const previous = await context.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    chain.unshift(previous);
    runId = previous.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
  }
  chain.forEach((history, index) => {
    const suffix = chain.length > 1 ? `.run-${index + 1}` : "";
    histories[`${scenario.name}${suffix}.json`] = History.fromObject(history);
  });
  return histories;
}

export async function recordHistories(
  options: { address?: string; outDir?: string; only?: readonly string[] } = {},
): Promise<string[]> {
  const outDir = options.outDir ?? HISTORIES_DIR;
  const dir = mkdtempSync(join(tmpdir(), "record-histories-"));
  const server =
    options.address === undefined ? await startTemporalDevServer({ dbFilename: join(dir, "temporal.db") }) : undefined;
  const address = options.address ?? server?.address ?? "";
  const store = createSqliteEventStore({ path: join(dir, "events.sqlite") });
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const taskQueue = `record-histories-${Date.now()}`;
  const worker = await createReleaseWorker({
    connection: nativeConnection,
    store,
    bundle: await buildWorkflowBundle(),
    taskQueue,
  });
  const written: string[] = [];
  const unhealthy = createServer((_request, response) => response.writeHead(500).end("unhealthy"));
  await new Promise<void>((resolve) => unhealthy.listen(UNHEALTHY_PORT, "127.0.0.1", resolve));
  UNHEALTHY_URL = `http://127.0.0.1:${(unhealthy.address() as AddressInfo).port}`;
  try {
    await worker.runUntil(async () => {
      const client = new Client({ connection });
      mkdirSync(outDir, { recursive: true });
      for (const token of TOKENS) await seedToken(store, { ...token, projectId: null });
      const only = options.only ?? [];
      for (const scenario of SCENARIOS.filter((s) => only.length === 0 || only.includes(s.name))) {
        const histories = await runScenario({ store, client, taskQueue }, scenario);
        for (const [file, history] of Object.entries(histories)) {
          writeFileSync(join(outDir, file), historyToFile(history));
          written.push(file);
        }
      }
    });
  } finally {
    await new Promise<void>((resolve) => unhealthy.close(() => resolve()));
    await connection.close();
    await nativeConnection.close();
    await store.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return written;
}

if (import.meta.main) {
  const address = process.env.TEMPORAL_ADDRESS;
  const only = process.argv.slice(2);
  recordHistories({ address: address === undefined || address === "" ? undefined : address, only }).then(
    (files) => process.stdout.write(`recorded ${files.length} histories in ${HISTORIES_DIR}:\n${files.join("\n")}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

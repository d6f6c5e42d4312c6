// `npm start`: the process supervisor for a one-machine installation.
//
//   1. Unless TEMPORAL_ADDRESS is set, runs a Temporal dev server with its database in
//      $DATA_DIR/temporal/temporal.db (gRPC on 7233, Web UI on 8233).
//   2. Runs the worker (workflows/worker.ts) and the API (services/api/main.ts) as child Node
//      processes, restarting one that exits unexpectedly, with exponential backoff.
//   3. Logs the GraphQL URL once the API's /readyz answers 200, and tells a person on stderr where the
//      ADMIN token is.
//   4. On SIGINT/SIGTERM/SIGHUP stops the API, then the worker, then Temporal, and exits 0; a second
//      signal (2 s or more after the first: a process-group signal arrives twice at once, through
//      npm too) kills everything at once.
//
// No process outlives the supervisor (which also stops when its parent dies): each child runs in its own process group (so a terminal's
// Ctrl-C reaches only the supervisor, which stops them in order) and stops by itself when the
// supervisor disappears without stopping it: Node children through the IPC channel's 'disconnect'
// (infra/child-guard.ts), the Temporal server through its guard's stdin (services/platform/temporal-dev-server.ts).
//
// Internal knobs (not part of the documented configuration, for tests and port clashes):
// TEMPORAL_DEV_PORT (default 7233) and TEMPORAL_DEV_UI_PORT (default 8233; 0 runs the server headless).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadConfigOrExit } from "../services/platform/config.ts";
import { createLogger } from "../services/platform/logger.ts";
import { type DevServer, startTemporalDevServer } from "../services/platform/temporal-dev-server.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CHILD_GUARD = pathToFileURL(join(ROOT, "infra", "child-guard.ts")).href;

interface ChildSpec {
  readonly name: "api" | "worker";
  readonly script: string;
  /** How long it may take to stop after SIGTERM before it is killed. */
  readonly stopGraceMs: number;
}

// Stopped in this order: the API first (no new work comes in), then the worker, then Temporal.
const CHILDREN: readonly ChildSpec[] = [
  { name: "api", script: "services/api/main.ts", stopGraceMs: 10_000 },
  { name: "worker", script: "workflows/worker.ts", stopGraceMs: 20_000 },
];
const RESTART_BACKOFF_MS = { first: 1_000, max: 30_000 };
/** A child that ran this long before crashing is restarted after the first backoff again. */
const STABLE_AFTER_MS = 60_000;

const config = loadConfigOrExit();
const log = createLogger("supervisor", { level: config.logLevel, format: config.logFormat });
const temporalLog = createLogger("temporal", { level: config.logLevel, format: config.logFormat });

const shutdown = new AbortController();
const running = new Map<ChildSpec["name"], ChildProcess>();
let temporal: DevServer | undefined;
/** A dev server start in progress, so that a shutdown arriving meanwhile can wait for it and stop it. */
let temporalStarting: Promise<DevServer> | undefined;
let shutdownStarted = false;

/**
 * A signal this soon after the first is the same request to stop, not a second one: a process-group
 * signal (systemd's stop, `kill -- -pgid`, Ctrl-C in some shells) reaches npm and the supervisor
 * together, and npm forwards its copy, so one stop arrives twice within milliseconds.
 */
const SAME_STOP_WITHIN_MS = 2_000;
let firstSignalAt: number | undefined;

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (firstSignalAt !== undefined && Date.now() - firstSignalAt < SAME_STOP_WITHIN_MS) {
      log.info({ signal }, "the same stop request again (process-group signal); still stopping in order");
      return;
    }
    firstSignalAt ??= Date.now();
    if (shutdownStarted) {
      log.warn({ signal }, "second signal: killing everything now");
      killEverything();
      process.exit(1);
    }
    void stopAll(signal);
  });
}
// A parent that dies without passing a signal on (npm runs scripts through `sh -c`, and dash neither
// execs the command nor forwards npm's SIGTERM to it) leaves the supervisor orphaned: notice that and
// stop the same way.
const parentAtStart = process.ppid;
setInterval(() => {
  if (process.ppid !== parentAtStart && !shutdownStarted) {
    log.warn({ parentAtStart }, "the parent process is gone");
    void stopAll("parent exited");
  }
}, 500).unref();
process.on("uncaughtException", (error) => {
  log.fatal({ err: error }, "supervisor crashed; killing its children");
  killEverything();
  process.exit(1);
});

await main();

async function main(): Promise<void> {
  for (const child of CHILDREN) {
    if (!existsSync(join(ROOT, child.script))) {
      log.fatal({ script: child.script }, `cannot start the ${child.name}: ${child.script} does not exist`);
      process.exit(1);
    }
  }
  mkdirSync(config.dataDir, { recursive: true });

  let temporalAddress = config.temporalAddress;
  if (temporalAddress === undefined) {
    try {
      temporal = await startTemporal();
    } catch (error) {
      log.fatal({ err: error }, "the Temporal dev server did not start");
      process.exit(1);
    }
    temporalAddress = temporal.address;
    void superviseTemporal(temporal);
  } else {
    log.info({ temporalAddress }, "using the Temporal cluster at TEMPORAL_ADDRESS");
  }
  if (shutdown.signal.aborted) return;

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(config.port),
    DATA_DIR: config.dataDir,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: config.temporalNamespace,
    TEMPORAL_TASK_QUEUE: config.temporalTaskQueue,
    LOG_LEVEL: config.logLevel,
  };
  // The worker first, so that releases started as soon as the API answers have someone to run them.
  for (const spec of [...CHILDREN].reverse()) void superviseChild(spec, env);
}

function temporalPorts(): { port: number; uiPort: number | undefined } {
  const port = internalPort("TEMPORAL_DEV_PORT", 7233);
  const uiPort = internalPort("TEMPORAL_DEV_UI_PORT", 8233);
  return { port, uiPort: uiPort === 0 ? undefined : uiPort };
}

function internalPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    log.fatal(`${name} must be a port number; got "${raw}"`);
    process.exit(2);
  }
  return port;
}

async function startTemporal(): Promise<DevServer> {
  const { port, uiPort } = temporalPorts();
  temporalStarting = startTemporalDevServer({
    dbFilename: join(config.dataDir, "temporal", "temporal.db"),
    port,
    uiPort,
    namespace: config.temporalNamespace,
    logger: temporalLog,
  });
  try {
    temporal = await temporalStarting;
    return temporal;
  } finally {
    temporalStarting = undefined;
  }
}

/** Restarts the dev server (same port, same database) if it dies while the supervisor runs. */
async function superviseTemporal(first: DevServer): Promise<void> {
  let server = first;
  let attempt = 0;
  for (;;) {
    const startedAt = Date.now();
    const exit = await server.exited;
    if (shutdownStarted) return;
    if (Date.now() - startedAt > STABLE_AFTER_MS) attempt = 0;
    for (;;) {
      const delay = backoff(attempt++);
      log.error({ ...exit, restartInMs: delay, attempt }, "the Temporal dev server exited unexpectedly; restarting");
      if (!(await pause(delay))) return;
      try {
        server = await startTemporal();
        break;
      } catch (error) {
        log.error({ err: error }, "the Temporal dev server did not restart");
      }
    }
  }
}

async function superviseChild(spec: ChildSpec, env: NodeJS.ProcessEnv): Promise<void> {
  let attempt = 0;
  while (!shutdownStarted) {
    const startedAt = Date.now();
    const child = spawn(process.execPath, ["--import", CHILD_GUARD, join(ROOT, spec.script)], {
      cwd: ROOT,
      // METRICS_PORT is the worker's here: the API serves /metrics on PORT (two children, one port).
      env: spec.name === "api" ? { ...env, METRICS_PORT: "" } : env,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      detached: true,
    });
    running.set(spec.name, child);
    log.info({ child: spec.name, childPid: child.pid }, `started the ${spec.name}`);
    if (spec.name === "api") void announceWhenReady(child);
    const exit = await exitOf(child);
    running.delete(spec.name);
    if (shutdownStarted) return;
    if (Date.now() - startedAt > STABLE_AFTER_MS) attempt = 0;
    const delay = backoff(attempt++);
    log.error(
      { child: spec.name, ...exit, restartInMs: delay, attempt },
      `the ${spec.name} exited unexpectedly; restarting`,
    );
    if (!(await pause(delay))) return;
  }
}

/**
 * The JSON lines are for machines; a person starting the service wants two things at a glance: where it
 * is, and where the ADMIN token is (the API prints a generated one once, in a banner that the Temporal
 * logs may have scrolled away, and saves it under DATA_DIR).
 */
function announceToPerson(): void {
  const tokenFile = join(config.dataDir, "admin-token");
  const lines = [
    "",
    `Release pipelines is ready: the console at http://localhost:${config.port}/`,
    `GraphQL and GraphiQL at http://localhost:${config.port}/graphql`,
    existsSync(tokenFile)
      ? `ADMIN token: in ${tokenFile}  (export RP_TOKEN="$(cat ${tokenFile})")`
      : "ADMIN token: the one you set with ADMIN_TOKEN, or saved earlier (see README, 'ADMIN token')",
    "",
  ];
  process.stderr.write(`${lines.join("\n")}\n`);
}

/** Polls the API's /readyz and logs the GraphQL URL once it answers 200 (warning now and then until it does). */
async function announceWhenReady(child: ChildProcess): Promise<void> {
  const url = `http://127.0.0.1:${config.port}/readyz`;
  const startedAt = Date.now();
  let lastWarning = startedAt;
  let lastAnswer = "no answer yet";
  while (!shutdownStarted && child.exitCode === null && child.signalCode === null) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) {
        log.info(
          {
            graphqlUrl: `http://localhost:${config.port}/graphql`,
            temporalUi: temporal?.uiUrl,
            ms: Date.now() - startedAt,
          },
          `GraphQL API ready at http://localhost:${config.port}/graphql`,
        );
        log.info({ consoleUrl: `http://localhost:${config.port}/` }, `Console at http://localhost:${config.port}/`);
        announceToPerson();
        return;
      }
      lastAnswer = `${response.status} ${await response.text()}`;
    } catch (error) {
      lastAnswer = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() - lastWarning > 15_000) {
      lastWarning = Date.now();
      log.warn({ url, lastAnswer }, "the API is not ready yet");
    }
    await sleep(250);
  }
}

async function stopAll(reason: string): Promise<void> {
  shutdownStarted = true;
  shutdown.abort();
  log.info({ reason }, "stopping: API, worker, then Temporal");
  for (const spec of CHILDREN) {
    const child = running.get(spec.name);
    if (child !== undefined) await stopChild(spec, child);
  }
  // A dev server that is still starting is waited for, then stopped like a running one.
  await temporalStarting?.catch(() => undefined);
  if (temporal !== undefined) {
    const exit = await temporal.stop();
    log.info({ ...exit }, "stopped Temporal");
  }
  log.info("stopped");
  process.exit(0);
}

async function stopChild(spec: ChildSpec, child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const exited = exitOf(child);
  signalGroup(pid, "SIGTERM");
  const timer = setTimeout(() => {
    log.warn({ child: spec.name, graceMs: spec.stopGraceMs }, `the ${spec.name} did not stop in time; killing it`);
    signalGroup(pid, "SIGKILL");
  }, spec.stopGraceMs);
  const exit = await exited;
  clearTimeout(timer);
  log.info({ child: spec.name, ...exit }, `stopped the ${spec.name}`);
}

function killEverything(): void {
  for (const child of running.values()) if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
  if (temporal !== undefined) void temporal.kill();
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolveExit) => child.once("exit", (code, signal) => resolveExit({ code, signal })));
}

function backoff(attempt: number): number {
  return Math.min(RESTART_BACKOFF_MS.max, RESTART_BACKOFF_MS.first * 2 ** attempt);
}

/** Waits, unless shutdown starts first; true when the wait ran its course. */
async function pause(ms: number): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal: shutdown.signal });
    return true;
  } catch {
    return false;
  }
}

// Runs a real Temporal development server (`temporal server start-dev`) as a child process, backed
// by a SQLite file so that workflow state survives restarts, and waits until it answers gRPC.
//
// Used by the supervisor (`npm start`) and by the tests. The server runs under a tiny bash guard in
// its own process group: the guard forwards SIGTERM, and stops the server when its stdin (a pipe
// from this process) reaches EOF, i.e. when this process dies, even by SIGKILL, so no server is
// left behind. stop() sends SIGTERM, then SIGKILL to the whole group after a grace period.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { Connection } from "@temporalio/client";
import type { Logger } from "./logger.ts";

export interface DevServerOptions {
  /** SQLite file holding the server's state; created (with its directory) when missing. */
  readonly dbFilename: string;
  /** gRPC frontend port; a free one when unset. */
  readonly port?: number;
  /** Web UI port; without it the server runs headless. */
  readonly uiPort?: number;
  /** Namespace to create at launch besides "default". */
  readonly namespace?: string;
  /** Interface to bind (default 127.0.0.1). */
  readonly ip?: string;
  /** Path of the `temporal` CLI; default: resolveTemporalCli(). */
  readonly executable?: string;
  /** Where the server's output lines go (each JSON line re-logged at its own level). */
  readonly logger?: Logger;
  /** The server's own log level (default "warn": it is chatty). */
  readonly serverLogLevel?: "debug" | "info" | "warn" | "error";
  /** How long to wait for the server to answer (default 60 s). */
  readonly readyTimeoutMs?: number;
}

export interface DevServer {
  /** host:port of the gRPC frontend. */
  readonly address: string;
  readonly port: number;
  /** http://host:port of the Web UI, when enabled. */
  readonly uiUrl: string | undefined;
  readonly namespace: string;
  readonly dbFilename: string;
  /** Pid of the guard process, which leads the server's process group. */
  readonly pid: number;
  /** Resolves when the server process has exited (expectedly or not). */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL to the process group after graceMs (default 10 s); resolves once exited. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** SIGKILL to the process group at once (a crash); resolves once exited. */
  kill(): Promise<ExitInfo>;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class TemporalDevServerError extends Error {
  constructor(message: string, outputTail: readonly string[]) {
    super(outputTail.length > 0 ? `${message}\n--- last lines of its output ---\n${outputTail.join("\n")}` : message);
    this.name = "TemporalDevServerError";
  }
}

/** TEMPORAL_CLI_PATH when set, else `temporal` found on PATH; throws a clear error otherwise. */
export function resolveTemporalCli(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env.TEMPORAL_CLI_PATH;
  if (configured !== undefined && configured !== "") {
    if (!isExecutable(configured)) {
      throw new TemporalDevServerError(`TEMPORAL_CLI_PATH=${configured} is not an executable file`, []);
    }
    return configured;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "temporal");
    if (dir !== "" && isExecutable(candidate)) return candidate;
  }
  throw new TemporalDevServerError(
    "The Temporal CLI was not found: set TEMPORAL_CLI_PATH or put `temporal` on PATH " +
      "(`npm start` and `npm test` install it through infra/bootstrap.sh)",
    [],
  );
}

/** A port that was free a moment ago: the OS picks one for a listener on port 0, which is then closed. */
export async function getFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolvePort(address.port);
        else reject(new Error("could not read the port the OS picked"));
      });
    });
  });
}

function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolveFree(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolveFree(true)));
  });
}

// $@ is the server command. fd 0 is a pipe from the launcher: EOF there means the launcher is gone.
const GUARD_SCRIPT = `
exec 3<&0 0</dev/null
"$@" 3<&- &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
{ while read -r -u 3 _; do :; done; kill -TERM "$child" 2>/dev/null; } &
watcher=$!
exec 3<&-
status=0
while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
kill "$watcher" 2>/dev/null
exit "$status"
`;

const OUTPUT_TAIL_LINES = 40;

export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const executable = options.executable ?? resolveTemporalCli();
  const ip = options.ip ?? "127.0.0.1";
  const port = options.port ?? (await getFreePort(ip));
  const namespace = options.namespace ?? "default";
  const logger = options.logger;
  mkdirSync(dirname(options.dbFilename), { recursive: true });
  // Checked up front: the readiness probe below cannot tell our server from another one on the port.
  if (!(await isPortFree(ip, port))) {
    throw new TemporalDevServerError(
      `cannot start a Temporal dev server on ${ip}:${port}: the port is already in use (another \`npm start\` or Temporal server?)`,
      [],
    );
  }

  const args = [
    "server",
    "start-dev",
    "--db-filename",
    options.dbFilename,
    "--ip",
    ip,
    "--port",
    String(port),
    "--log-format",
    "json",
    "--log-level",
    options.serverLogLevel ?? "warn",
  ];
  if (namespace !== "default") args.push("--namespace", namespace);
  if (options.uiPort === undefined) args.push("--headless");
  else args.push("--ui-port", String(options.uiPort), "--ui-disable-news-fetch");

  const child = spawn("bash", ["-c", GUARD_SCRIPT, "temporal-guard", executable, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true, // its own process group, so that SIGKILL reaches the guard and the server together
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new TemporalDevServerError(`could not spawn bash to run ${executable}`, []);
  }
  // Only the guard reads this pipe; keep it open (and unreferenced) for as long as this process lives.
  child.stdin?.on("error", () => {});
  const tail: string[] = [];
  // Once asked to stop, the server's complaints about its own connections closing are noise.
  let stopping = false;
  const onLine = (line: string): void => {
    if (line.trim() === "") return;
    tail.push(line);
    if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
    if (logger !== undefined) relayLine(logger, line, stopping);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream !== null) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", onLine);
  }
  const exited = waitForExit(child);
  unrefChild(child);

  const address = `${ip}:${port}`;
  logger?.info({ address, dbFilename: options.dbFilename, guardPid: pid }, "starting Temporal dev server");
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const ready = await Promise.race([
    waitUntilServing(address, namespace, readyTimeoutMs).then((error) => ({ kind: "ready" as const, error })),
    exited.then((exit) => ({ kind: "exited" as const, exit })),
  ]);
  if (ready.kind === "exited") {
    await sleep(50); // let the last output lines arrive
    throw new TemporalDevServerError(
      `Temporal dev server exited before it was ready (${describeExit(ready.exit)}); ` +
        `is port ${port} already in use, or ${options.dbFilename} locked by another server?`,
      tail,
    );
  }
  if (ready.error !== undefined) {
    await terminate(child, exited, 2_000);
    throw new TemporalDevServerError(
      `Temporal dev server at ${address} did not answer within ${readyTimeoutMs} ms: ${ready.error}`,
      tail,
    );
  }
  const uiUrl = options.uiPort === undefined ? undefined : `http://${ip}:${options.uiPort}`;
  logger?.info({ address, uiUrl, namespace }, "Temporal dev server ready");
  return {
    address,
    port,
    uiUrl,
    namespace,
    dbFilename: options.dbFilename,
    pid,
    exited,
    stop: (graceMs = 10_000) => {
      stopping = true;
      return terminate(child, exited, graceMs);
    },
    kill: async () => {
      stopping = true;
      signalGroup(pid, "SIGKILL");
      const exit = await exited;
      await groupGone(pid);
      return exit;
    },
  };
}

/** Polls until the frontend answers and the namespace is registered; returns the last error on timeout. */
async function waitUntilServing(address: string, namespace: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "no attempt made";
  while (Date.now() < deadline) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.describeNamespace({ namespace });
      return undefined;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    } finally {
      await connection?.close().catch(() => {});
    }
    await sleep(200);
  }
  return lastError;
}

function waitForExit(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolveExit({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolveExit({ code, signal }));
  });
}

async function terminate(child: ChildProcess, exited: Promise<ExitInfo>, graceMs: number): Promise<ExitInfo> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill("SIGTERM");
  const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
  try {
    const exit = await exited;
    await groupGone(pid);
    return exit;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits (up to timeoutMs) until no process of the group is left: after a SIGKILL the guard may be
 * reaped before the server it led has released its ports and database file.
 */
async function groupGone(pgid: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await sleep(25);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

/** The server must not keep the launcher alive; its pipes stay open (the guard's stdin in particular). */
function unrefChild(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    const handle: unknown = stream;
    if (hasUnref(handle)) handle.unref();
  }
}

function hasUnref(value: unknown): value is { unref(): void } {
  return typeof value === "object" && value !== null && typeof Reflect.get(value, "unref") === "function";
}

const SERVER_LEVELS: Record<string, "debug" | "info" | "warn" | "error"> = {
  DEBUG: "debug",
  INFO: "info",
  WARN: "warn",
  ERROR: "error",
  DPANIC: "error",
  PANIC: "error",
  FATAL: "error",
};

/** Re-logs one line of server output: JSON lines at their own level with their fields, others as info. */
function relayLine(logger: Logger, line: string, quiet: boolean): void {
  if (line.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === "object" && parsed !== null) {
        const { level, msg, time, ...fields } = parsed as Record<string, unknown>;
        const method = quiet ? "debug" : (SERVER_LEVELS[String(level).toUpperCase()] ?? "info");
        // The server's own `service` field (frontend, history, …) would shadow ours.
        const { service, ...rest } = fields;
        logger[method]({ ...rest, component: service, serverTime: time }, String(msg ?? ""));
        return;
      }
    } catch {
      // not JSON after all: fall through
    }
  }
  logger[quiet ? "debug" : "info"](line);
}

function describeExit(exit: ExitInfo): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

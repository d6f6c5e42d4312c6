// `npm start` end to end: the supervisor runs Temporal, the worker and the API, and leaves nothing
// behind however it ends (SIGTERM to it, SIGTERM to npm, SIGKILL to it).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../setup/binaries.ts";
import { descendantsOf, isAlive, type ProcessInfo } from "../setup/processes.ts";
import { getFreePort } from "../setup/temporal.ts";

interface Started {
  readonly process: ChildProcess;
  readonly port: number;
  readonly dataDir: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const dirs: string[] = [];
const started: ChildProcess[] = [];
afterEach(() => {
  // A failed test must not leave its supervisor running (the supervisor then stops its children).
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function startSupervisor(
  command: readonly string[],
  extraEnv: Record<string, string> = {},
  options: { detached?: boolean } = {},
): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), "supervisor-"));
  dirs.push(dataDir);
  const port = await getFreePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(port),
    TEMPORAL_DEV_PORT: String(await getFreePort()),
    TEMPORAL_DEV_UI_PORT: "0",
    LOG_LEVEL: "info",
    ...extraEnv,
  };
  delete env.TEMPORAL_ADDRESS;
  const [executable, ...args] = command;
  if (executable === undefined) throw new Error("no command");
  const child = spawn(executable, args, {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
  });
  started.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    // 'close', not 'exit': the last output lines may still be in the pipes when 'exit' fires.
    child.once("close", (code, signal) => resolveExit({ code, signal })),
  );
  return { process: child, port, dataDir, output: () => output, exit };
}

async function waitForHealthy(supervisor: Started, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (supervisor.process.exitCode !== null) break;
    try {
      const response = await fetch(`http://127.0.0.1:${supervisor.port}/healthz`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`the API never answered /healthz with 200; output:\n${supervisor.output()}`);
}

async function waitForLog(
  supervisor: Started,
  service: string,
  msg: string,
  timeoutMs = 30_000,
  times = 1,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && supervisor.process.exitCode === null) {
    const matching = logLines(supervisor.output()).filter((line) => line.service === service && line.msg === msg);
    if (matching.length >= times) return;
    await sleep(100);
  }
  throw new Error(`no ${service} log "${msg}"; output:\n${supervisor.output()}`);
}

async function waitUntilGone(processes: readonly ProcessInfo[], timeoutMs: number): Promise<ProcessInfo[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = processes.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(100);
    alive = alive.filter(isAlive);
  }
  return alive;
}

/** The supervisor's children: Temporal (under its guard), the worker and the API. */
function expectFullTree(tree: readonly ProcessInfo[]): void {
  const commands = tree.map((info) => info.command);
  expect(commands).toContainEqual(expect.stringMatching(/temporal server start-dev/));
  expect(commands).toContainEqual(expect.stringMatching(/node .*workflows\/worker\.ts/));
  expect(commands).toContainEqual(expect.stringMatching(/node .*services\/api\/main\.ts/));
}

function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{") && line.endsWith("}"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// Each test runs the whole stack (the real worker bundles its workflow code at start): minutes, not seconds, on a busy CI.
describe("the npm start supervisor", { timeout: 120_000 }, () => {
  it("serves, restarts a crashed child, and on SIGTERM stops the API, the worker and Temporal in that order, exiting 0 with nothing left behind", async () => {
    const supervisor = await startSupervisor([process.execPath, "infra/start.ts"]);
    await waitForHealthy(supervisor);
    // Announced once the API's /readyz answers 200.
    const ready = `GraphQL API ready at http://localhost:${supervisor.port}/graphql`;
    await waitForLog(supervisor, "supervisor", ready, 60_000);
    // A person is told, outside the JSON lines, where the generated ADMIN token is; the file is theirs only.
    const tokenFile = join(supervisor.dataDir, "admin-token");
    expect(supervisor.output()).toContain(`ADMIN token: in ${tokenFile}`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(tokenFile, "utf8").trim();
    expect(supervisor.output()).toContain(`ADMIN token (shown once): ${secret}`);
    expect(logLines(supervisor.output()).some((line) => JSON.stringify(line).includes(secret))).toBe(false);
    const pid = supervisor.process.pid ?? -1;
    expectFullTree(descendantsOf(pid));
    expect(existsSync(join(supervisor.dataDir, "temporal", "temporal.db"))).toBe(true);

    // A crashed child is restarted after a logged backoff (the API: it restarts faster than the
    // worker, which bundles the workflow code first).
    const isApi = (info: ProcessInfo): boolean => /services\/api\/main\.ts/.test(info.command);
    const crashed = descendantsOf(pid).find(isApi);
    expect(crashed).toBeDefined();
    process.kill(crashed?.pid ?? -1, "SIGKILL");
    await waitForLog(supervisor, "supervisor", "the api exited unexpectedly; restarting");
    const restartLog = logLines(supervisor.output()).find(
      (line) => line.msg === "the api exited unexpectedly; restarting",
    );
    expect(restartLog).toMatchObject({ child: "api", signal: "SIGKILL", restartInMs: 1000, attempt: 1 });
    await waitForLog(supervisor, "supervisor", ready, 60_000, 2);
    expect(
      descendantsOf(pid)
        .filter(isApi)
        .map((info) => info.pid),
    ).not.toContain(crashed?.pid);

    const tree = descendantsOf(pid);
    expectFullTree(tree);

    supervisor.process.kill("SIGTERM");
    expect(await supervisor.exit).toEqual({ code: 0, signal: null });
    expect(tree.filter(isAlive)).toEqual([]);

    const supervisorLines = logLines(supervisor.output()).filter((line) => line.service === "supervisor");
    const messages = supervisorLines.map((line) => String(line.msg));
    const stops = messages.filter((msg) => /^stopped( |$)/.test(msg));
    expect(stops).toEqual(["stopped the api", "stopped the worker", "stopped Temporal", "stopped"]);
  });

  it("stops everything when its parent goes: SIGTERM to `npm start` (npm runs it through sh)", async () => {
    const npm = await startSupervisor(["npm", "start", "--silent"]);
    await waitForHealthy(npm);
    const tree = descendantsOf(npm.process.pid ?? -1);
    expectFullTree(tree);
    expect(tree.map((info) => info.command)).toContainEqual(expect.stringMatching(/node infra\/start\.ts/));

    npm.process.kill("SIGTERM");
    await npm.exit;
    expect((await waitUntilGone(tree, 20_000)).map((info) => info.command)).toEqual([]);
  });

  it("a process-group SIGTERM (systemd, `kill -- -pgid`) stops everything in order, not as a second signal", async () => {
    // npm and the supervisor both get TERM, and npm forwards its own: the supervisor sees TERM twice at
    // once. That is one request to stop, not "kill everything now".
    const npm = await startSupervisor(["npm", "start", "--silent"], {}, { detached: true });
    await waitForHealthy(npm);
    const pgid = npm.process.pid ?? -1;
    const tree = descendantsOf(pgid);
    expectFullTree(tree);

    process.kill(-pgid, "SIGTERM");
    await npm.exit;
    expect((await waitUntilGone(tree, 30_000)).map((info) => info.command)).toEqual([]);
    const messages = logLines(npm.output())
      .filter((line) => line.service === "supervisor")
      .map((line) => String(line.msg));
    expect(messages).not.toContain("second signal: killing everything now");
    expect(messages.filter((msg) => /^stopped( |$)/.test(msg))).toEqual([
      "stopped the api",
      "stopped the worker",
      "stopped Temporal",
      "stopped",
    ]);
  });

  it("leaves no orphan when the supervisor itself is killed with SIGKILL", async () => {
    const supervisor = await startSupervisor([process.execPath, "infra/start.ts"]);
    await waitForHealthy(supervisor);
    const tree = descendantsOf(supervisor.process.pid ?? -1);
    expectFullTree(tree);

    supervisor.process.kill("SIGKILL");
    await supervisor.exit;
    expect((await waitUntilGone(tree, 20_000)).map((info) => info.command)).toEqual([]);
  });

  it("refuses to start with a clear message when the configuration is invalid", async () => {
    const supervisor = await startSupervisor([process.execPath, "infra/start.ts"], { PORT: "http", LOG_LEVEL: "loud" });
    expect(await supervisor.exit).toEqual({ code: 2, signal: null });
    expect(supervisor.output()).toContain('PORT must be an integer from 1 to 65535; got "http"');
    expect(supervisor.output()).toContain(
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "loud"',
    );
  });
});

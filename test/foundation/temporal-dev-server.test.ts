import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Client, Connection, WorkflowNotFoundError } from "@temporalio/client";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  resolveTemporalCli,
  startTemporalDevServer,
  TemporalDevServerError,
} from "../../services/platform/temporal-dev-server.ts";
import { isAlive, readProcess } from "../setup/processes.ts";
import {
  createTimeSkippingEnv,
  type DevServer,
  startFileBackedDevServer,
  temporalTestAddress,
} from "../setup/temporal.ts";

const dirs: string[] = [];
const servers: DevServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop(2_000)));
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDbFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "temporal-durability-"));
  dirs.push(dir);
  return join(dir, "nested", "temporal.db");
}

async function withClient<T>(address: string, namespace: string, use: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await use(new Client({ connection, namespace }));
  } finally {
    await connection.close();
  }
}

describe("the shared dev server of the test run", () => {
  it("answers on the injected address with the default namespace", async () => {
    const info = await withClient(temporalTestAddress(), "default", (client) =>
      client.workflowService.describeNamespace({ namespace: "default" }),
    );
    expect(info.namespaceInfo?.name).toBe("default");
    expect(process.env.TEMPORAL_TEST_ADDRESS).toBe(temporalTestAddress());
  });
});

describe("startTemporalDevServer", () => {
  it("keeps namespaces and workflow executions in its database file across a crash (kill -9) and restart", async () => {
    const dbFilename = tempDbFile();
    const first = await startFileBackedDevServer({ dbFilename, namespace: "durable-ns" });
    servers.push(first);
    expect(existsSync(dbFilename)).toBe(true);
    const started = await withClient(first.address, "durable-ns", (client) =>
      client.workflow.start("releaseThatNobodyRuns", {
        workflowId: "durability-check",
        taskQueue: "no-worker-polls-this",
        args: [{ feature: "checkout" }],
      }),
    );

    const exit = await first.kill();
    expect(exit.signal).toBe("SIGKILL");
    servers.splice(servers.indexOf(first), 1);

    // No --namespace this time: the namespace must come from the file, not from the command line.
    const second = await startFileBackedDevServer({ dbFilename, port: first.port });
    servers.push(second);
    expect(second.address).toBe(first.address);
    const description = await withClient(second.address, "durable-ns", (client) =>
      client.workflow.getHandle("durability-check").describe(),
    );
    expect(description.runId).toBe(started.firstExecutionRunId);
    expect(description.status.name).toBe("RUNNING");
    expect(description.type).toBe("releaseThatNobodyRuns");
    // …and describe() is not trivially successful:
    await expect(
      withClient(second.address, "durable-ns", (client) => client.workflow.getHandle("never-started").describe()),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it("stop() ends the server process and its guard, and frees the port", async () => {
    const server = await startFileBackedDevServer();
    const guard = readProcess(server.pid);
    expect(guard).toBeDefined();
    const exit = await server.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    if (guard !== undefined) expect(isAlive(guard)).toBe(false);
    const listener = createServer();
    await new Promise<void>((resolveListen, reject) => {
      listener.once("error", reject);
      listener.listen({ port: server.port, host: "127.0.0.1", exclusive: true }, resolveListen);
    });
    await new Promise((resolveClose) => listener.close(resolveClose));
  });

  it("refuses a port that is already taken, rather than mistaking another server for its own", async () => {
    const port = Number(temporalTestAddress().split(":").at(-1));
    await expect(startFileBackedDevServer({ port })).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${port}: the port is already in use`),
    );
  });

  it("fails with the tail of the server's output when the server exits during startup", async () => {
    const dbFilename = tempDbFile();
    mkdirSync(dirname(dbFilename), { recursive: true });
    writeFileSync(dbFilename, "this is not a SQLite database");
    const attempt = startFileBackedDevServer({ dbFilename });
    await expect(attempt).rejects.toBeInstanceOf(TemporalDevServerError);
    await expect(attempt).rejects.toThrow(
      /exited before it was ready \(exit code 1\)[\s\S]*last lines of its output ---\n.*file is not a database/,
    );
  });

  it("fails with a clear message when the CLI cannot be found", async () => {
    expect(() => resolveTemporalCli({ PATH: "/nonexistent" })).toThrow(
      /Temporal CLI was not found: set TEMPORAL_CLI_PATH or put `temporal` on PATH/,
    );
    const notExecutable = join(mkdtempSync(join(tmpdir(), "temporal-cli-")), "temporal");
    dirs.push(join(notExecutable, ".."));
    writeFileSync(notExecutable, "not a program");
    expect(() => resolveTemporalCli({ TEMPORAL_CLI_PATH: notExecutable })).toThrow(/is not an executable file/);
    await expect(
      startTemporalDevServer({ dbFilename: tempDbFile(), executable: "/nonexistent/temporal" }),
    ).rejects.toThrow(/exited before it was ready/);
  });
});

describe("createTimeSkippingEnv", () => {
  it("runs the bootstrapped time-skipping server, which skips a day in well under a second", async () => {
    const env = await createTimeSkippingEnv();
    try {
      expect(env.supportsTimeSkipping).toBe(true);
      const before = await env.currentTimeMs();
      const wallClock = Date.now();
      await env.sleep("1 day");
      expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(24 * 60 * 60 * 1000);
      expect(Date.now() - wallClock).toBeLessThan(5_000);
    } finally {
      await env.teardown();
    }
  });
});

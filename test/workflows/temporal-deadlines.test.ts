// Every call to Temporal has a deadline: with the server frozen (SIGSTOP: the connection stays open and
// nothing answers), a start, an action and a signal fail within their deadline instead of hanging, and
// once the server resumes the same calls succeed.

import { Client, Connection } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReleaseAction, signalReleaseAction, startReleaseWorkflow } from "../../workflows/client.ts";
import { type DevServer, startFileBackedDevServer } from "../setup/temporal.ts";

let server: DevServer;
let connection: Connection;
let client: Client;
let frozen = false;

const freeze = (signal: "SIGSTOP" | "SIGCONT"): void => {
  // The guard leads the server's process group: the whole group stops and resumes.
  process.kill(-server.pid, signal);
  frozen = signal === "SIGSTOP";
};

beforeAll(async () => {
  server = await startFileBackedDevServer();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
}, 60_000);

afterAll(async () => {
  if (frozen) freeze("SIGCONT");
  await connection?.close();
  await server?.stop();
});

async function settlesWithin<T>(call: Promise<T>): Promise<{ ms: number; outcome: "resolved" | "rejected" }> {
  const startedAt = Date.now();
  const outcome = await call.then(
    () => "resolved" as const,
    () => "rejected" as const,
  );
  return { ms: Date.now() - startedAt, outcome };
}

describe("Temporal calls have deadlines", { timeout: 60_000 }, () => {
  it("with the server frozen, start, action and signal fail within their deadline; once it resumes they work", async () => {
    // Connected and warmed up before the freeze.
    await client.workflowService.getSystemInfo({});
    freeze("SIGSTOP");
    const deadlineMs = 1_500;
    // Well under the 45 s a frozen server used to hold a mutation; the margin is for a loaded machine.
    const bound = deadlineMs + 5_000;
    const start = await settlesWithin(startReleaseWorkflow(client, "frozen.1", { taskQueue: "nobody", deadlineMs }));
    expect(start.outcome).toBe("rejected");
    expect(start.ms).toBeLessThan(bound);
    const action = await settlesWithin(
      runReleaseAction(
        client,
        "frozen.1",
        "pause",
        {
          actor: { name: "someone", role: "EDITOR" },
          phaseIndex: null,
          comment: null,
          reason: null,
          correlationId: "c",
        },
        { updateId: "u-1", deadlineMs },
      ),
    );
    expect(action.outcome).toBe("rejected");
    expect(action.ms).toBeLessThan(bound);
    const signal = await settlesWithin(
      signalReleaseAction(
        client,
        "frozen.1",
        "approve",
        { actor: { name: "someone", role: "APPROVER" } },
        { deadlineMs },
      ),
    );
    expect(signal.outcome).toBe("rejected");
    expect(signal.ms).toBeLessThan(bound);

    freeze("SIGCONT");
    // The server answers again: the start goes through (no worker polls this queue; starting is enough).
    const handle = await startReleaseWorkflow(client, "frozen.1", { taskQueue: "nobody", deadlineMs: 10_000 });
    expect((await handle.describe()).status.name).toBe("RUNNING");
    await handle.terminate("test over");
  });
});

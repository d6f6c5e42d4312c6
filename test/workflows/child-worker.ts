// The real worker process (`node workflows/worker.ts`) as a child of the test, so a test can kill -9 it.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "../setup/binaries.ts";

export interface ChildWorker {
  readonly pid: number;
  /** The last lines it printed (for failure messages). */
  readonly output: string[];
  /** SIGKILL: a crash, nothing cleaned up. */
  kill(): Promise<void>;
  /** SIGTERM: graceful shutdown; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface ChildWorkerOptions {
  temporalAddress: string;
  dataDir: string;
  taskQueue: string;
  /** A bundle written to a file, so the child does not bundle again. */
  bundlePath: string;
  readyTimeoutMs?: number;
}

/** Starts the worker and resolves once it logged "worker ready". */
export async function startChildWorker(options: ChildWorkerOptions): Promise<ChildWorker> {
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, "workflows", "worker.ts")], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      DATA_DIR: options.dataDir,
      WORKFLOW_BUNDLE_PATH: options.bundlePath,
      LOG_LEVEL: "info",
      EVENTSTORE_CONNECTION_STRING: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not spawn the worker");
  const output: string[] = [];
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker not ready in time:\n${output.join("\n")}`)),
      options.readyTimeoutMs ?? 30_000,
    );
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on("line", (line) => {
        output.push(line);
        if (output.length > 200) output.shift();
        if (line.includes('"msg":"worker ready"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`worker exited before it was ready (${signal ?? code}):\n${output.join("\n")}`));
    }, reject);
  });
  try {
    await ready;
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    pid,
    output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const [code] = await exited;
      return code;
    },
  };
}

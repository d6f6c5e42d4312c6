// The client side of bench/serving.ts, in its own thread (its own event loop, another core):
//   { kind: "load", ... }     50 keep-alive HTTP clients hammering GET /sdk/v1/config for a while;
//   { kind: "streams", ... }  1,000 SDK clients (createClient, streaming), which report when each one
//                             first evaluates the expected value after a round starts.

import { Agent, request } from "node:http";
import { parentPort, workerData } from "node:worker_threads";
import { createClient, type ReleasePipelinesClient } from "../sdk/index.ts";

interface LoadJob {
  kind: "load";
  baseUrl: string;
  sdkKey: string;
  concurrency: number;
  durationMs: number;
  headers: Record<string, string>;
  expectStatus: number;
}

interface StreamsJob {
  kind: "streams";
  baseUrl: string;
  sdkKey: string;
  count: number;
  featureKey: string;
  unit: { id: string; attributes: Record<string, unknown> };
}

const port = parentPort;
if (port === null) throw new Error("bench/serving-worker.ts runs as a worker thread");
const now = (): number => performance.timeOrigin + performance.now();

async function load(job: LoadJob): Promise<void> {
  const url = new URL(`${job.baseUrl}/sdk/v1/config`);
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const headers = { authorization: `Bearer ${job.sdkKey}`, ...job.headers };
  let done = 0;
  let wrong = 0;
  const deadline = Date.now() + job.durationMs;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: "GET", headers, agent },
        (res) => {
          if (res.statusCode !== job.expectStatus) wrong++;
          res.on("data", () => {});
          res.on("end", resolve);
        },
      );
      req.on("error", reject);
      req.end();
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (Date.now() < deadline) {
        await one();
        done++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  port?.postMessage({ kind: "load", requests: done, seconds, wrong });
}

async function streams(job: StreamsJob): Promise<void> {
  const clients: ReleasePipelinesClient[] = [];
  for (let i = 0; i < job.count; i++) {
    clients.push(createClient({ baseUrl: job.baseUrl, sdkKey: job.sdkKey, logger: { warn: () => {} } }));
  }
  await Promise.all(clients.map((client) => client.ready(120_000)));
  // When each client first evaluated its current value (so a change that beats the round's start, e.g.
  // one that arrives before the mutation's answer, keeps its real time).
  const values = clients.map((client) => client.evaluate(job.featureKey, job.unit).enabled);
  const since = clients.map(() => now());
  let round: { id: number; expected: boolean; times: (number | null)[]; left: number } | null = null;
  const record = (index: number): void => {
    if (round === null || round.times[index] !== null || values[index] !== round.expected) return;
    round.times[index] = since[index] as number;
    round.left--;
    if (round.left === 0) {
      port?.postMessage({ kind: "round", id: round.id, times: round.times });
      round = null;
    }
  };
  clients.forEach((client, index) => {
    client.on("change", () => {
      const value = client.evaluate(job.featureKey, job.unit).enabled;
      if (value !== values[index]) {
        values[index] = value;
        since[index] = now();
      }
      record(index);
    });
  });
  port?.on("message", (message: { kind: string; id?: number; expected?: boolean }) => {
    if (message.kind === "round") {
      round = {
        id: message.id as number,
        expected: message.expected as boolean,
        times: clients.map(() => null),
        left: clients.length,
      };
      // Clients that have it already (the change can beat the mutation's answer).
      for (let index = 0; index < clients.length; index++) record(index);
    } else if (message.kind === "close") {
      void Promise.all(clients.map((client) => client.close())).then(() => port?.postMessage({ kind: "closed" }));
    }
  });
  port?.postMessage({ kind: "ready", connected: clients.filter((c) => c.status === "READY").length });
}

const job = workerData as LoadJob | StreamsJob;
(job.kind === "load" ? load(job) : streams(job)).catch((error: unknown) => {
  port?.postMessage({
    kind: "error",
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
});

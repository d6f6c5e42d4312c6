// API benchmark: `npm run bench:api` (SUBSCRIBERS=100, ACTIONS=40, MUTATIONS=400, CONCURRENCY=20).
// On the embedded defaults: its own temp DATA_DIR (embedded store), its own Temporal dev server (or
// TEMPORAL_ADDRESS), one in-process worker, and the API built by buildApp on a free port, as `npm start`
// wires it. SUBSCRIBERS graphql-ws clients (one WebSocket each) subscribe to `releaseUpdated` of one
// release whose phase bakes for an hour; ACTIONS pause/unpause mutations are then sent one after the other,
// and for each one every subscriber's delay from sending the mutation to receiving the state it produced is
// recorded (p50/p99 over all subscribers and actions). Then MUTATIONS createFeature mutations run with
// CONCURRENCY in flight, for the mutation throughput. The last line is one JSON object with the numbers.

import { performance } from "node:perf_hooks";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { startBenchStack } from "./stack.ts";

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 100);
const ACTIONS = Number(process.env.ACTIONS ?? 40);
const MUTATIONS = Number(process.env.MUTATIONS ?? 400);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 20);
const TASK_QUEUE = "bench-api";

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

const round = (value: number): number => Math.round(value * 100) / 100;

async function main(): Promise<void> {
  const stack = await startBenchStack("api", TASK_QUEUE);
  const { url, token, address, dataDir } = stack;
  say(`API at ${url}, Temporal at ${address}, data in ${dataDir}`);

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    if (body.errors?.length || body.data === undefined) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };

  // A release that stays in its first phase's hour-long bake: pause and unpause toggle it.
  const { createProject } = await gql<{ createProject: { id: string } }>(
    `mutation { createProject(input: { name: "Bench", environments: ["staging", "production"] }) { id } }`,
  );
  const projectId = createProject.id;
  const { createPipeline } = await gql<{ createPipeline: { id: string } }>(
    `mutation($p: ID!) { createPipeline(input: { projectId: $p, name: "bake", phases: [{ name: "staging", waitFor: "PT1H", targets: [{ environment: "staging" }] }] }) { id } }`,
    { p: projectId },
  );
  await gql(`mutation($id: ID!) { publishPipeline(id: $id) { id } }`, { id: createPipeline.id });
  const { createFeature } = await gql<{ createFeature: { id: string } }>(
    `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "bench-gate", kind: GATE, pipelineId: $pl }) { id } }`,
    { p: projectId, pl: createPipeline.id },
  );
  const { startRelease } = await gql<{ startRelease: { id: string; version: number } }>(
    `mutation($f: ID!) { startRelease(featureId: $f) { id version } }`,
    { f: createFeature.id },
  );
  const releaseId = startRelease.id;

  // SUBSCRIBERS WebSockets, one releaseUpdated subscription each.
  const wsUrl = url.replace(/^http/, "ws");
  const arrivals: Map<number, number>[] = [];
  const sockets = [];
  const subscribed: Promise<void>[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const seen = new Map<number, number>();
    arrivals.push(seen);
    const socket = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { token },
    });
    sockets.push(socket);
    subscribed.push(
      new Promise<void>((resolve, reject) => {
        socket.subscribe(
          {
            query: `subscription($id: ID!) { releaseUpdated(id: $id) { version status } }`,
            variables: { id: releaseId },
          },
          {
            next: (message) => {
              const version = (message.data as { releaseUpdated?: { version: number } } | undefined)?.releaseUpdated
                ?.version;
              if (version !== undefined && !seen.has(version)) seen.set(version, performance.now());
              resolve();
            },
            error: reject,
            complete: () => {},
          },
        );
      }),
    );
  }
  await Promise.all(subscribed);
  say(`${SUBSCRIBERS} subscribers on releaseUpdated(${releaseId})`);

  const latencies: number[] = [];
  const waitForAll = (version: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const deadline = performance.now() + 10_000;
      const check = () => {
        if (arrivals.every((seen) => seen.has(version))) resolve();
        else if (performance.now() > deadline) reject(new Error(`version ${version} did not reach every subscriber`));
        else setTimeout(check, 1);
      };
      check();
    });
  for (let i = 0; i < ACTIONS; i++) {
    const mutation = i % 2 === 0 ? "pauseRelease" : "unpauseRelease";
    const sent = performance.now();
    const answer = await gql<Record<string, { version: number }>>(
      `mutation($id: ID!) { ${mutation}(id: $id) { version } }`,
      { id: releaseId },
    );
    const version = answer[mutation]?.version as number;
    await waitForAll(version);
    for (const seen of arrivals) latencies.push((seen.get(version) as number) - sent);
  }
  latencies.sort((a, b) => a - b);
  const p50 = round(percentile(latencies, 50));
  const p99 = round(percentile(latencies, 99));
  say(`action → event over ${ACTIONS} actions × ${SUBSCRIBERS} subscribers: p50 ${p50} ms, p99 ${p99} ms`);

  // Mutation throughput: createFeature with CONCURRENCY in flight.
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const index = next++;
        if (index >= MUTATIONS) return;
        await gql(
          `mutation($p: ID!, $k: String!) { createFeature(input: { projectId: $p, key: $k, kind: GATE }) { id } }`,
          {
            p: projectId,
            k: `feature-${index}`,
          },
        );
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const mutationsPerSec = round(MUTATIONS / seconds);
  say(`${MUTATIONS} createFeature mutations (${CONCURRENCY} in flight) in ${round(seconds)} s: ${mutationsPerSec}/s`);

  for (const socket of sockets) await socket.dispose();
  await stack.close();

  say(
    JSON.stringify({
      subscribers: SUBSCRIBERS,
      actionToEventP50Ms: p50,
      actionToEventP99Ms: p99,
      mutationsPerSec,
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:api failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

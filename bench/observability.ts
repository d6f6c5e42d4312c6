// Observability overhead: `npm run bench:observability` (MUTATIONS=2000, CONCURRENCY=20, ROUNDS=3).
// What metrics and traces cost a write: createFeature mutations (load → decide → append → read-your-writes)
// through the API's fetch handler in process — no network, so the overhead shows at its largest — in
// three configurations, alternated ROUNDS times on the same embedded store so neighbours on the machine
// weigh on each alike:
//   plain    the store as is, tracing off (the HTTP/GraphQL metrics plugin is always on);
//   metrics  the store instrumented (append histogram, spans that go nowhere), tracing off;
//   traced   the same with an OpenTelemetry provider exporting every span (batch processor, in-memory).
// Prints mutations/s per configuration (median of rounds) and each one's ratio to `plain`; the last line
// is one JSON object.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Client } from "@temporalio/client";
import { buildApp } from "../services/api/app.ts";
import { ensureAdminToken } from "../services/api/auth.ts";
import { createAuditIndex } from "../services/audit/audit-index.ts";
import { createEventStore } from "../services/event-store/create-event-store.ts";
import { instrumentEventStore } from "../services/event-store/instrumented.ts";
import type { EventStore } from "../services/event-store/port.ts";
import { createLogger } from "../services/platform/logger.ts";
import { createMetrics } from "../services/platform/metrics.ts";
import { startTracing } from "../services/platform/tracing.ts";
import { createReadModels } from "../services/projections/read-models.ts";
import { startProjections } from "../services/projections/runner.ts";

const MUTATIONS = Number(process.env.MUTATIONS ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 20);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const round = (value: number): number => Math.round(value * 100) / 100;

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-observability-"));
  const rawStore = await createEventStore({ dataDir, connectionString: "" });
  const metrics = createMetrics();
  const instrumented = instrumentEventStore(rawStore, metrics);
  const readModels = createReadModels();
  const audit = createAuditIndex({ store: rawStore });
  const runner = startProjections({ store: rawStore, readModels, audit });
  await runner.ready;
  const bootstrap = await ensureAdminToken({ store: rawStore, readModels, runner, print: () => {} });
  const adminToken = bootstrap.secret ?? "";
  const logger = createLogger("test", { level: "error", format: "json" });
  const appFor = (store: EventStore) =>
    buildApp({
      store,
      temporal: { client: {} as Client },
      readModels,
      runner,
      audit,
      logger,
      metrics,
      options: { rateLimit: false, graphiql: false },
    });
  const plainApp = appFor(rawStore);
  const instrumentedApp = appFor(instrumented);

  const gql = async (app: ReturnType<typeof appFor>, query: string, variables: Record<string, unknown>) => {
    const response = await app.fetch(
      new Request("http://bench/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ query, variables }),
      }),
    );
    const body = (await response.json()) as { data?: Record<string, { id: string }>; errors?: unknown };
    if (body.errors !== undefined) throw new Error(JSON.stringify(body.errors));
    return body.data as Record<string, { id: string }>;
  };
  const project = await gql(
    plainApp,
    /* GraphQL */ `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`,
    { input: { name: "Bench", environments: ["development", "staging", "production"] } },
  );
  const projectId = project.createProject?.id;

  let key = 0;
  async function run(app: ReturnType<typeof appFor>): Promise<number> {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < MUTATIONS) {
          next++;
          key++;
          await gql(
            app,
            /* GraphQL */ `mutation CreateGate($p: ID!, $k: String!) { createFeature(input: { projectId: $p, key: $k, kind: GATE }) { id } }`,
            { p: projectId, k: `gate-${key}` },
          );
        }
      }),
    );
    return MUTATIONS / ((performance.now() - started) / 1000);
  }

  const results: Record<"plain" | "metrics" | "traced", number[]> = { plain: [], metrics: [], traced: [] };
  let spans = 0;
  await run(plainApp); // warm-up: JIT, SQLite page cache
  const configurations = {
    plain: () => run(plainApp),
    metrics: () => run(instrumentedApp),
    traced: async () => {
      const exporter = new InMemorySpanExporter();
      // A queue large enough that no span is dropped: every span of every mutation is exported.
      const processor = new BatchSpanProcessor(exporter, { maxQueueSize: 1_000_000, maxExportBatchSize: 1024 });
      const tracing = startTracing({ service: "bench", spanProcessor: processor });
      const perSecond = await run(instrumentedApp);
      await tracing?.provider.forceFlush();
      spans += exporter.getFinishedSpans().length;
      await tracing?.shutdown();
      return perSecond;
    },
  };
  const order = ["plain", "metrics", "traced"] as const;
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
    // Each round starts with the next configuration: a store and read models that grow favour none.
    for (let step = 0; step < order.length; step++) {
      const name = order[(roundIndex + step) % order.length] as (typeof order)[number];
      results[name].push(await configurations[name]());
    }
  }

  const summary = {
    mutations: MUTATIONS,
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    plainPerSecond: round(median(results.plain)),
    metricsPerSecond: round(median(results.metrics)),
    tracedPerSecond: round(median(results.traced)),
    metricsRatio: round(median(results.metrics) / median(results.plain)),
    tracedRatio: round(median(results.traced) / median(results.plain)),
    spansPerMutation: round(spans / (MUTATIONS * ROUNDS)),
  };
  say(`plain:   ${summary.plainPerSecond} mutations/s (rounds: ${results.plain.map(round).join(", ")})`);
  say(
    `metrics: ${summary.metricsPerSecond} mutations/s (rounds: ${results.metrics.map(round).join(", ")}), ratio ${summary.metricsRatio} to plain`,
  );
  say(
    `traced:  ${summary.tracedPerSecond} mutations/s, ratio ${summary.tracedRatio} to plain, ${summary.spansPerMutation} spans per mutation`,
  );
  say(JSON.stringify(summary));

  await plainApp.stop();
  await instrumentedApp.stop();
  await runner.close();
  audit.close();
  await rawStore.close();
  await rm(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

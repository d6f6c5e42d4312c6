// Limits benchmark: `npm run bench:limits` (REQUESTS=200). The API built by buildApp on a free port over a
// temp embedded store (no Temporal: nothing here starts a release), with one feature of 601 events. For each
// abusive request of issue 17 — 300 aliased featureAsOf, 25 aliased __schema fragments, a 5,000-deep JSON
// literal, nested pages priced through a variable — REQUESTS are sent one after the other and their latency
// and the event loop's delay (monitorEventLoopDelay) are recorded, against the same for a reference query
// (`{ viewer { role } }`) measured in the same run. Also: a 500-event auditLog page with every field.
// The last line is one JSON object with the numbers.

import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { buildApp } from "../services/api/app.ts";
import { ensureAdminToken } from "../services/api/auth.ts";
import { createAuditIndex } from "../services/audit/audit-index.ts";
import { streams } from "../services/core/streams.ts";
import { createEventStore } from "../services/event-store/create-event-store.ts";
import { createLogger } from "../services/platform/logger.ts";
import { createReadModels } from "../services/projections/read-models.ts";
import { startProjections } from "../services/projections/runner.ts";

const REQUESTS = Number(process.env.REQUESTS ?? 200);

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
  const logger = createLogger("test", { level: "silent" });
  const dataDir = await mkdtemp(join(tmpdir(), "bench-limits-"));
  const store = await createEventStore({ dataDir, connectionString: "" });
  const readModels = createReadModels();
  const audit = createAuditIndex({ store });
  const runner = startProjections({ store, readModels, audit });
  await runner.ready;
  const secret = (await ensureAdminToken({ store, readModels, runner, print: () => {} })).secret ?? "";
  const app = buildApp({
    store,
    readModels,
    runner,
    audit,
    logger,
    temporal: { client: {} as never },
    options: { rateLimit: false },
  });
  const { url } = await app.start(0);
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, text: await response.text() };
  };

  const project = JSON.parse(
    (await gql(`mutation { createProject(input: { name: "B", environments: ["development"] }) { id } }`)).text,
  ).data.createProject.id as string;
  const feature = JSON.parse(
    (
      await gql(`mutation($p: ID!) { createFeature(input: { projectId: $p, key: "f", kind: GATE }) { id } }`, {
        p: project,
      })
    ).text,
  ).data.createFeature.id as string;
  const at = new Date().toISOString();
  await store.append(
    streams.feature(feature),
    Array.from({ length: 600 }, (_, i) => ({
      id: randomUUID(),
      type: "FeatureUpdated",
      data: { featureId: feature, description: `d${i}`, environments: [], cause: "DIRECT", releaseId: null, at },
      metadata: {
        actor: "admin",
        occurredAt: at,
        correlationId: randomUUID(),
        causationId: null,
        schemaVersion: 1,
        projectId: project,
      },
    })),
    "any",
  );
  const head = await store.headPosition();
  if (head !== null) await runner.waitFor(head);

  const aliases = Array.from(
    { length: 300 },
    (_, i) =>
      `a${i}: featureAsOf(id: "${feature}", at: "${new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()}") { id }`,
  ).join(" ");
  const schema = `{ ${Array.from({ length: 25 }, (_, i) => `s${i}: __schema { ...All }`).join(" ")} } fragment All on __Schema { types { name fields { name args { name type { name } } type { name ofType { name } } } } }`;
  const cases: Record<string, () => Promise<{ status: number; text: string }>> = {
    reference: () => gql(`{ viewer { role } }`),
    aliasedFeatureAsOf: () => gql(`{ ${aliases} }`),
    aliasedIntrospection: () => gql(schema),
    deepJsonLiteral: () =>
      gql(
        `mutation { createFeature(input: { projectId: "${project}", key: "deep", kind: DYNAMIC_CONFIG, environments: [{ environment: "development", definition: { enabled: true, value: ${"[".repeat(5_000)}1${"]".repeat(5_000)} } }] }) { id } }`,
      ),
    nestedPagesByVariable: () =>
      gql(`query($n: Int) { projects { features { history(first: $n) { edges { node { position type data } } } } } }`, {
        n: 500,
      }),
    auditPage500: () =>
      gql(
        `{ auditLog(first: 500) { edges { cursor node { position type stream entityId projectId actor at data } } } }`,
      ),
  };

  const results: Record<string, unknown> = {};
  for (const [name, send] of Object.entries(cases)) {
    const lag = monitorEventLoopDelay({ resolution: 1 });
    const latencies: number[] = [];
    let bytes = 0;
    let code = "";
    lag.enable();
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      const answer = await send();
      latencies.push(performance.now() - started);
      bytes = answer.text.length;
      code = /"code":"([A-Z_]+)"/.exec(answer.text)?.[1] ?? "ok";
    }
    lag.disable();
    latencies.sort((a, b) => a - b);
    results[name] = {
      code,
      answerBytes: bytes,
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      loopDelayP99Ms: round(lag.percentile(99) / 1e6),
      loopDelayMaxMs: round(lag.max / 1e6),
    };
    say(`${name}: ${JSON.stringify(results[name])}`);
  }
  const reference = results.reference as { p50Ms: number };
  const ratios = Object.fromEntries(
    Object.entries(results).map(([name, r]) => [name, round((r as { p50Ms: number }).p50Ms / reference.p50Ms)]),
  );
  await app.stop();
  await runner.close();
  audit.close();
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
  say(JSON.stringify({ requests: REQUESTS, results, p50RatioToReference: ratios }));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

// Scale benchmark (issue 19): the REAL API process (services/api/main.ts, as `npm run api` runs it) on a
// large log. Generates EVENTS (default 1,000,000) events through the real deciders and append path into an
// embedded store in a data directory (bench/generate-log.ts, in a child process), then measures the API
// spawned on that DATA_DIR with its own ADMIN_TOKEN and a Temporal dev server on a free port (or
// TEMPORAL_ADDRESS):
//   - coldBuildMs: spawn → GET /readyz answers 200, with no projections persisted (DATA_DIR/projections removed);
//   - rebuildEventsPerSec: events / the catch-up time the API logs ("read models caught up" {events, ms});
//   - warmRestartMs: SIGTERM, exit, spawn again → ready, with the projections the first start left;
//   - QUERIES (default 1,000) mixed GraphQL queries over loopback HTTP with the ADMIN token: auditLog first
//     pages, deep pages (cursors past the middle of the log), filtered by project / types / actor,
//     Feature.history and featureAsOf of a feature with 10,000 events (at random positions of its stream),
//     project, feature and release lists, evaluate; client-measured latency per kind (p50, p99);
//   - rssMb: the API process's peak resident memory (VmHWM) after ready and after the queries (the max).
// The queries are paced under the API's default rate limit (50/s per token), one at a time.
// Progress goes to stderr; stdout gets ONE JSON line. Targets at 1M events (issue 19): warmRestartMs ≤ 2,000,
// rssMb ≤ 512, auditLog pages p99 < 20 ms, featureAsOf p99 < 50 ms, rebuild ≥ 100,000 events/s.
//
//   npm run bench:scale                                 # 1,000,000 events
//   EVENTS=20000 npm run bench:scale                    # quicker
//   BENCH_KEEP=/tmp/scale-1m npm run bench:scale        # keep (and on the next run reuse) the log there

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { streams } from "../services/core/streams.ts";
import { createSqliteEventStore, formatSqlitePosition } from "../services/event-store/sqlite/sqlite-event-store.ts";
import { createLogger } from "../services/platform/logger.ts";
import { getFreePort, startTemporalDevServer } from "../services/platform/temporal-dev-server.ts";
import { prng } from "../services/projections/testing/simulation.ts";
import { BENCH_INFO_FILE, DEFAULT_SEED, type GeneratedLog } from "./generate-log.ts";

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const SEED = Number(process.env.SEED ?? DEFAULT_SEED);
const QUERIES = Number(process.env.QUERIES ?? 1_000);
/** Under the API's default rate limit (services/api/limits.ts: 50/s, burst 100 per token). */
const QUERIES_PER_SECOND = 45;
const MAIN = fileURLToPath(new URL("../services/api/main.ts", import.meta.url));
const GENERATOR = fileURLToPath(new URL("./generate-log.ts", import.meta.url));

const log = (message: string) => process.stderr.write(`${message}\n`);
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const percentile = (samples: readonly number[], p: number): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? Number.NaN;
};

// ---- the API process -----------------------------------------------------------------------------------

interface ApiProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  /** spawn → /readyz 200. */
  readyMs: number;
  /** The fields of its "read models caught up" log line. */
  caughtUp: Record<string, unknown>;
  exited: Promise<number | null>;
}

interface ApiSettings {
  dataDir: string;
  adminToken: string;
  temporalAddress: string;
  /** How long a start may take (a cold start at 10M events replays the whole log). */
  readyTimeoutMs: number;
}

async function startApi(settings: ApiSettings): Promise<ApiProcess> {
  const port = await getFreePort();
  const started = performance.now();
  // The projections live in their default place, DATA_DIR/projections, which the cold start removes.
  const { PROJECTIONS_DIR: _projectionsDir, ...inherited } = process.env;
  const child = spawn(process.execPath, [...process.execArgv, MAIN], {
    env: {
      ...inherited,
      PORT: String(port),
      DATA_DIR: settings.dataDir,
      ADMIN_TOKEN: settings.adminToken,
      TEMPORAL_ADDRESS: settings.temporalAddress,
      EVENTSTORE_CONNECTION_STRING: "",
      METRICS_PORT: "",
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not spawn the API process");
  const tail: string[] = [];
  let caughtUp: Record<string, unknown> | undefined;
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
    if (!line.startsWith("{")) return;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === "read models caught up") caughtUp = entry;
      else if (typeof entry.level === "number" && entry.level >= 50) log(`  api: ${line}`);
    } catch {
      // not a log line of ours
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    });
  }
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      exitCode = code ?? (signal === null ? null : -1);
      resolve(code);
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`the API exited (${exitCode}) before it was ready; its last lines:\n${tail.join("\n")}`);
    }
    if (performance.now() - started > settings.readyTimeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`the API was not ready after ${settings.readyTimeoutMs} ms; its last lines:\n${tail.join("\n")}`);
    }
    const ready = await fetch(`${base}/readyz`).then(
      async (response) => {
        await response.arrayBuffer();
        return response.status === 200;
      },
      () => false,
    );
    if (ready) break;
    await sleep(10);
  }
  const readyMs = performance.now() - started;
  const line = caughtUp as Record<string, unknown> | undefined;
  if (line === undefined)
    throw new Error(`the API was ready without logging "read models caught up":\n${tail.join("\n")}`);
  const fields = Object.fromEntries(
    Object.entries(line).filter(
      ([key]) => !["level", "time", "pid", "hostname", "msg", "name", "service"].includes(key),
    ),
  );
  return { child, pid, url: `${base}/graphql`, readyMs, caughtUp: fields, exited };
}

async function stopApi(api: ApiProcess): Promise<void> {
  if (api.child.exitCode !== null || api.child.signalCode !== null) return;
  api.child.kill("SIGTERM");
  const timer = setTimeout(() => api.child.kill("SIGKILL"), 30_000);
  await api.exited;
  clearTimeout(timer);
}

/** VmHWM (peak resident set) and VmRSS of a process, in MB. */
async function memoryOf(pid: number): Promise<{ peakMb: number; rssMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { peakMb: round(kb("VmHWM") / 1024), rssMb: round(kb("VmRSS") / 1024) };
}

// ---- GraphQL over HTTP ------------------------------------------------------------------------------------

class GraphqlClient {
  readonly #url: string;
  readonly #token: string;
  #nextStart = 0;
  rateLimited = 0;

  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  /** One query, sent no sooner than the pace allows; returns its data and the client-measured latency. */
  async timed<T>(query: string, variables: Record<string, unknown> = {}): Promise<{ data: T; ms: number }> {
    for (;;) {
      const wait = this.#nextStart - performance.now();
      if (wait > 0) await sleep(wait);
      this.#nextStart = performance.now() + 1000 / QUERIES_PER_SECOND;
      const started = performance.now();
      const response = await fetch(this.#url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.#token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: unknown }[] };
      const ms = performance.now() - started;
      if (response.status === 429) {
        // Not a sample: the pace is under the limit, but another client of the token may share it.
        this.rateLimited++;
        await sleep(1000 * Math.max(1, Number(response.headers.get("retry-after") ?? 1)));
        continue;
      }
      if (body.errors !== undefined || body.data === undefined) {
        throw new Error(`GraphQL error (${response.status}) for ${query.slice(0, 80)}: ${JSON.stringify(body.errors)}`);
      }
      return { data: body.data, ms };
    }
  }
}

const AUDIT_PAGE = `query AuditPage($filter: AuditFilter, $after: String, $order: SortOrder) {
  auditLog(filter: $filter, first: 50, after: $after, order: $order) {
    edges { cursor node { id position type stream entityId projectId actor at data } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const HISTORY = `query History($id: ID!, $after: String) {
  feature(id: $id) { id history(first: 50, after: $after) { edges { node { position type actor at data } } pageInfo { hasNextPage endCursor } } }
}`;
const FEATURE_AS_OF = `query AsOf($id: ID!, $position: String) {
  featureAsOf(id: $id, position: $position) {
    id key kind version description
    environments { environment definition { enabled value rules { segment enabled value rolloutPercentage } } }
  }
}`;
const FEATURE = `query Feature($id: ID!) {
  feature(id: $id) {
    id key kind version pipeline { id name }
    environments { environment definition { enabled value rules { segment rolloutPercentage } } rolledOutTargets { environment segment } }
    activeRelease { id status }
  }
}`;
const PROJECTS = "{ projects { id name environments segments { key } } }";
const PROJECT_FEATURES = `query Features($id: ID!) {
  project(id: $id) { id features { id key kind version pipeline { id } activeRelease { id status } } }
}`;
const PROJECT_RELEASES = `query Releases($id: ID!, $status: ReleaseStatus) {
  project(id: $id) { id releases(status: $status) { id status startedBy startedAt endedAt currentPhaseIndex feature { key } } }
}`;
const EVALUATE = `query Evaluate($projectId: ID!, $key: String!, $environment: String!, $unit: UnitInput!) {
  evaluate(projectId: $projectId, featureKey: $key, environment: $environment, unit: $unit) { enabled value reason }
}`;
const CATALOGUE = "{ projects { id environments features { key } } }";

type Kind =
  | "auditFirstPage"
  | "auditDeepPage"
  | "auditByProject"
  | "auditByTypes"
  | "auditByActor"
  | "featureHistory"
  | "featureAsOf"
  | "feature"
  | "projects"
  | "projectFeatures"
  | "projectReleases"
  | "evaluate";

/** Share of each kind in the mix (per 1,000). */
const MIX: Record<Kind, number> = {
  auditFirstPage: 200,
  auditDeepPage: 200,
  auditByProject: 50,
  auditByTypes: 50,
  auditByActor: 50,
  featureHistory: 50,
  featureAsOf: 200,
  feature: 25,
  projects: 25,
  projectFeatures: 25,
  projectReleases: 25,
  evaluate: 100,
};

interface Catalogue {
  projects: { id: string; environments: string[]; features: { key: string }[] }[];
}

async function runQueries(
  client: GraphqlClient,
  options: { total: number; hotFeatureId: string; hotPositions: readonly string[]; count: number },
): Promise<Record<Kind, number[]>> {
  const random = prng(SEED + 19);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const { data: catalogue } = await client.timed<Catalogue>(CATALOGUE);
  const projects = catalogue.projects.filter((project) => project.features.length > 0);
  if (projects.length === 0) throw new Error("the log has no project with features");
  const middle = Math.floor(options.total / 2);
  const deepCursor = () =>
    formatSqlitePosition(middle + Math.floor(random() * Math.max(1, options.total - middle - 100)));

  const run: Record<Kind, () => Promise<number>> = {
    auditFirstPage: async () => (await client.timed(AUDIT_PAGE)).ms,
    auditDeepPage: async () => (await client.timed(AUDIT_PAGE, { after: deepCursor() })).ms,
    auditByProject: async () =>
      (await client.timed(AUDIT_PAGE, { filter: { projectId: pick(projects).id }, after: deepCursor() })).ms,
    auditByTypes: async () =>
      (
        await client.timed(AUDIT_PAGE, {
          filter: { types: ["ReleasePhaseApproved", "ReleaseAborted"] },
          after: deepCursor(),
        })
      ).ms,
    auditByActor: async () => (await client.timed(AUDIT_PAGE, { filter: { actor: pick(["carol", "dave"]) } })).ms,
    featureHistory: async () =>
      (
        await client.timed(HISTORY, {
          id: options.hotFeatureId,
          after: random() < 0.5 ? null : pick(options.hotPositions),
        })
      ).ms,
    featureAsOf: async () =>
      (await client.timed(FEATURE_AS_OF, { id: options.hotFeatureId, position: pick(options.hotPositions) })).ms,
    feature: async () => (await client.timed(FEATURE, { id: options.hotFeatureId })).ms,
    projects: async () => (await client.timed(PROJECTS)).ms,
    projectFeatures: async () => (await client.timed(PROJECT_FEATURES, { id: pick(projects).id })).ms,
    projectReleases: async () =>
      (await client.timed(PROJECT_RELEASES, { id: pick(projects).id, status: random() < 0.5 ? "IN_PROGRESS" : null }))
        .ms,
    evaluate: async () => {
      const project = pick(projects);
      return (
        await client.timed(EVALUATE, {
          projectId: project.id,
          key: pick(project.features).key,
          environment: pick(project.environments),
          unit: { id: `user-${Math.floor(random() * 100_000)}`, attributes: { region: pick(["us-west", "eu"]) } },
        })
      ).ms;
    },
  };

  // Warm-up (JIT, statement caches), not counted: two of each kind.
  for (const kind of Object.keys(MIX) as Kind[]) for (let i = 0; i < 2; i++) await run[kind]();

  // The schedule: each kind's share of `count`, shuffled (seeded).
  const schedule: Kind[] = [];
  const perMille = Object.values(MIX).reduce((sum, share) => sum + share, 0);
  for (const [kind, share] of Object.entries(MIX) as [Kind, number][]) {
    for (let i = 0; i < Math.max(1, Math.round((options.count * share) / perMille)); i++) schedule.push(kind);
  }
  for (let i = schedule.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [schedule[i], schedule[j]] = [schedule[j] as Kind, schedule[i] as Kind];
  }
  const samples = Object.fromEntries(Object.keys(MIX).map((kind) => [kind, [] as number[]])) as Record<Kind, number[]>;
  const started = performance.now();
  for (const [i, kind] of schedule.entries()) {
    samples[kind].push(await run[kind]());
    if ((i + 1) % 250 === 0)
      log(`  ${i + 1}/${schedule.length} queries (${round((performance.now() - started) / 1000)} s)`);
  }
  return samples;
}

// ---- the run ----------------------------------------------------------------------------------------------

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The ADMIN_TOKEN the API gets: one per data directory, kept beside the log, so a reused log (BENCH_KEEP) is not
 * appended to by a rotation of the bootstrap token at each run (only its first run creates the token).
 */
async function adminTokenFor(dataDir: string): Promise<string> {
  const path = join(dataDir, "bench-admin-token");
  const saved = await readFile(path, "utf8").catch(() => null);
  if (saved !== null && saved.trim() !== "") return saved.trim();
  const token = `bench-scale-${randomBytes(18).toString("base64url")}`;
  await writeFile(path, token, { mode: 0o600 });
  return token;
}

async function generateInChild(dir: string): Promise<void> {
  // A child process: the generator's heap is gone before anything is measured.
  const child = spawn(process.execPath, [...process.execArgv, GENERATOR, dir, String(EVENTS), String(SEED)], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`the log generator exited with ${code}`);
}

async function main(): Promise<void> {
  if (!Number.isInteger(EVENTS) || EVENTS < 1_000) throw new Error(`EVENTS must be an integer ≥ 1,000; got ${EVENTS}`);
  const keep = process.env.BENCH_KEEP;
  const dataDir = keep ?? (await mkdtemp(join(tmpdir(), "bench-scale-")));
  if (keep !== undefined) await mkdir(keep, { recursive: true });
  const temporalDir = await mkdtemp(join(tmpdir(), "bench-scale-temporal-"));
  const quiet = createLogger("temporal", { level: "error" });
  let temporal: Awaited<ReturnType<typeof startTemporalDevServer>> | null = null;
  const apis: ApiProcess[] = [];
  try {
    const infoPath = join(dataDir, BENCH_INFO_FILE);
    const reuse = keep !== undefined && (await exists(infoPath));
    // Temporal starts while the log is generated (the API's readiness asks it).
    const temporalStarting =
      process.env.TEMPORAL_ADDRESS === undefined || process.env.TEMPORAL_ADDRESS === ""
        ? startTemporalDevServer({ dbFilename: join(temporalDir, "temporal.db"), logger: quiet })
        : null;
    temporalStarting?.catch(() => {});
    let generatedNow = false;
    if (reuse) log(`reusing the log in ${dataDir}`);
    else {
      log(`generating ${EVENTS} events into ${dataDir}`);
      await generateInChild(dataDir);
      generatedNow = true;
    }
    temporal = temporalStarting === null ? null : await temporalStarting;
    const temporalAddress = temporal?.address ?? (process.env.TEMPORAL_ADDRESS as string);
    const info = JSON.parse(await readFile(infoPath, "utf8")) as GeneratedLog;

    // What the queries need from the log, read before the API opens it: its length, the hot feature's positions.
    const store = createSqliteEventStore({ path: join(dataDir, "events.sqlite") });
    const head = await store.headPosition();
    const total = head === null ? 0 : Number(head);
    const hotPositions = (await store.readStream(streams.feature(info.hotFeatureId))).map((event) => event.position);
    await store.close();
    log(`log: ${total} events; hot feature ${info.hotFeatureId} with ${hotPositions.length} events`);

    const settings: ApiSettings = {
      dataDir,
      adminToken: await adminTokenFor(dataDir),
      temporalAddress,
      readyTimeoutMs: Math.max(120_000, total / 10),
    };
    // Cold: nothing persisted (a kept directory's earlier projections are removed).
    await rm(join(dataDir, "projections"), { recursive: true, force: true });
    log("cold start (no projections persisted)…");
    const cold = await startApi(settings);
    apis.push(cold);
    const coldMemory = await memoryOf(cold.pid);
    const caughtUpEvents = Number(cold.caughtUp.events);
    const caughtUpMs = Number(cold.caughtUp.ms);
    const rebuildEventsPerSec = Math.round(caughtUpEvents / (Math.max(1, caughtUpMs) / 1000));
    log(
      `cold start ready in ${Math.round(cold.readyMs)} ms; caught up ${JSON.stringify(cold.caughtUp)} → ${rebuildEventsPerSec} events/s; peak RSS ${coldMemory.peakMb} MB`,
    );
    await stopApi(cold);

    log("warm restart…");
    const warm = await startApi(settings);
    apis.push(warm);
    const afterReady = await memoryOf(warm.pid);
    const warmApplied = Number(warm.caughtUp.applied ?? warm.caughtUp.events);
    log(
      `warm restart ready in ${Math.round(warm.readyMs)} ms; caught up ${JSON.stringify(warm.caughtUp)}; peak RSS ${afterReady.peakMb} MB`,
    );

    log(`${QUERIES} mixed queries, ${QUERIES_PER_SECOND}/s at most, one at a time…`);
    const client = new GraphqlClient(warm.url, settings.adminToken);
    const samples = await runQueries(client, { total, hotFeatureId: info.hotFeatureId, hotPositions, count: QUERIES });
    const afterQueries = await memoryOf(warm.pid);
    await stopApi(warm);

    const queries = Object.fromEntries(
      Object.entries(samples).map(([kind, list]) => [
        kind,
        { n: list.length, p50Ms: round(percentile(list, 0.5), 2), p99Ms: round(percentile(list, 0.99), 2) },
      ]),
    );
    log(`queries: ${JSON.stringify(queries)}`);
    const p99 = (kind: Kind) => round(percentile(samples[kind], 0.99), 2);
    const result = {
      events: total,
      coldBuildMs: Math.round(cold.readyMs),
      warmRestartMs: Math.round(warm.readyMs),
      rssMb: Math.max(afterReady.peakMb, afterQueries.peakMb),
      rssAfterReadyMb: afterReady.peakMb,
      rssAfterQueriesMb: afterQueries.peakMb,
      coldBuildRssMb: coldMemory.peakMb,
      auditFirstPageP99Ms: p99("auditFirstPage"),
      auditDeepPageP99Ms: p99("auditDeepPage"),
      featureAsOfP99Ms: p99("featureAsOf"),
      rebuildEventsPerSec,
      coldCatchUp: cold.caughtUp,
      warmCatchUp: warm.caughtUp,
      warmRestartEventsApplied: warmApplied,
      queries,
      queryCount: Object.values(samples).reduce((sum, list) => sum + list.length, 0),
      rateLimited: client.rateLimited,
      projects: info.projects,
      features: info.features,
      releases: info.releases,
      hotFeatureEvents: hotPositions.length,
      generateSeconds: info.seconds,
      generatedNow,
      targets: {} as Record<string, boolean>,
      targetsMet: false,
    };
    result.targets = {
      warmRestartMs: result.warmRestartMs <= 2_000,
      rssMb: result.rssMb <= 512,
      auditFirstPageP99Ms: result.auditFirstPageP99Ms < 20,
      auditDeepPageP99Ms: result.auditDeepPageP99Ms < 20,
      featureAsOfP99Ms: result.featureAsOfP99Ms < 50,
      rebuildEventsPerSec: result.rebuildEventsPerSec >= 100_000,
    };
    result.targetsMet = Object.values(result.targets).every(Boolean);
    console.log(JSON.stringify(result));
  } finally {
    for (const api of apis) await stopApi(api).catch(() => {});
    await temporal?.stop().catch(() => {});
    await rm(temporalDir, { recursive: true, force: true });
    if (keep === undefined) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();

// The event log the read-side benches measure (bench:replay, bench:scale): `events` events decided by the
// REAL deciders (the seeded Simulation) and appended through the real append path (batched appends with
// the expected revision) to an embedded store at `path`, with one "hot" feature whose updates are spread
// evenly over the log (10,000 events at 100,000 events and more), for featureAsOf.
//
// Memory stays bounded as the log grows: finished releases are forgotten (by the simulation and by the
// executor's stream states), so 10M events need about what 1M need (projects and features are capped).
//
// Also a command, so a bench can generate in a child process whose heap does not weigh on its own:
//   node bench/generate-log.ts <dir> [events] [seed]   → <dir>/events.sqlite and <dir>/bench-info.json

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSqliteEventStore } from "../services/event-store/sqlite/sqlite-event-store.ts";
import type { Project } from "../services/project/project.ts";
import { BatchingExecutor, prng, Simulation, uuidFrom } from "../services/projections/testing/simulation.ts";

export const DEFAULT_SEED = 20_260_101;
/** The file bench-info.json: what a later run (BENCH_KEEP) needs to know about a generated log. */
export const BENCH_INFO_FILE = "bench-info.json";

export interface GeneratedLog {
  /** Events appended. */
  total: number;
  /** The feature with HOT_FEATURE_EVENTS events spread over the log. */
  hotFeatureId: string;
  hotFeatureEvents: number;
  projects: number;
  features: number;
  releases: number;
  seconds: number;
}

export interface GenerateOptions {
  /** The embedded store's file (created; an existing log is appended to — pass a fresh path). */
  path: string;
  events: number;
  seed?: number;
  /** Progress lines (default: stderr). */
  log?: (message: string) => void;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

export async function generateLog(options: GenerateOptions): Promise<GeneratedLog> {
  const { path, events } = options;
  const seed = options.seed ?? DEFAULT_SEED;
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const hotTarget = Math.min(10_000, Math.floor(events / 10));
  // Generation only: NORMAL sync so the store is written quickly (the log it leaves is the same).
  const store = createSqliteEventStore({ path, synchronous: "NORMAL" });
  const ids = prng(seed ^ 0x5eed);
  const executor = new BatchingExecutor(store, () => uuidFrom(ids), 20_000);
  const projects = Math.max(2, Math.min(40, Math.round(events / 25_000)));
  const simulation = new Simulation(executor, {
    seed,
    maxProjects: projects,
    maxPipelinesPerProject: 12,
    // At most 1,000 per project: past 1M events the log grows by history, not by entity count.
    maxFeaturesPerProject: Math.max(20, Math.min(1_000, Math.round(events / 40 / projects))),
    forgetFinished: true,
  });
  let decided = 0;
  let hotEvents = 0;
  let hotFeatureId = "";
  let releases = 0;
  simulation.onCommit((record) => {
    decided += record.events;
    if (record.id === hotFeatureId) hotEvents += record.events;
  });
  const first = (await simulation.createProject()) as Project;
  const hot = await simulation.createFeature(first, null);
  if (!hot) throw new Error("could not create the hot feature");
  hotFeatureId = hot.id;
  simulation.reserve(hotFeatureId);
  const started = performance.now();
  let lastReport = started;
  while (decided < events) {
    await simulation.step();
    // The hot feature's updates are spread evenly over the log.
    while (hotEvents < hotTarget && hotEvents < (decided / events) * hotTarget) {
      simulation.advance(1);
      const feature = simulation.features.get(hotFeatureId);
      if (feature) await simulation.updateFeatureDirectly(feature);
    }
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      const heapMb = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
      log(
        `  generated ${decided} events (${Math.round(decided / ((lastReport - started) / 1000))}/s, heap ${heapMb} MB)`,
      );
    }
  }
  await executor.flush();
  releases = simulation.stats.releasesStarted;
  const total = executor.appended;
  const seconds = (performance.now() - started) / 1000;
  log(
    `generated ${total} events in ${round(seconds)} s: ${JSON.stringify({
      projects: simulation.projects.size,
      pipelines: simulation.pipelines.size,
      features: simulation.features.size,
      hotFeatureEvents: hotEvents,
      ...simulation.stats,
    })}`,
  );
  await store.close();
  return {
    total,
    hotFeatureId,
    hotFeatureEvents: hotEvents,
    projects: simulation.projects.size,
    features: simulation.features.size,
    releases,
    seconds: round(seconds),
  };
}

/** Generates into `<dir>/events.sqlite` (the embedded store's file under DATA_DIR) and writes bench-info.json. */
export async function generateInto(dir: string, events: number, seed?: number): Promise<GeneratedLog> {
  const info = await generateLog({ path: join(dir, "events.sqlite"), events, ...(seed !== undefined && { seed }) });
  await writeFile(join(dir, BENCH_INFO_FILE), JSON.stringify(info));
  return info;
}

if (import.meta.main) {
  const [dir, events, seed] = process.argv.slice(2);
  if (dir === undefined) {
    process.stderr.write("usage: node bench/generate-log.ts <dir> [events] [seed]\n");
    process.exit(2);
  }
  await generateInto(dir, Number(events ?? 1_000_000), seed === undefined ? undefined : Number(seed));
}

// A long seeded scenario for the read-side tests: the simulation drives the real deciders through the
// command handler on an embedded store (a file in a temp dir), while the projection runner keeps read
// models and the audit index live. It records what every command left behind, for as-of checks, and
// checks read-your-writes on the way.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { type AuditIndex, createAuditIndex } from "../../services/audit/audit-index.ts";
import type { RecordedEvent } from "../../services/event-store/port.ts";
import { createSqliteEventStore, type SqliteEventStore } from "../../services/event-store/sqlite/sqlite-event-store.ts";
import { ReadModels } from "../../services/projections/read-models.ts";
import { type ProjectionRunner, startProjections } from "../../services/projections/runner.ts";
import {
  type CommitRecord,
  commandHandlerExecutor,
  prng,
  Simulation,
  uuidFrom,
} from "../../services/projections/testing/simulation.ts";
import { TEST_LAYOUT, TEST_LOCAL_NAMES } from "./layout.ts";

export interface Scenario {
  dir: string;
  path: string;
  store: SqliteEventStore;
  readModels: ReadModels;
  audit: AuditIndex;
  runner: ProjectionRunner;
  simulation: Simulation;
  /** Every command that stored something, in order. */
  records: CommitRecord[];
  /** Every stored event, read back from the log after the scenario. */
  log: RecordedEvent[];
  /** Read-your-writes checks made while the scenario ran. */
  liveChecks: number;
  close(): Promise<void>;
}

const getters = {
  project: (readModels: ReadModels, id: string) => readModels.project(id),
  token: (readModels: ReadModels, id: string) => readModels.token(id),
  pipeline: (readModels: ReadModels, id: string) => readModels.pipeline(id),
  feature: (readModels: ReadModels, id: string) => readModels.feature(id),
  release: (readModels: ReadModels, id: string) => readModels.release(id),
} as const;

export async function runScenario(options: { seed: number; steps: number }): Promise<Scenario> {
  const dir = await mkdtemp(join(tmpdir(), "audit-scenario-"));
  const path = join(dir, "events.sqlite");
  const store = createSqliteEventStore({ path, synchronous: "NORMAL" });
  // Persisted, as an API process keeps them, with a cache far smaller than the scenario's entities: the
  // getters and apply go through the rows, not only through the states in memory.
  const readModels = new ReadModels({ path: join(dir, "read-models.sqlite"), cacheEntries: 100 });
  const audit = createAuditIndex({ store, layout: TEST_LAYOUT, localNamesMax: TEST_LOCAL_NAMES });
  const runner = startProjections({ store, readModels, audit });
  await runner.ready;

  const ids = prng(options.seed * 7919 + 1);
  const simulation = new Simulation(
    commandHandlerExecutor(store, () => uuidFrom(ids)),
    {
      seed: options.seed,
      maxProjects: 3,
      maxPipelinesPerProject: 5,
      maxFeaturesPerProject: 25,
    },
  );
  const records: CommitRecord[] = [];
  let stepRecords: CommitRecord[] = [];
  simulation.onCommit((record) => {
    records.push(record);
    stepRecords.push(record);
  });
  const check = prng(options.seed + 17);
  let liveChecks = 0;
  for (let i = 0; i < options.steps; i++) {
    stepRecords = [];
    await simulation.step();
    const last = stepRecords[stepRecords.length - 1];
    if (last?.position && check() < 0.25) {
      // Read-your-writes: once the runner reached the step's last position, the read models show what
      // the command handler returned for every entity the step touched.
      await runner.waitFor(last.position);
      const latest = new Map<string, CommitRecord>();
      for (const record of stepRecords) latest.set(`${record.kind}:${record.id}`, record);
      for (const record of latest.values()) {
        expect(getters[record.kind](readModels, record.id)).toEqual(record.state);
        liveChecks++;
      }
    }
  }
  const head = await store.headPosition();
  if (head !== null) await runner.waitFor(head);
  const log = await store.readAll();
  return {
    dir,
    path,
    store,
    readModels,
    audit,
    runner,
    simulation,
    records,
    log,
    liveChecks,
    async close() {
      await runner.close();
      audit.close();
      readModels.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Embedded event store benchmark: `node bench/store.ts` (EVENTS=100000 BATCH=100 STREAMS=100 by default).
// 1. Appends EVENTS events in batches of BATCH through the real adapter append path (validation, expected
//    revisions checked, one transaction per append, synchronous=FULL) across STREAMS streams; per-append latency.
// 2. The physical reference: the same rows into a separate file with a table of the same shape and indexes,
//    raw node:sqlite prepared statements, the same pragmas and one transaction per batch, no event-store logic.
//    Reference batches alternate with adapter appends so both run under the same disk conditions.
// 3. Reads the whole log back through the adapter's readAll (paged), and through readAllStored (metadata
//    left as JSON text: what a projection rebuild reads).
// The last line is one JSON object with the numbers.

import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DatabaseSync } from "node:sqlite";
import type { EventToAppend, ExpectedRevision } from "../services/event-store/port.ts";
import { createSqliteEventStore, EVENTS_TABLE_SCHEMA } from "../services/event-store/sqlite/sqlite-event-store.ts";

const EVENTS = Number(process.env.EVENTS ?? 100_000);
const BATCH = Number(process.env.BATCH ?? 100);
const STREAMS = Number(process.env.STREAMS ?? 100);
const READ_PAGE = 10_000;
/** FULL (default, the adapter's default) or NORMAL, applied to both the adapter and the raw reference. */
const SYNCHRONOUS = process.env.SYNCHRONOUS === "NORMAL" ? "NORMAL" : "FULL";

interface Batch {
  stream: string;
  events: EventToAppend[];
}

const buildBatches = (): Batch[] => {
  const batches: Batch[] = [];
  for (let b = 0, n = 0; n < EVENTS; b++) {
    const size = Math.min(BATCH, EVENTS - n);
    const stream = `release-${b % STREAMS}`;
    const correlationId = randomUUID();
    const events = Array.from(
      { length: size },
      (_, i): EventToAppend => ({
        id: randomUUID(),
        type: i % 3 === 0 ? "ReleasePhaseApproved" : "ReleasePhaseRolledOut",
        data: { releaseId: stream, phase: i % 5, environment: `env-${i % 4}`, percentage: (i * 7) % 100, note: "ok" },
        metadata: {
          actor: "bench",
          occurredAt: "2024-06-01T10:00:00.000Z",
          correlationId,
          causationId: null,
          schemaVersion: 1,
          projectId: "project-1",
        },
      }),
    );
    batches.push({ stream, events });
    n += size;
  }
  return batches;
};

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;

const round = (value: number, digits = 0): number => Number(value.toFixed(digits));

/** The physical reference: raw prepared statements on a table of the same shape, same pragmas and transactions. */
const openRaw = (dir: string) => {
  const db = new DatabaseSync(join(dir, "raw.sqlite"));
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`PRAGMA synchronous = ${SYNCHRONOUS}`);
  db.exec(EVENTS_TABLE_SCHEMA);
  const insert = db.prepare(
    "INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  const recordedAt = new Date().toISOString();
  return {
    insertBatch: (rows: readonly RawRow[]): void => {
      begin.run();
      for (const [stream, revision, id, type, data, metadata] of rows) {
        insert.run(stream, revision, id, type, data, metadata, recordedAt);
      }
      commit.run();
    },
    close: () => db.close(),
  };
};

type RawRow = readonly [stream: string, revision: number, id: string, type: string, data: string, metadata: string];

/** The same rows for the reference, serialised up front: it does no work beyond the inserts themselves. */
const rawRows = (batches: readonly Batch[]): RawRow[][] => {
  const revisions = new Map<string, number>();
  return batches.map(({ stream, events }) =>
    events.map((event): RawRow => {
      const revision = revisions.get(stream) ?? 0;
      revisions.set(stream, revision + 1);
      return [stream, revision, event.id, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata)];
    }),
  );
};

const run = async (dir: string, batches: Batch[]) => {
  const store = createSqliteEventStore({ path: join(dir, "adapter.sqlite"), synchronous: SYNCHRONOUS });
  const raw = openRaw(dir);
  const rows = rawRows(batches);
  const expected = new Map<string, ExpectedRevision>();
  const latencies: number[] = [];
  let adapterMs = 0;
  let rawMs = 0;
  // Adapter append and raw insert alternate batch by batch, so both see the same disk conditions
  // (checkpoints, other load on the machine); each side's time is summed separately.
  for (let b = 0; b < batches.length; b++) {
    const { stream, events } = batches[b] as Batch;
    const t0 = performance.now();
    const result = await store.append(stream, events, expected.get(stream) ?? "no_stream");
    const t1 = performance.now();
    raw.insertBatch(rows[b] as RawRow[]);
    const t2 = performance.now();
    expected.set(stream, result.nextExpectedRevision);
    latencies.push(t1 - t0);
    adapterMs += t1 - t0;
    rawMs += t2 - t1;
  }
  raw.close();

  /** Events per second reading the whole log back in pages through `read`. */
  const readBack = async (
    read: (options: { after?: string; maxCount: number }) => Promise<readonly { position: string }[]>,
  ): Promise<number> => {
    const started = performance.now();
    let count = 0;
    let after: string | undefined;
    for (;;) {
      const page = await read(after === undefined ? { maxCount: READ_PAGE } : { after, maxCount: READ_PAGE });
      if (page.length === 0) break;
      count += page.length;
      after = page[page.length - 1]?.position;
    }
    if (count !== EVENTS) throw new Error(`read ${count} events back, expected ${EVENTS}`);
    return count / ((performance.now() - started) / 1000);
  };
  const readAllPerSec = await readBack((options) => store.readAll(options));
  // What a projection rebuild reads: the same, with metadata left as JSON text.
  const readAllStoredPerSec = await readBack((options) => store.readAllStored(options));
  await store.close();
  latencies.sort((a, b) => a - b);
  return {
    appendsPerSec: EVENTS / (adapterMs / 1000),
    appendP50Ms: percentile(latencies, 50),
    appendP99Ms: percentile(latencies, 99),
    readAllPerSec,
    readAllStoredPerSec,
    adapterSeconds: adapterMs / 1000,
    rawInsertsPerSec: EVENTS / (rawMs / 1000),
    rawSeconds: rawMs / 1000,
  };
};

const main = async (): Promise<void> => {
  const dir = await mkdtemp(join(tmpdir(), "bench-store-"));
  try {
    console.log(
      `events=${EVENTS} batch=${BATCH} streams=${STREAMS} synchronous=${SYNCHRONOUS} appends=${Math.ceil(EVENTS / BATCH)} dir=${dir}`,
    );
    const batches = buildBatches();
    const adapter = await run(dir, batches);
    console.log(
      `adapter append: ${round(adapter.appendsPerSec)} events/s (${round(adapter.adapterSeconds, 2)} s), ` +
        `per append p50 ${round(adapter.appendP50Ms, 3)} ms p99 ${round(adapter.appendP99Ms, 3)} ms`,
    );
    console.log(
      `adapter readAll: ${round(adapter.readAllPerSec)} events/s, readAllStored: ${round(adapter.readAllStoredPerSec)} events/s`,
    );
    console.log(
      `raw node:sqlite inserts: ${round(adapter.rawInsertsPerSec)} rows/s (${round(adapter.rawSeconds, 2)} s)`,
    );
    const ratio = adapter.appendsPerSec / adapter.rawInsertsPerSec;
    console.log(`ratio adapter/raw: ${round(ratio, 3)} (target >= 0.5)`);
    console.log(
      JSON.stringify({
        appendsPerSec: round(adapter.appendsPerSec),
        appendP50Ms: round(adapter.appendP50Ms, 3),
        appendP99Ms: round(adapter.appendP99Ms, 3),
        readAllPerSec: round(adapter.readAllPerSec),
        readAllStoredPerSec: round(adapter.readAllStoredPerSec),
        rawInsertsPerSec: round(adapter.rawInsertsPerSec),
        ratio: round(ratio, 3),
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

await main();

// Replay benchmark: generates EVENTS (default 1,000,000) events through the real deciders and the real
// append path (batched appends to an embedded store in a temp dir), then measures
//   - the rebuild of every read model and the audit index from the log, through the projection runner
//     (history in pages, then the catch-up subscription), in events/s (median of REBUILDS runs, default 3);
//     the audit index is file-backed, as in production (AUDIT=memory: in memory), built from an empty file
//     each time, and reopened at the end (auditReopenMs: resuming after its last row);
//   - auditLog page latency: the first page, and deep pages (after the middle of the log), p99;
//   - featureAsOf on a feature with 10,000 events, at random positions of its history, p99.
// Targets on the 2-core reference machine: rebuild >= 100,000 events/s; an auditLog page < 20 ms p99.
// The last line printed is one JSON object with the numbers.
//
//   npm run bench:replay                 # 1,000,000 events
//   EVENTS=100000 npm run bench:replay   # quicker
//   BENCH_KEEP=/tmp/replay-1m npm run bench:replay   # keep (and on the next run reuse) the generated log there
// The last line also has the measuring process's resident memory: now (rssMb) and at its peak (peakRssMb).
//   AUDIT_ONLY=1 npm run bench:replay    # only the audit index (file-backed), fed straight from the log:
//                                        # events/s, CPU and resident memory of the audit alone

import { spawn } from "node:child_process";
import { access, mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { featureAsOf } from "../services/audit/as-of.ts";
import { auditIndexFile, createAuditIndex } from "../services/audit/audit-index.ts";
import { createSqliteEventStore, formatSqlitePosition } from "../services/event-store/sqlite/sqlite-event-store.ts";
import { digest } from "../services/projections/digest.ts";
import { ReadModels } from "../services/projections/read-models.ts";
import { startProjections } from "../services/projections/runner.ts";
import { prng } from "../services/projections/testing/simulation.ts";
import { BENCH_INFO_FILE, DEFAULT_SEED, type GeneratedLog, generateInto } from "./generate-log.ts";

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const SEED = Number(process.env.SEED ?? DEFAULT_SEED);

const log = (message: string) => process.stderr.write(`${message}\n`);

const p99 = (samples: number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
};
const round = (value: number, digits = 3) => Number(value.toFixed(digits));

/** Resident memory of this process now (rss) and at its peak (VmHWM, where /proc has it), in MB. */
async function residentMemory(): Promise<{ rssMb: number; peakRssMb: number | null }> {
  const rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return { rssMb, peakRssMb: hwm === undefined ? null : Math.round(Number(hwm) / 1024) };
}

async function measure(times: number, run: (i: number) => unknown | Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

type BenchInfo = Pick<GeneratedLog, "total" | "hotFeatureId">;

/** Generates the log (or reuses a kept one), then measures in a fresh process, as an API process starts. */
async function main(): Promise<void> {
  const keep = process.env.BENCH_KEEP;
  const dir = keep ?? (await mkdtemp(join(tmpdir(), "bench-replay-")));
  if (keep !== undefined) await mkdir(keep, { recursive: true });
  const path = join(dir, "events.sqlite");
  const infoPath = join(dir, BENCH_INFO_FILE);
  try {
    const reuse =
      keep !== undefined &&
      (await access(infoPath).then(
        () => true,
        () => false,
      ));
    if (reuse) log(`reusing the log in ${path}`);
    else {
      log(`generating ${EVENTS} events into ${path}`);
      await generateInto(dir, EVENTS, SEED);
    }
    // The generator's heap (a million decided states) must not weigh on the measurement.
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--measure", dir], {
      stdio: "inherit",
    });
    const code = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (exitCode) => resolve(exitCode ?? 1));
    });
    if (code !== 0) process.exitCode = code;
  } finally {
    if (keep === undefined) await rm(dir, { recursive: true, force: true });
  }
}

/** The audit index alone, fed from the log as the runner does (no read models): its rate and memory. */
async function measureAuditOnly(dir: string): Promise<void> {
  const store = createSqliteEventStore({ path: join(dir, "events.sqlite") });
  const auditDir = join(dir, "audit-only");
  await mkdir(auditDir, { recursive: true });
  const path = auditIndexFile(auditDir);
  for (const suffix of ["", "-wal", "-shm"]) await rm(path + suffix, { force: true });
  const audit = createAuditIndex({ store, path });
  await audit.opened;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let after: string | undefined;
  for (;;) {
    const page = await (store.readAllStored ?? store.readAll).call(store, {
      ...(after === undefined ? {} : { after }),
      maxCount: 2000,
    });
    for (const event of page) audit.add(event);
    if (page.length < 2000) break;
    after = page[page.length - 1]?.position;
  }
  await audit.finishBulkLoad();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  audit.close();
  await audit.whenClosed;
  await store.close();
  const memory = await residentMemory();
  console.log(
    JSON.stringify({
      events: audit.count,
      auditOnlyEventsPerSec: Math.round(audit.count / seconds),
      cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
      ...memory,
    }),
  );
}

async function measureRun(dir: string): Promise<void> {
  if (process.env.AUDIT_ONLY === "1") return measureAuditOnly(dir);
  const path = join(dir, "events.sqlite");
  const { total, hotFeatureId }: BenchInfo = JSON.parse(await readFile(join(dir, BENCH_INFO_FILE), "utf8"));
  const store = createSqliteEventStore({ path });
  // Rebuild: everything from the log, through the runner, as an API process does at start. Run REBUILDS
  // times (default 3) and report the median: on a shared VM one run can be slowed by its neighbours, and
  // the first also reads the log from disk when the page cache dropped it.
  const rebuilds = Math.max(1, Number(process.env.REBUILDS ?? 3));
  const rates: number[] = [];
  const auditDir = join(dir, "audit");
  await mkdir(auditDir, { recursive: true });
  const auditPath = process.env.AUDIT === "memory" ? undefined : auditIndexFile(auditDir);
  log(`audit index: ${auditPath ?? "in memory"}`);
  const freshAudit = async () => {
    if (auditPath !== undefined) {
      for (const suffix of ["", "-wal", "-shm"]) await rm(auditPath + suffix, { force: true });
    }
    return createAuditIndex({ store, ...(auditPath === undefined ? {} : { path: auditPath }) });
  };
  let readModels = new ReadModels();
  let audit = await freshAudit();
  let runner = startProjections({ store, readModels, audit });
  for (let run = 1; ; run++) {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await runner.ready;
    const seconds = (performance.now() - started) / 1000;
    // CPU of every thread of the process (main, audit worker, GC): on a shared machine, wall time above
    // cpu / 2 means the process waited for a core.
    const cpu = process.cpuUsage(cpuBefore);
    rates.push(Math.round(readModels.eventCount / seconds));
    log(
      `rebuild ${run}: ${readModels.eventCount} events in ${round(seconds, 2)} s (${rates[rates.length - 1]}/s, cpu ${round(
        (cpu.user + cpu.system) / 1e6,
        2,
      )} s): ${JSON.stringify(readModels.counts())}; audit rows ${audit.count}; problems ${readModels.problems.length}; digest ${digest(readModels)}`,
    );
    if (readModels.eventCount !== total) throw new Error(`rebuilt ${readModels.eventCount} of ${total} events`);
    if (run === rebuilds) break;
    await runner.close();
    audit.close();
    await audit.whenClosed;
    readModels = new ReadModels();
    audit = await freshAudit();
    runner = startProjections({ store, readModels, audit });
  }
  const rebuildEventsPerSec = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)] as number;
  log(`rebuild events/s: ${rates.join(", ")} (median ${rebuildEventsPerSec})`);

  const random = prng(SEED + 1);
  // Warm-up (statement preparation, JIT), not counted.
  await measure(30, (i) => audit.query({ first: 50, ...(i % 2 ? { order: "ASC" as const } : {}) }));
  const firstPage = await measure(300, () => audit.query({ first: 50 }));
  // Deep pages: a different cursor each time (no cursor cache help), all past the middle of the log.
  const middle = Math.floor(total / 2);
  const deepCursor = () => formatSqlitePosition(middle + Math.floor(random() * (total - middle - 100)));
  const deepPage = await measure(300, () => audit.query({ first: 50, after: deepCursor() }));
  const deepAsc = await measure(100, () => audit.query({ first: 50, order: "ASC", after: deepCursor() }));
  const someProject = readModels.projects()[1]?.id ?? readModels.projects()[0]?.id ?? "";
  const projectDeep = await measure(100, () =>
    audit.query({ first: 50, filter: { projectId: someProject }, after: deepCursor() }),
  );
  const typesDeep = await measure(100, () =>
    audit.query({ first: 50, filter: { types: ["ReleasePhaseApproved", "ReleaseAborted"] }, after: deepCursor() }),
  );
  const actorPage = await measure(100, () => audit.query({ first: 50, filter: { actor: "carol" } }));
  const history = await measure(100, () => audit.historyOf(hotFeatureId, { first: 50 }));
  log(
    `auditLog p99 ms: first ${round(p99(firstPage))}, deep ${round(p99(deepPage))}, deep ASC ${round(
      p99(deepAsc),
    )}, project deep ${round(p99(projectDeep))}, types deep ${round(p99(typesDeep))}, actor ${round(
      p99(actorPage),
    )}, feature history ${round(p99(history))}`,
  );

  // featureAsOf on the hot feature at random positions of its history, and at its end (the whole stream).
  const stream = await store.readStream(`feature-${hotFeatureId}`);
  const positions = stream.map((event) => event.position);
  const asOf = await measure(100, async (i) => {
    const position =
      i === 0
        ? (positions[positions.length - 1] as string)
        : (positions[Math.floor(random() * positions.length)] as string);
    const feature = await featureAsOf(store, hotFeatureId, { position });
    if (!feature) throw new Error("featureAsOf returned null");
  });
  log(`featureAsOf (${positions.length} events) p99 ${round(p99(asOf))} ms, full stream ${round(asOf[0] ?? 0)} ms`);

  await runner.close();
  audit.close();
  await audit.whenClosed;
  // Resuming: a file-backed index reopened knows its last row (what a restarted process does).
  let auditReopenMs: number | null = null;
  let auditFileMb: number | null = null;
  if (auditPath !== undefined) {
    const started = performance.now();
    const reopened = createAuditIndex({ store, path: auditPath });
    await reopened.opened;
    auditReopenMs = round(performance.now() - started, 1);
    if (reopened.count !== total) throw new Error(`reopened audit index holds ${reopened.count} of ${total} events`);
    await reopened.query({ first: 50 });
    reopened.close();
    await reopened.whenClosed;
    auditFileMb = Math.round((await stat(auditPath)).size / 2 ** 20);
    log(`audit index reopened in ${auditReopenMs} ms (${reopened.count} rows, ${auditFileMb} MB file)`);
  }
  await store.close();
  const memory = await residentMemory();
  log(`resident memory: now ${memory.rssMb} MB, peak ${memory.peakRssMb} MB`);
  console.log(
    JSON.stringify({
      events: total,
      rebuildEventsPerSec,
      auditFirstPageP99Ms: round(p99(firstPage)),
      auditDeepPageP99Ms: round(p99(deepPage)),
      featureAsOfP99Ms: round(p99(asOf)),
      auditReopenMs,
      auditFileMb,
      ...memory,
    }),
  );
}

const measureAt = process.argv.indexOf("--measure");
if (measureAt >= 0) await measureRun(process.argv[measureAt + 1] as string);
else await main();

// The audit index as a persisted projection: a file-backed index answers what a fresh one does, across
// restarts and after a kill -9 in the middle of indexing (resumed after its last committed row: no
// loss, no duplicate), and a file written with another layout is never read as this one.

import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUDIT_INDEX_VERSION,
  type AuditFilter,
  type AuditIndex,
  auditIndexFile,
  createAuditIndex,
  type SortOrder,
} from "../../services/audit/audit-index.ts";
import { ReadModels } from "../../services/projections/read-models.ts";
import { startProjections } from "../../services/projections/runner.ts";
import { prng } from "../../services/projections/testing/simulation.ts";
import { runScenario, type Scenario } from "./fixture.ts";
import { TEST_LAYOUT, TEST_LOCAL_NAMES } from "./layout.ts";

let scenario: Scenario;
let dir: string;

beforeAll(async () => {
  scenario = await runScenario({ seed: 19, steps: 1200 });
  dir = await mkdtemp(join(tmpdir(), "audit-persisted-"));
}, 120_000);

afterAll(async () => {
  await scenario?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const openFile = (path: string): AuditIndex =>
  createAuditIndex({ store: scenario.store, path, layout: TEST_LAYOUT, localNamesMax: TEST_LOCAL_NAMES });

/** Every page of a query (nodes and cursors), following endCursor. */
async function pages(audit: AuditIndex, filter: AuditFilter, order: SortOrder, first: number): Promise<unknown[]> {
  const seen: unknown[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await audit.query({ filter, order, first, after });
    seen.push(page.edges, page.pageInfo.hasNextPage);
    if (!page.pageInfo.hasNextPage) return seen;
    after = page.pageInfo.endCursor;
  }
}

/** What the index answers to a spread of questions: filtered pages both ways, histories, events, times. */
async function answers(audit: AuditIndex): Promise<Record<string, unknown>> {
  const log = scenario.log;
  const random = prng(5);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const projects = [...scenario.simulation.projects.keys()];
  const features = [...scenario.simulation.features.keys()];
  const releases = [...scenario.simulation.releases.keys()];
  const times = log.map((event) => event.metadata.occurredAt as string);
  const filters: AuditFilter[] = [
    {},
    { projectId: pick(projects) },
    { entityId: pick(features) },
    { entityId: pick(releases) },
    { types: ["ReleasePhaseRolledOut", "FeatureUpdated", "ReleaseAborted"] },
    { actor: "system" },
    { actor: "carol", projectId: pick(projects) },
    { from: pick(times), to: pick(times) },
    { from: pick(times), projectId: pick(projects), types: ["ReleaseStarted"] },
  ];
  const out: Record<string, unknown> = { count: audit.count, lastPosition: audit.lastPosition };
  for (const [i, filter] of filters.entries()) {
    for (const order of ["ASC", "DESC"] as const) out[`query ${i} ${order}`] = await pages(audit, filter, order, 29);
  }
  for (const feature of features.slice(0, 12)) {
    const history: unknown[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await audit.historyOf(feature, { first: 7, after });
      history.push(page.edges);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    out[`history ${feature}`] = history;
  }
  for (let i = 0; i < 20; i++) {
    const position = pick(log).position;
    out[`event ${position}`] = await audit.event(position);
    const time = new Date(Date.parse(pick(times)) + Math.floor(random() * 3) - 1).toISOString();
    out[`positionAt ${time}`] = await audit.positionAt(time);
  }
  return out;
}

/** Resumes a reopened index through the runner (as a restarted API process does) until it holds the log. */
async function resume(audit: AuditIndex): Promise<void> {
  const runner = startProjections({ store: scenario.store, readModels: new ReadModels(), audit });
  await runner.ready;
  await runner.close();
}

describe("a persisted audit index", () => {
  it("reopened, resumes after its last row and answers the same pages as a fresh index of the log", async () => {
    const log = scenario.log;
    expect(log.length).toBeGreaterThan(1500);
    const expected = await answers(scenario.audit);
    expect(expected.count).toBe(log.length);
    // In a directory (a projection slot), under the name of this layout's version.
    const path = auditIndexFile(join(dir, "slot"));
    await mkdir(join(dir, "slot"), { recursive: true });
    // Built over three sessions: a third of the log added by hand, then the runner resumes twice.
    let audit = openFile(path);
    await audit.opened;
    const third = Math.floor(log.length / 3);
    for (const event of log.slice(0, third)) audit.add(event);
    await audit.sync();
    audit.close();
    await audit.whenClosed;

    audit = openFile(path);
    await audit.opened;
    expect(audit.count).toBe(third);
    expect(audit.lastPosition).toBe(log[third - 1]?.position);
    for (const event of log.slice(third, 2 * third)) audit.add(event);
    audit.close();
    await audit.whenClosed;

    audit = openFile(path);
    await audit.opened;
    expect(audit.count).toBe(2 * third);
    await resume(audit);
    expect(await answers(audit)).toEqual(expected);
    audit.close();
    await audit.whenClosed;

    // And once more, opened with nothing to add: the same answers straight from the file.
    audit = openFile(path);
    await audit.opened;
    expect(await answers(audit)).toEqual(expected);
    audit.close();
    await audit.whenClosed;
  }, 60_000);

  it("killed (-9) while indexing, resumes after its last committed row: no loss, no duplicate", async () => {
    const log = scenario.log;
    const expected = await answers(scenario.audit);
    const path = join(dir, "killed.sqlite");
    const child = fileURLToPath(new URL("./audit-child.ts", import.meta.url));
    const random = prng(11);
    let killedMidway = 0;
    let lastCommitted = 0;
    for (let round = 0; round < 30; round++) {
      const proc = spawn(process.execPath, [child, scenario.path, path], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      proc.stderr.on("data", (chunk) => {
        stderr += String(chunk);
      });
      const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
      let done = false;
      for await (const line of createInterface({ input: proc.stdout })) {
        const [word, count] = line.split(" ");
        lastCommitted = Number(count);
        if (word === "done") {
          done = true;
          break;
        }
        // Indexing, with more batches on the way: killed a moment later, wherever it then is.
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 8)));
        process.kill(proc.pid as number, "SIGKILL");
        break;
      }
      const code = await exited;
      if (done) {
        expect(code, stderr).toBe(0);
        break;
      }
      killedMidway++;
      // What was committed is there, and nothing else: rows 1..n are the log's first n events.
      const reopened = openFile(path);
      await reopened.opened;
      expect(reopened.count).toBeGreaterThanOrEqual(lastCommitted);
      expect(reopened.count).toBeLessThanOrEqual(log.length);
      expect(reopened.lastPosition).toBe(log[reopened.count - 1]?.position);
      const newest = await reopened.query({ first: 3 });
      expect(newest.edges.map((edge) => edge.cursor)).toEqual(
        log
          .slice(Math.max(0, reopened.count - 3), reopened.count)
          .map((event) => event.position)
          .reverse(),
      );
      reopened.close();
      await reopened.whenClosed;
    }
    expect(killedMidway).toBeGreaterThan(0);
    console.log(`killed ${killedMidway} times mid-way`);

    // The runner resumes the last one's file after its last row; the result equals a fresh index's.
    const audit = openFile(path);
    await audit.opened;
    await resume(audit);
    expect(audit.count).toBe(log.length);
    expect(await answers(audit)).toEqual(expected);
    audit.close();
    await audit.whenClosed;
  }, 120_000);

  it("never reuses a file written with another layout: its version is in its name and in the file", async () => {
    expect(AUDIT_INDEX_VERSION).toBeGreaterThan(7);
    expect(auditIndexFile("/slot")).toBe(`/slot/audit-v${AUDIT_INDEX_VERSION}.sqlite`);
    // Older versions' files in a slot go once this one has caught up: services/projections/slots.ts
    // (test/audit/persisted-projections.test.ts).
    const log = scenario.log;

    // A file of today's layout, complete.
    const current = join(dir, "current.sqlite");
    const built = openFile(current);
    await resume(built);
    expect(built.count).toBe(log.length);
    built.close();
    await built.whenClosed;

    // The same path holding an older layout's file (version 7: plain rows, no indexes): emptied and
    // rebuilt from the log, never read as rows of this layout.
    const older = join(dir, "older.sqlite");
    const db = new DatabaseSync(older);
    db.exec(
      "CREATE TABLE audit_events (seq INTEGER PRIMARY KEY, position TEXT NOT NULL, type INTEGER NOT NULL, entity INTEGER NOT NULL, project INTEGER, history INTEGER NOT NULL, actor INTEGER NOT NULL, at INTEGER NOT NULL) STRICT",
    );
    db.prepare("INSERT INTO audit_events VALUES (1, ?, 1, 1, NULL, 1, 1, 0)").run(log[0]?.position as string);
    db.exec("PRAGMA user_version = 7");
    db.close();
    const rebuilt = openFile(older);
    await rebuilt.opened;
    expect(rebuilt.count).toBe(0);
    expect(rebuilt.lastPosition).toBeNull();
    await resume(rebuilt);
    expect(await answers(rebuilt)).toEqual(await answers(scenario.audit));
    rebuilt.close();
    await rebuilt.whenClosed;

    // Today's version with other sizes (segments, blocks, chunks): rebuilt too.
    const copy = join(dir, "other-sizes.sqlite");
    await copyFile(current, copy);
    const resized = createAuditIndex({
      store: scenario.store,
      path: copy,
      layout: { ...TEST_LAYOUT, segmentShift: TEST_LAYOUT.segmentShift + 1 },
    });
    await resized.opened;
    expect(resized.count).toBe(0);
    resized.close();
    await resized.whenClosed;

    // A newer version's file (a later build wrote it): refused, and left as it is.
    const newer = join(dir, "newer.sqlite");
    await copyFile(current, newer);
    const raw = new DatabaseSync(newer);
    raw.exec(`PRAGMA user_version = ${AUDIT_INDEX_VERSION + 1}`);
    raw.close();
    const size = (await stat(newer)).size;
    const refused = openFile(newer);
    await expect(refused.opened).rejects.toThrow(/schema version/);
    refused.close();
    await refused.whenClosed;
    expect((await stat(newer)).size).toBe(size);
    const check = new DatabaseSync(newer);
    expect((check.prepare("SELECT count(*) AS n FROM audit_events").get() as { n: number }).n).toBe(log.length);
    check.close();

    // And the file of today's layout reopens as it was.
    const again = openFile(current);
    await again.opened;
    expect(again.count).toBe(log.length);
    again.close();
    await again.whenClosed;
  }, 60_000);

  it("keeps a bounded backlog: adding faster than the worker indexes waits for it", async () => {
    const log = scenario.log;
    const batchSize = 8;
    const audit = createAuditIndex({ store: scenario.store, layout: TEST_LAYOUT, batchSize });
    await audit.opened;
    let most = 0;
    // One synchronous loop, as the runner's catch-up adds a page: far faster than the worker indexes.
    for (const event of log) {
      audit.add(event);
      most = Math.max(most, audit.backlog);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(9 * batchSize);
    await audit.sync();
    expect(audit.backlog).toBe(0);
    expect(await answers(audit)).toEqual(await answers(scenario.audit));
    audit.close();
    await audit.whenClosed;
  }, 60_000);
});

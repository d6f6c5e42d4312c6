// Persisted projections (docs/decisions/0042): the read models live in SQLite with their checkpoint, so a
// restart resumes where the last commit left them — after a clean stop or a kill -9 mid-batch — and comes
// out identical to a fold of the whole log. Slots give each process its own copy; a change of the
// projection's code builds a new file instead of reading the old one.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { featureAsOf, releaseAsOf } from "../../services/audit/as-of.ts";
import { digest } from "../../services/projections/digest.ts";
import { READ_MODELS_SHAPE, ReadModels, readModelsFile } from "../../services/projections/read-models.ts";
import { foldLog } from "../../services/projections/replay.ts";
import { startProjections } from "../../services/projections/runner.ts";
import { openProjectionSlot } from "../../services/projections/slots.ts";
import { codeFingerprint, moduleClosure } from "../../services/projections/version.ts";
import { runScenario, type Scenario } from "./fixture.ts";

const CHILD = fileURLToPath(new URL("./projection-child.ts", import.meta.url));
/** Snapshots every few events: the scenario's streams are far shorter than production's long ones. */
const SNAPSHOT_EVERY = 8;

let scenario: Scenario;
let expected: string;
let work: string;

beforeAll(async () => {
  scenario = await runScenario({ seed: 7, steps: 1200 });
  expected = digest(await foldLog(scenario.store));
  work = mkdtempSync(join(tmpdir(), "persisted-projections-"));
}, 120_000);

afterAll(async () => {
  await scenario?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Catches `readModels` up on the scenario's store; returns how many events this catch-up applied. */
async function catchUp(readModels: ReadModels, commitEvery?: number): Promise<number> {
  let applied = 0;
  const before = readModels.eventCount;
  const runner = startProjections({
    store: scenario.store,
    readModels,
    ...(commitEvery === undefined ? {} : { commitEvery }),
  });
  await runner.ready;
  applied = readModels.eventCount - before;
  await runner.close();
  return applied;
}

/** The 1-based index in the log of the event at `position` (events of the embedded store number from 1). */
const eventsUpTo = (position: string | null): number =>
  position === null ? 0 : scenario.log.findIndex((event) => event.position === position) + 1;

describe("persisted read models", () => {
  it("the live ones, persisted with a cache far smaller than the scenario, equal a fold of the log", () => {
    expect(scenario.readModels.counts().features + scenario.readModels.counts().releases).toBeGreaterThan(100);
    expect(digest(scenario.readModels)).toBe(expected);
  });

  it("a restart resumes from the checkpoint: nothing applied twice, only what was appended since", async () => {
    const path = join(work, "restart.sqlite");
    const first = new ReadModels({ path, cacheEntries: 100 });
    expect(await catchUp(first, 500)).toBe(scenario.log.length);
    first.close();

    const again = new ReadModels({ path, cacheEntries: 100 });
    expect(again.checkpoint).toBe(scenario.log[scenario.log.length - 1]?.position);
    expect(again.eventCount).toBe(scenario.log.length);
    expect(await catchUp(again)).toBe(0);
    expect(digest(again)).toBe(expected);
    again.close();
  });

  it("after kill -9 mid-batch, again and again, it resumes without loss or duplicate", async () => {
    const path = join(work, "killed.sqlite");
    const checkpoints: number[] = [];
    for (const commits of [2, 2, 2]) {
      const child = spawn(process.execPath, [CHILD, scenario.path, path, "200"], { stdio: ["ignore", "pipe", "pipe"] });
      let seen = 0;
      let stderr = "";
      child.stderr.on("data", (chunk) => {
        stderr += String(chunk);
      });
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
        child.once("exit", (code, signal) => resolve(signal ?? code)),
      );
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => {
        seen += chunk.split("\n").filter((line) => line.startsWith("committed")).length;
        // Killed right after a commit: the next page is being read, with applied events not committed yet.
        if (seen >= commits) child.kill("SIGKILL");
      });
      expect(await exited, stderr).toBe("SIGKILL");

      const reopened = new ReadModels({ path });
      // The rows and the checkpoint went together: exactly the events up to the checkpoint are in.
      expect(reopened.eventCount).toBe(eventsUpTo(reopened.checkpoint));
      expect(reopened.eventCount).toBeLessThan(scenario.log.length);
      checkpoints.push(reopened.eventCount);
      reopened.close();
    }
    // Each run resumed from the last one's checkpoint and committed further.
    expect(checkpoints[1]).toBeGreaterThan(checkpoints[0] as number);
    expect(checkpoints[2]).toBeGreaterThan(checkpoints[1] as number);

    const last = new ReadModels({ path });
    expect(await catchUp(last)).toBe(scenario.log.length - (checkpoints[2] as number));
    expect(last.eventCount).toBe(scenario.log.length);
    expect(digest(last)).toBe(expected);
    expect(last.snapshot()).toEqual((await foldLog(scenario.store)).snapshot());
    last.close();
  }, 60_000);

  it("a full build is synced once caught up; one left unsynced by another boot is built again", async () => {
    const path = join(work, "unsynced.sqlite");
    const marker = `${path}-unsynced`;
    const partial = new ReadModels({ path });
    for (const event of scenario.log.slice(0, 100)) partial.apply(event);
    partial.commit();
    partial.close();
    // Not caught up yet: written without fsync, marked with this boot's id.
    expect(readFileSync(marker, "utf8").trim()).toBe(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    // The same boot: a process crash loses nothing the kernel had; it resumes.
    const resumed = new ReadModels({ path });
    expect(resumed.eventCount).toBe(100);
    resumed.close();
    // Another boot (the machine went down): the file may be torn, so it starts over.
    writeFileSync(marker, "another-boot");
    const rebuilt = new ReadModels({ path });
    expect(rebuilt.checkpoint).toBeNull();
    expect(await catchUp(rebuilt)).toBe(scenario.log.length);
    expect(existsSync(marker)).toBe(false);
    expect(digest(rebuilt)).toBe(expected);
    rebuilt.close();
    // Synced now: whatever boot comes next, it is kept.
    const kept = new ReadModels({ path });
    expect(kept.eventCount).toBe(scenario.log.length);
    kept.close();
  });

  it("refuses a file another process holds, naming it", () => {
    const path = join(work, "held.sqlite");
    const holder = new ReadModels({ path });
    expect(() => new ReadModels({ path })).toThrow(/held\.sqlite is held by another process/);
    holder.close();
    new ReadModels({ path }).close();
  });
});

describe("snapshots for the as-of queries", () => {
  let readModels: ReadModels;
  beforeAll(async () => {
    readModels = new ReadModels({ snapshotEvery: SNAPSHOT_EVERY });
    await catchUp(readModels);
  });

  it("featureAsOf and releaseAsOf answer the same from a snapshot as from the stream's first event", async () => {
    const { store } = scenario;
    // Streams long enough to have snapshots: the scenario's busiest features and releases.
    const byStream = new Map<string, string[]>();
    for (const event of scenario.log) {
      const list = byStream.get(event.stream) ?? [];
      list.push(event.position);
      byStream.set(event.stream, list);
    }
    const long = [...byStream].filter(([stream, positions]) => {
      return (stream.startsWith("feature-") || stream.startsWith("release-")) && positions.length > SNAPSHOT_EVERY;
    });
    expect(long.length).toBeGreaterThan(0);
    let fromSnapshot = 0;
    for (const [stream, positions] of long) {
      const id = stream.slice(stream.indexOf("-") + 1);
      const asOf = stream.startsWith("feature-") ? featureAsOf : releaseAsOf;
      for (const index of [SNAPSHOT_EVERY - 2, SNAPSHOT_EVERY - 1, SNAPSHOT_EVERY, positions.length - 1]) {
        const position = positions[Math.min(index, positions.length - 1)] as string;
        const plain = await asOf(store, id, { position });
        expect(await asOf(store, id, { position }, { snapshots: readModels })).toEqual(plain);
        if (readModels.latestSnapshot(stream, (at) => store.comparePositions(at, position) <= 0) !== null) {
          fromSnapshot++;
        }
      }
      const events = scenario.log.filter((event) => event.stream === stream);
      const middle = events[Math.floor(events.length / 2)]?.metadata.occurredAt as string;
      expect(await asOf(store, id, { at: middle }, { snapshots: readModels })).toEqual(
        await asOf(store, id, { at: middle }),
      );
    }
    expect(fromSnapshot).toBeGreaterThan(0);
  });

  it("a fold that starts from a snapshot reads only the events after it", async () => {
    const { store } = scenario;
    const counts = new Map<string, number>();
    for (const event of scenario.log) counts.set(event.stream, (counts.get(event.stream) ?? 0) + 1);
    const [stream] = [...counts].find(([name, n]) => name.startsWith("feature-") && n > SNAPSHOT_EVERY) ?? [];
    expect(stream).toBeDefined();
    const id = (stream as string).slice("feature-".length);
    const head = scenario.log.filter((event) => event.stream === stream).at(-1)?.position as string;
    let read = 0;
    // The two calls a fold makes, counted.
    const counting = {
      comparePositions: (a: string, b: string) => store.comparePositions(a, b),
      readStream: async (name: string, options?: Parameters<typeof store.readStream>[1]) => {
        const page = await store.readStream(name, options);
        read += page.length;
        return page;
      },
    } as unknown as typeof store;
    await featureAsOf(counting, id, { position: head }, { snapshots: readModels });
    expect(read).toBeLessThan(SNAPSHOT_EVERY);
    read = 0;
    await featureAsOf(counting, id, { position: head });
    expect(read).toBe(counts.get(stream as string));
  });
});

describe("projection slots", () => {
  it("give two processes on one directory two slots, each caught up on its own from the one store", async () => {
    const root = join(work, "two");
    const a = openProjectionSlot({ root });
    const b = openProjectionSlot({ root });
    expect(a.dir).not.toBe(b.dir);
    await catchUp(a.readModels);
    await catchUp(b.readModels);
    expect(digest(a.readModels)).toBe(expected);
    expect(digest(b.readModels)).toBe(expected);
    a.close();
    // A restart takes a free slot this build can read, and resumes from it.
    const again = openProjectionSlot({ root });
    expect(again.dir).toBe(a.dir);
    expect(again.fresh).toBe(false);
    expect(await catchUp(again.readModels)).toBe(0);
    again.close();
    b.close();
  });

  it("a new version builds a new file from the log, leaves the old one to its process, then removes it", async () => {
    const root = join(work, "versions");
    const dir = join(root, "slot-0");
    mkdirSync(dir, { recursive: true });
    // What an older build left: read models of another shape (garbage to this one) and an old audit index.
    const old = readModelsFile(dir, "0-000000000000");
    writeFileSync(old, "rows of another shape");
    writeFileSync(join(dir, "audit-v1.sqlite"), "an older audit index");

    const slot = openProjectionSlot({ root });
    expect(slot.dir).toBe(dir);
    expect(slot.fresh).toBe(true);
    // Until the new one has caught up, the old files stay (a process of the old build may serve from them).
    expect(existsSync(old)).toBe(true);
    expect(await catchUp(slot.readModels)).toBe(scenario.log.length);
    expect(digest(slot.readModels)).toBe(expected);
    const kept = join(dir, "audit-current.sqlite");
    writeFileSync(kept, "");
    expect(slot.removeStale([kept]).sort()).toEqual(["audit-v1.sqlite", "read-models-v0-000000000000.sqlite"]);
    expect(
      readdirSync(dir)
        .filter((name) => !/-(wal|shm|journal)$/.test(name))
        .sort(),
    ).toEqual(["audit-current.sqlite", "slot.lock", `read-models-v${READ_MODELS_SHAPE}.sqlite`].sort());
    slot.close();
  });

  it("the version in the file name follows the code: a change in any module the projection imports changes it", () => {
    const dir = join(work, "code");
    mkdirSync(join(dir, "core"), { recursive: true });
    const entry = join(dir, "projection.ts");
    writeFileSync(entry, 'import { rule } from "./core/rule.ts";\nexport const apply = rule;\n');
    writeFileSync(join(dir, "core", "rule.ts"), 'import type { X } from "../types.ts";\nexport const rule = 1;\n');
    writeFileSync(join(dir, "types.ts"), "export type X = number;\n");
    expect(moduleClosure(entry).map((file) => file.slice(dir.length))).toEqual([
      "/core/rule.ts",
      "/projection.ts",
      "/types.ts",
    ]);
    const before = codeFingerprint(entry);
    expect(codeFingerprint(entry)).toBe(before);
    writeFileSync(join(dir, "core", "rule.ts"), 'import type { X } from "../types.ts";\nexport const rule = 2;\n');
    expect(codeFingerprint(entry)).not.toBe(before);
    // The read models' own closure covers the evolves and the upcasters.
    const closure = moduleClosure(fileURLToPath(new URL("../../services/projections/read-models.ts", import.meta.url)));
    for (const module of ["release/release.ts", "feature/feature.ts", "core/upcasters.ts", "token/token.ts"]) {
      expect(closure.some((file) => file.endsWith(module))).toBe(true);
    }
  });
});

// What is specific to the embedded store: its file format and settings, its position format, and
// several processes sharing one file (writers contending, subscribers seeing other processes' appends).

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventToAppend, RecordedEvent } from "../port.ts";
import { createSqliteEventStore, formatSqlitePosition, type SqliteEventStore } from "./sqlite-event-store.ts";

const CHILD = join(import.meta.dirname, "..", "testing", "child-writer.ts");

const event = (type = "Happened", data: unknown = {}): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: {
    actor: "test",
    occurredAt: "2024-01-01T00:00:00.000Z",
    correlationId: randomUUID(),
    causationId: null,
    schemaVersion: 1,
    projectId: null,
  },
});

const runChild = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });

const waitUntil = async (condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

describe("embedded (sqlite) event store", () => {
  let dir: string;
  let path: string;
  const opened: SqliteEventStore[] = [];
  const open = (options: { pollIntervalMs?: number } = {}): SqliteEventStore => {
    const store = createSqliteEventStore({ path, ...options });
    opened.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "sqlite-event-store-"));
    path = join(dir, "events.sqlite");
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates the events table in WAL mode with synchronous=FULL and the required unique keys", async () => {
    const store = open();
    await store.append("s-1", [event()], "no_stream");
    const raw = new DatabaseSync(path);
    try {
      expect(raw.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
      expect(raw.prepare("PRAGMA user_version").get()).toEqual({ user_version: 1 });
      const columns = raw.prepare("PRAGMA table_info(events)").all() as Array<{ name: string; pk: number }>;
      expect(columns.map((c) => c.name)).toEqual([
        "position",
        "stream",
        "revision",
        "id",
        "type",
        "data",
        "metadata",
        "recorded_at",
      ]);
      expect(columns.find((c) => c.pk === 1)?.name).toBe("position");
      const uniques = (raw.prepare("PRAGMA index_list(events)").all() as Array<{ name: string; unique: number }>)
        .filter((index) => index.unique === 1)
        .map((index) =>
          (raw.prepare(`PRAGMA index_info("${index.name}")`).all() as Array<{ name: string }>).map((c) => c.name),
        );
      expect(uniques).toEqual(expect.arrayContaining([["id"], ["stream", "revision"]]));
      const row = raw.prepare("SELECT data, metadata FROM events").get() as { data: string; metadata: string };
      expect(JSON.parse(row.data)).toEqual({});
      expect(JSON.parse(row.metadata)).toMatchObject({ actor: "test" });
    } finally {
      raw.close();
    }
    // Per-connection settings of the store's own connection: 2 = FULL.
    expect(store.settings()).toEqual({ journalMode: "wal", synchronous: 2 });
    const normal = createSqliteEventStore({ path, synchronous: "NORMAL" });
    opened.push(normal);
    expect(normal.settings().synchronous).toBe(1);
  });

  it("writes positions as 20-digit zero-padded decimals that sort as strings", async () => {
    const store = open();
    expect(await store.headPosition()).toBeNull();
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await store.append(`s-${i % 3}`, [event()], "any"));
    const positions = results.map((r) => r.position);
    for (const position of positions) expect(position).toMatch(/^\d{20}$/);
    expect(positions[0]).toBe(formatSqlitePosition(1));
    expect([...positions].sort()).toEqual(positions);
    expect(store.comparePositions("00000000000000000009", "00000000000000000010")).toBeLessThan(0);
    expect(() => store.comparePositions("C1/P1", positions[0] as string)).toThrow(/not a position/);
    await expect(store.readAll({ after: "nope" })).rejects.toMatchObject({ code: "VALIDATION", field: "after" });
  });

  it("readAllStored: the events of readAll forwards, with metadata as the stored JSON text", async () => {
    const store = open();
    for (let i = 0; i < 7; i++) {
      await store.append(`s-${i % 3}`, [event("Happened", { i, text: "ü☃" }), event("Followed", [i])], "any");
    }
    const all = await store.readAll();
    const stored = await store.readAllStored();
    expect(stored.map(({ metadataJson, ...rest }) => ({ ...rest, metadata: JSON.parse(metadataJson) }))).toEqual(all);
    expect(stored.every((e) => !("metadata" in e))).toBe(true);
    const after = all[3]?.position as string;
    expect((await store.readAllStored({ after, maxCount: 4 })).map((e) => e.id)).toEqual(
      all.slice(4, 8).map((e) => e.id),
    );
    expect(await store.readAllStored({ after: all[all.length - 1]?.position as string })).toEqual([]);
    expect(await store.readAllStored({ maxCount: 0 })).toEqual([]);
    await expect(store.readAllStored({ after: "nope" })).rejects.toMatchObject({ code: "VALIDATION", field: "after" });
    await expect(store.readAllStored({ maxCount: -1 })).rejects.toMatchObject({ code: "VALIDATION" });
  });

  it("delivers a long history to a synchronous handler a page at a time, letting the event loop run between pages", async () => {
    const store = open();
    for (let i = 0; i < 20; i++) {
      await store.append(
        `s-${i}`,
        Array.from({ length: 100 }, () => event()),
        "no_stream",
      );
    }
    let delivered = 0;
    let deliveredWhenImmediateRan = -1;
    setImmediate(() => {
      deliveredWhenImmediateRan = delivered;
    });
    const caughtUp = new Promise<void>((resolve) => {
      const subscription = store.subscribeToAll({
        onEvent: () => {
          delivered++;
        },
        onCaughtUp: () => {
          resolve();
          void subscription.close();
        },
      });
    });
    await caughtUp;
    expect(delivered).toBe(2000);
    expect(deliveredWhenImmediateRan).toBeGreaterThan(0);
    expect(deliveredWhenImmediateRan).toBeLessThan(2000);
  });

  it("rejects a partial overlap made with any, and an id reused on another stream, writing nothing", async () => {
    const store = open();
    const [a, b, c] = [event(), event(), event()];
    await store.append("s-1", [a, b], "any");
    await expect(store.append("s-1", [b, c], "any")).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(store.append("s-2", [a], "any")).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(store.append("s-1", [b, a], "any")).rejects.toMatchObject({ code: "CONFLICT" });
    expect((await store.readAll()).map((e) => e.id)).toEqual([a.id, b.id]);
  });

  it("rejects data that cannot be stored as JSON", async () => {
    const store = open();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(store.append("s", [event("X", { n: 1n })], "any")).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(store.append("s", [event("X", cyclic)], "any")).rejects.toMatchObject({ code: "VALIDATION" });
    expect(await store.readAll()).toEqual([]);
  });

  it("refuses to open a file written by a newer schema, and to work once closed", async () => {
    const raw = new DatabaseSync(path);
    raw.exec("PRAGMA user_version = 99");
    raw.close();
    expect(() => createSqliteEventStore({ path })).toThrow(/schema version 99/);

    const other = createSqliteEventStore({ path: join(dir, "other.sqlite") });
    await other.close();
    await expect(other.append("s", [event()], "any")).rejects.toThrow(/closed/);
  });

  it("a subscription sees events appended by another process (polling)", async () => {
    const store = open({ pollIntervalMs: 50 });
    const received: RecordedEvent[] = [];
    let caughtUp = false;
    const subscription = store.subscribeToAll({
      onEvent: (e) => {
        received.push(e);
      },
      onCaughtUp: () => {
        caughtUp = true;
      },
    });
    await waitUntil(() => caughtUp, "caught up");
    const child = await runChild(["append", path, "from-child", "5"]);
    expect(child.code, child.stderr).toBe(0);
    await waitUntil(() => received.length === 5, "5 events from the child process");
    expect(received.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
    expect(received.every((e) => e.stream === "from-child")).toBe(true);
    await subscription.close();
  });

  it("writer processes contending on one stream lose no update (read-decide-append with retries)", async () => {
    open();
    const perProcess = 60;
    const results = await Promise.all(
      [1, 2, 3].map(() => runChild(["counter", path, "counter-1", String(perProcess)])),
    );
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const store = open();
    const events = await store.readStream("counter-1");
    expect(events.length).toBe(3 * perProcess);
    events.forEach((e, i) => {
      expect(e.revision).toBe(BigInt(i));
      expect(e.data).toEqual({ value: i + 1 });
    });
  }, 60_000);

  it("reads with fromRevision beyond SQLite's integer range without failing", async () => {
    const store = open();
    await store.append("s", [event(), event()], "no_stream");
    expect(await store.readStream("s", { fromRevision: 2n ** 64n })).toEqual([]);
    expect((await store.readStream("s", { direction: "backwards", fromRevision: 2n ** 64n })).length).toBe(2);
    await expect(store.append("s", [event()], 2n ** 64n)).rejects.toMatchObject({ code: "CONFLICT" });
  });
});

// Kills a writer process with SIGKILL in the middle of a burst of appends, several times over the same file,
// then checks what survived: every acknowledged event, no partial batch, contiguous revisions.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import type { RecordedEvent } from "./port.ts";
import { createSqliteEventStore } from "./sqlite/sqlite-event-store.ts";
import type { CrashAck } from "./testing/child-writer.ts";

const CHILD = join(import.meta.dirname, "testing", "child-writer.ts");
const ROUNDS = 4;

interface Round {
  acks: CrashAck[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts a writer, SIGKILLs it a few ms after its `killAfter`-th acknowledgement. */
const runAndKill = (path: string, killAfter: number, extraDelayMs: number): Promise<Round> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [CHILD, "crash", path], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acks: CrashAck[] = [];
    let stderr = "";
    let killing = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      if (!line.startsWith("ACK ")) return;
      acks.push(JSON.parse(line.slice(4)) as CrashAck);
      if (acks.length >= killAfter && !killing) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), extraDelayMs);
      }
    });
    child.on("error", reject);
    child.on("exit", (_code, signal) => {
      lines.close();
      resolve({ acks, signal, stderr });
    });
  });

describe("embedded store crash safety", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("keeps every acknowledged append and never a partial batch across repeated SIGKILLs", async () => {
    dir = await mkdtemp(join(tmpdir(), "event-store-crash-"));
    const path = join(dir, "events.sqlite");
    const acks: CrashAck[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const result = await runAndKill(path, 25 + round * 10, round);
      // It must have been killed by us mid-burst, not have stopped on its own.
      expect(result.signal, result.stderr).toBe("SIGKILL");
      expect(result.acks.length).toBeGreaterThanOrEqual(25 + round * 10);
      acks.push(...result.acks);
    }

    const raw = new DatabaseSync(path);
    expect(raw.prepare("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    raw.close();

    const store = createSqliteEventStore({ path });
    try {
      const all = await store.readAll();
      const byId = new Map(all.map((event) => [event.id, event]));

      // 1. Every acknowledged event is there, where the acknowledgement said.
      for (const ack of acks) {
        ack.ids.forEach((id, i) => {
          const event = byId.get(id);
          expect(event, `acknowledged event ${id} missing`).toBeDefined();
          expect(event?.stream).toBe(ack.stream);
          expect(event?.revision).toBe(BigInt(ack.firstRevision) + BigInt(i));
        });
        expect(byId.get(ack.ids[ack.ids.length - 1] as string)?.position).toBe(ack.position);
      }

      // 2. Batches are all-or-nothing, stored contiguously in order.
      const batches = new Map<string, RecordedEvent[]>();
      for (const event of all) {
        const batchId = event.metadata.batchId as string;
        const batch = batches.get(batchId) ?? [];
        batch.push(event);
        batches.set(batchId, batch);
      }
      for (const batch of batches.values()) {
        const size = batch[0]?.metadata.batchSize as number;
        expect(batch.length).toBe(size);
        batch.forEach((event, i) => {
          expect(event.metadata.batchIndex).toBe(i);
          expect(event.revision).toBe((batch[0]?.revision ?? 0n) + BigInt(i));
          expect(event.stream).toBe(batch[0]?.stream);
        });
      }

      // 3. Revisions contiguous from 0 in every stream; positions strictly increasing.
      const revisions = new Map<string, bigint>();
      for (const event of all) {
        const next = revisions.get(event.stream) ?? 0n;
        expect(event.revision).toBe(next);
        revisions.set(event.stream, next + 1n);
      }
      for (let i = 1; i < all.length; i++) {
        expect(store.comparePositions(all[i - 1]?.position as string, all[i]?.position as string)).toBeLessThan(0);
      }
      // The writer resumed after each kill from the stored revisions, so nothing acknowledged was lost.
      expect(all.length).toBeGreaterThanOrEqual(acks.reduce((n, ack) => n + ack.ids.length, 0));
    } finally {
      await store.close();
    }
  }, 120_000);
});

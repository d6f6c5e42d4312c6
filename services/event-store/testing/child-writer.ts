// A separate writer process for the crash and multi-process tests (run with `node child-writer.ts <mode> …`).
//   crash <file>                      appends batches forever; prints `ACK <json>` after each acknowledged append
//   append <file> <stream> <count>    appends <count> single events to <stream>, then prints DONE
//   counter <file> <stream> <count>   <count> read-decide-append increments through handleCommand, then prints DONE

import { randomUUID } from "node:crypto";
import type { Decider } from "../../core/decider.ts";
import { handleCommand } from "../command-handler.ts";
import type { EventToAppend, ExpectedRevision } from "../port.ts";
import { createSqliteEventStore } from "../sqlite/sqlite-event-store.ts";

export interface CrashAck {
  batchId: string;
  stream: string;
  ids: string[];
  firstRevision: string;
  lastRevision: string;
  position: string;
}

type CounterEvent = { type: "Incremented"; data: { value: number } };

export const counterDecider: Decider<number, "increment", CounterEvent> = {
  initialState: () => 0,
  evolve: (_, event) => event.data.value,
  decide: (_, state) => [{ type: "Incremented", data: { value: state + 1 } }],
};

const metadata = (extra: Record<string, unknown> = {}): EventToAppend["metadata"] => ({
  actor: "child-writer",
  occurredAt: new Date().toISOString(),
  correlationId: randomUUID(),
  causationId: null,
  schemaVersion: 1,
  projectId: null,
  ...extra,
});

const write = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const crash = async (path: string): Promise<void> => {
  const store = createSqliteEventStore({ path });
  const streams = Array.from({ length: 5 }, (_, i) => `crash-${i}`);
  const expected = new Map<string, ExpectedRevision>();
  for (const stream of streams) {
    const [last] = await store.readStream(stream, { direction: "backwards", maxCount: 1 });
    expected.set(stream, last === undefined ? "no_stream" : last.revision);
  }
  // Payloads big enough that a batch spans several pages, so a torn write would be visible.
  const filler = "p".repeat(2000);
  for (let k = 0; ; k++) {
    const stream = streams[k % streams.length] as string;
    const size = 1 + ((k * 7) % 40);
    const batchId = randomUUID();
    const events: EventToAppend[] = Array.from({ length: size }, (_, i) => ({
      id: randomUUID(),
      type: "Burst",
      data: { k, i, filler },
      metadata: metadata({ batchId, batchSize: size, batchIndex: i }),
    }));
    const result = await store.append(stream, events, expected.get(stream) ?? "no_stream");
    expected.set(stream, result.nextExpectedRevision);
    const ack: CrashAck = {
      batchId,
      stream,
      ids: events.map((e) => e.id),
      firstRevision: String(result.nextExpectedRevision - BigInt(size - 1)),
      lastRevision: String(result.nextExpectedRevision),
      position: result.position,
    };
    write(`ACK ${JSON.stringify(ack)}`);
  }
};

const appendSingles = async (path: string, stream: string, count: number): Promise<void> => {
  const store = createSqliteEventStore({ path });
  for (let i = 0; i < count; i++) {
    await store.append(stream, [{ id: randomUUID(), type: "FromChild", data: { i }, metadata: metadata() }], "any");
  }
  await store.close();
  write("DONE");
};

const counter = async (path: string, stream: string, count: number): Promise<void> => {
  const store = createSqliteEventStore({ path });
  let attempts = 0;
  for (let i = 0; i < count; i++) {
    const result = await handleCommand(store, counterDecider, {
      stream,
      command: "increment",
      metadata: {
        actor: "child-writer",
        occurredAt: new Date().toISOString(),
        correlationId: randomUUID(),
        projectId: null,
      },
      maxAttempts: 10_000,
    });
    attempts += result.attempts;
  }
  await store.close();
  write(`DONE ${attempts}`);
};

const [mode, path, stream, count] = process.argv.slice(2);
if (path === undefined) throw new Error("usage: child-writer.ts <crash|append|counter> <file> [stream count]");
if (mode === "crash") await crash(path);
else if (mode === "append") await appendSingles(path, stream ?? "child", Number(count ?? 1));
else if (mode === "counter") await counter(path, stream ?? "counter", Number(count ?? 1));
else throw new Error(`unknown mode ${mode}`);

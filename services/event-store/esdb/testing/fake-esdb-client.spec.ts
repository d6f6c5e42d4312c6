// The fake is only worth what it copies: these pin the EventStoreDB and v6 client behaviour it claims
// (the server's write check, positions, read and subscription semantics, the client's stream mechanics),
// so a change that makes it more lenient than a real node fails here.

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  BACKWARDS,
  binaryEvent,
  END,
  type EventData,
  eventTypeFilter,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  type Position,
  type ResolvedEvent,
  START,
  type StreamingRead,
  StreamNotFoundError,
  streamNameFilter,
  UnavailableError,
  WrongExpectedVersionError,
} from "@eventstore/db-client";
import { describe, expect, it } from "vitest";
import { FakeEsdbServer, type FakeEsdbServerOptions, type FakeEventStoreDBClient } from "./fake-esdb-client.ts";

const json = (type = "Happened", data: Record<string, unknown> = {}, id = randomUUID()): EventData =>
  jsonEvent({ id, type, data, metadata: { by: "spec" } });

const drain = async <E>(read: StreamingRead<E>): Promise<E[]> => {
  const out: E[] = [];
  for await (const item of read) out.push(item);
  return out;
};

const streamIds = (read: ResolvedEvent[]): string[] => read.map((r) => r.event?.id ?? "");

const fixture = (options: FakeEsdbServerOptions = {}): { server: FakeEsdbServer; client: FakeEventStoreDBClient } => {
  const server = new FakeEsdbServer(options);
  return { server, client: server.connect() };
};

const wrongVersion = async (promise: Promise<unknown>): Promise<WrongExpectedVersionError> => {
  const error = await promise.then(
    () => {
      throw new Error("expected WrongExpectedVersionError");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WrongExpectedVersionError);
  return error as WrongExpectedVersionError;
};

describe("fake EventStoreDB node and client", () => {
  describe("appends and positions", () => {
    it("answers the last event's $all position; commit === prepare; positions grow with record size", async () => {
      const { server, client } = fixture();
      const small = await client.appendToStream("s-1", [json("A"), json("B")], { expectedRevision: NO_STREAM });
      const big = await client.appendToStream("s-1", json("C", { text: "x".repeat(1000) }), { expectedRevision: 1n });
      const mine = server.records.filter((r) => r.streamId === "s-1");
      expect(mine.map((r) => r.revision)).toEqual([0n, 1n, 2n]);
      for (const r of mine) expect(r.position.commit).toBe(r.position.prepare);
      expect(small).toEqual({ success: true, nextExpectedRevision: 1n, position: mine[1]?.position });
      expect(big.position).toEqual(mine[2]?.position);
      const [a, b, c] = mine.map((r) => r.position.commit);
      expect((c as bigint) - (b as bigint)).toBe((b as bigint) - (a as bigint));
      expect(server.writerPosition - (c as bigint)).toBeGreaterThan(1000n);
    });

    it("moves a record that does not fit in the chunk to the start of the next one", async () => {
      const { server, client } = fixture({ chunkSize: 1024n });
      for (let i = 0; i < 6; i++) await client.appendToStream("s-1", json("A", { text: "y".repeat(200) }));
      const starts = server.records.filter((r) => r.streamId === "s-1").map((r) => r.position.commit);
      expect(starts.filter((p) => p % 1024n === 0n).length).toBeGreaterThan(0);
      for (const p of starts) expect(p % 1024n).toBeLessThan(1024n - 200n);
    });

    it("rejects a stale or future exact revision with the stream name, expected and actual versions", async () => {
      const { client } = fixture();
      await client.appendToStream("s-1", [json(), json()]);
      const stale = await wrongVersion(client.appendToStream("s-1", json(), { expectedRevision: 0n }));
      expect(stale).toMatchObject({ streamName: "s-1", expectedVersion: 0n, actualVersion: 1n });
      const future = await wrongVersion(client.appendToStream("s-1", json(), { expectedRevision: 7n }));
      expect(future).toMatchObject({ expectedVersion: 7n, actualVersion: 1n });
      const missing = await wrongVersion(client.appendToStream("s-2", json(), { expectedRevision: "stream_exists" }));
      expect(missing).toMatchObject({ streamName: "s-2", expectedVersion: "stream_exists", actualVersion: NO_STREAM });
      const exists = await wrongVersion(client.appendToStream("s-1", json(), { expectedRevision: NO_STREAM }));
      expect(exists.actualVersion).toBe(1n);
    });

    it("an exact or no_stream retry is idempotent only when the whole batch sits right after `expected`", async () => {
      const { server, client } = fixture();
      const batch = [json("A"), json("B")];
      const first = await client.appendToStream("s-1", batch, { expectedRevision: NO_STREAM });
      await client.appendToStream("s-1", json("C"), { expectedRevision: 1n });
      // The stream moved on: the same batch at the same place is still the same write.
      expect(await client.appendToStream("s-1", batch, { expectedRevision: NO_STREAM })).toEqual(first);
      // Same ids, another place; or only the first event of the batch stored: a conflict.
      await wrongVersion(client.appendToStream("s-1", batch, { expectedRevision: 0n }));
      await wrongVersion(
        client.appendToStream("s-1", [batch[0] as EventData, json("New")], { expectedRevision: NO_STREAM }),
      );
      expect(server.records.filter((r) => r.streamId === "s-1").length).toBe(3);
    });

    it("`any` retries are recognised from a cache of recent ids: best effort, gone after a restart", async () => {
      const { server, client } = fixture();
      const batch = [json("A"), json("B")];
      const first = await client.appendToStream("s-1", batch);
      expect(await client.appendToStream("s-1", batch)).toEqual(first);
      // First id known, second not: a conflict ("corrupted idempotency").
      await wrongVersion(client.appendToStream("s-1", [batch[0] as EventData, json("C")]));
      server.restart();
      await client.appendToStream("s-1", batch);
      expect(server.records.filter((r) => r.streamId === "s-1").map((r) => r.type)).toEqual(["A", "B", "A", "B"]);
    });

    it("does not keep event ids unique across the store (unlike the embedded store)", async () => {
      const { server, client } = fixture();
      const event = json("A");
      await client.appendToStream("s-1", event, { expectedRevision: NO_STREAM });
      await client.appendToStream("s-2", event, { expectedRevision: NO_STREAM });
      // Appended at the stream's current revision, the check passes and the id is written again.
      await client.appendToStream("s-1", event, { expectedRevision: 0n });
      expect(server.records.filter((r) => r.id === event.id).map((r) => `${r.streamId}@${r.revision}`)).toEqual([
        "s-1@0",
        "s-2@0",
        "s-1@1",
      ]);
    });

    it("answers an idempotent append with its original position, or without one when told to act as an older server", async () => {
      const modern = fixture();
      const batch = [json(), json()];
      const first = await modern.client.appendToStream("s-1", batch, { expectedRevision: NO_STREAM });
      expect((await modern.client.appendToStream("s-1", batch, { expectedRevision: NO_STREAM })).position).toEqual(
        first.position,
      );
      const older = fixture({ idempotentPositions: false });
      await older.client.appendToStream("s-1", batch, { expectedRevision: NO_STREAM });
      const again = await older.client.appendToStream("s-1", batch, { expectedRevision: NO_STREAM });
      expect(again).toEqual({ success: true, nextExpectedRevision: 1n, position: undefined });
    });

    it("handles concurrent appends one at a time in arrival order", async () => {
      const { client } = fixture();
      await client.appendToStream("s-1", json(), { expectedRevision: NO_STREAM });
      const settled = await Promise.allSettled(
        Array.from({ length: 5 }, () => client.appendToStream("s-1", json(), { expectedRevision: 0n })),
      );
      expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "rejected", "rejected", "rejected"]);
    });

    it("round-trips JSON data and metadata through JSON text, binary data and metadata as bytes", async () => {
      const { client } = fixture();
      const bytes = new Uint8Array([0, 255, 7]);
      await client.appendToStream("s-1", [
        jsonEvent({ type: "J", data: { a: [1, "two", null], b: undefined } }),
        binaryEvent({ type: "B", data: bytes, metadata: new Uint8Array([1, 2, 3]) }),
        jsonEvent({ type: "M", data: ["x"], metadata: { k: "v" } }),
      ]);
      const [j, b, m] = (await drain(client.readStream("s-1"))).map((r) => r.event);
      expect(j).toMatchObject({ isJson: true, data: { a: [1, "two", null] }, metadata: undefined });
      expect(j?.created).toBeInstanceOf(Date);
      expect(b).toMatchObject({ isJson: false, data: bytes, metadata: new Uint8Array([1, 2, 3]) });
      expect(m).toMatchObject({ data: ["x"], metadata: { k: "v" } });
    });

    it("injects faults: a failed append writes nothing, a lost reply has written", async () => {
      const { server, client } = fixture();
      const refused = new UnavailableError(undefined, "refused");
      server.failNextAppend(refused, { stream: "s-2" });
      await client.appendToStream("s-1", json());
      await expect(client.appendToStream("s-2", json())).rejects.toBe(refused);
      server.failNextAppend(refused, { when: "after" });
      await expect(client.appendToStream("s-2", json())).rejects.toBe(refused);
      expect(server.records.filter((r) => !r.streamId.startsWith("$")).map((r) => r.streamId)).toEqual(["s-1", "s-2"]);
    });
  });

  describe("reads", () => {
    it("fails a read of a missing stream while iterating, with StreamNotFoundError", async () => {
      const { client } = fixture();
      const read = client.readStream("nope");
      const error = await drain(read).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StreamNotFoundError);
      expect(error).toMatchObject({ streamName: "nope" });
    });

    it("reads a stream forwards and backwards from a revision, up to maxCount, with $all positions", async () => {
      const { server, client } = fixture();
      await client.appendToStream("s-1", [json(), json(), json(), json()]);
      const revisions = (read: ResolvedEvent[]): bigint[] => read.map((r) => r.event?.revision ?? -1n);
      expect(revisions(await drain(client.readStream("s-1", { fromRevision: 1n, maxCount: 2 })))).toEqual([1n, 2n]);
      expect(revisions(await drain(client.readStream("s-1", { direction: BACKWARDS, fromRevision: END })))).toEqual([
        3n,
        2n,
        1n,
        0n,
      ]);
      expect(revisions(await drain(client.readStream("s-1", { direction: BACKWARDS, fromRevision: 9n })))).toEqual([
        3n,
        2n,
        1n,
        0n,
      ]);
      expect(await drain(client.readStream("s-1", { fromRevision: 4n }))).toEqual([]);
      const [first] = await drain(client.readStream("s-1", { maxCount: 1n }));
      const stored = server.records.find((r) => r.streamId === "s-1");
      expect(first?.event?.position).toEqual(stored?.position);
      expect(first?.commitPosition).toBe(stored?.position.commit);
      const older = fixture({ positionsOnStreamReads: false });
      await older.client.appendToStream("s-1", json());
      const [withoutPosition] = await drain(older.client.readStream("s-1"));
      expect(withoutPosition?.event?.position).toBeUndefined();
      expect(withoutPosition?.commitPosition).toBeUndefined();
    });

    it("reads $all forwards from a position inclusive, backwards exclusive, with the system events", async () => {
      const { server, client } = fixture({ projections: true });
      await client.appendToStream("order-1", [json("A"), json("B")]);
      const all = server.records;
      expect(all.some((r) => r.type === "$>" && r.streamId === "$ce-order")).toBe(true);
      expect(all.some((r) => r.type === "$>" && r.streamId === "$et-A")).toBe(true);
      const third = all[2]?.position as Position;
      const forwards = await drain(client.readAll({ fromPosition: third, maxCount: 2 }));
      expect(forwards.map((r) => r.event?.position)).toEqual([all[2]?.position, all[3]?.position]);
      const backwards = await drain(client.readAll({ fromPosition: third, direction: BACKWARDS }));
      expect(backwards.map((r) => r.event?.position)).toEqual([all[1]?.position, all[0]?.position]);
      expect(await drain(client.readAll({ fromPosition: END }))).toEqual([]);
      expect(await drain(client.readAll({ fromPosition: START, direction: BACKWARDS }))).toEqual([]);
      expect((await drain(client.readAll({ direction: FORWARDS }))).length).toBe(all.length);
      const end = { commit: server.writerPosition, prepare: server.writerPosition };
      expect(await drain(client.readAll({ fromPosition: end }))).toEqual([]);
    });

    it("refuses a position that does not start a record", async () => {
      const { server, client } = fixture();
      await client.appendToStream("s-1", json());
      const last = server.records[server.records.length - 1]?.position as Position;
      const inside = { commit: last.commit + 1n, prepare: last.commit + 1n };
      await expect(drain(client.readAll({ fromPosition: inside }))).rejects.toThrow(/Invalid position/);
      const past = { commit: server.writerPosition + 10n, prepare: server.writerPosition + 10n };
      await expect(drain(client.readAll({ fromPosition: past, direction: BACKWARDS }))).rejects.toThrow(
        /Invalid position/,
      );
    });
  });

  describe("subscriptions to $all", () => {
    const collect = (
      subscription: ReturnType<FakeEventStoreDBClient["subscribeToAll"]>,
    ): { events: AllStreamResolvedEvent[]; caughtUpAt: number[]; done: Promise<unknown> } => {
      const events: AllStreamResolvedEvent[] = [];
      const caughtUpAt: number[] = [];
      // Events sent before caughtUp: the ones iterated plus the ones still in the client's buffer.
      subscription.on("caughtUp", () => caughtUpAt.push(events.length + subscription.readableLength));
      const done = (async () => {
        for await (const resolved of subscription) events.push(resolved as AllStreamResolvedEvent);
      })().then(
        () => "ended",
        (error: unknown) => error,
      );
      return { events, caughtUpAt, done };
    };

    it("starts strictly after fromPosition, sends caughtUp once the history is sent, then live events", async () => {
      const { server, client } = fixture();
      await client.appendToStream("s-1", [json(), json(), json()]);
      const mine = server.records.filter((r) => r.streamId === "s-1");
      const subscription = client.subscribeToAll({ fromPosition: mine[0]?.position, filter: excludeSystemEvents() });
      const c = collect(subscription);
      await sleep(20);
      expect(c.caughtUpAt).toEqual([2]);
      expect(subscription.id).toMatch(/^fake-subscription-/);
      await client.appendToStream("s-1", json(), { expectedRevision: 2n });
      await sleep(20);
      expect(c.events.map((r) => r.event?.revision)).toEqual([1n, 2n, 3n]);
      await subscription.unsubscribe();
      expect(await c.done).toBe("ended");
    });

    it("emits caughtUp while earlier events can still wait in the client's buffer", async () => {
      const { client } = fixture();
      for (let i = 0; i < 4; i++)
        await client.appendToStream(
          `s-${i}`,
          Array.from({ length: 10 }, () => json()),
        );
      const subscription = client.subscribeToAll({ filter: excludeSystemEvents() });
      let buffered = -1;
      subscription.on("caughtUp", () => {
        buffered = subscription.readableLength;
      });
      let seen = 0;
      for await (const _ of subscription) {
        seen++;
        await sleep(1);
        if (seen === 40) break;
      }
      expect(buffered).toBeGreaterThan(0);
    });

    it("filters on the server by stream-name or event-type prefixes, or a regex", async () => {
      const { client } = fixture({ projections: true });
      await client.appendToStream("order-1", [json("Placed"), json("Paid")]);
      await client.appendToStream("user-1", json("Placed"));
      const byStream = collect(client.subscribeToAll({ filter: streamNameFilter({ prefixes: ["user-", "$ce-"] }) }));
      const byType = collect(client.subscribeToAll({ filter: eventTypeFilter({ prefixes: ["Pa"] }) }));
      const noSystem = collect(client.subscribeToAll({ filter: excludeSystemEvents() }));
      await sleep(30);
      expect(byStream.events.map((r) => r.event?.streamId)).toEqual(["$ce-order", "$ce-order", "user-1", "$ce-user"]);
      expect(byType.events.map((r) => r.event?.type)).toEqual(["Paid"]);
      // Only the type is looked at: a projection's Result events in $-streams pass.
      expect(noSystem.events.map((r) => `${r.event?.streamId}:${r.event?.type}`)).toEqual([
        "order-1:Placed",
        "order-1:Paid",
        "$projections-tally-result:Result",
        "$projections-tally-result:Result",
        "user-1:Placed",
        "$projections-tally-result:Result",
      ]);
    });

    it("calls checkpointReached for filtered subscriptions while it skips events", async () => {
      const { client } = fixture();
      for (let i = 0; i < 3; i++)
        await client.appendToStream(
          "skip-1",
          Array.from({ length: 30 }, () => json()),
        );
      const checkpoints: Position[] = [];
      const c = collect(
        client.subscribeToAll({
          filter: streamNameFilter({
            prefixes: ["keep-"],
            checkpointInterval: 1,
            checkpointReached: (_subscription, position) => {
              checkpoints.push(position);
            },
          }),
        }),
      );
      await sleep(30);
      expect(c.events).toEqual([]);
      expect(checkpoints.length).toBe(2);
      expect(checkpoints[0]?.commit).toBeLessThan(checkpoints[1]?.commit as bigint);
    });

    it("falls behind (fellBehind) and catches up again when the reader lags too far behind live", async () => {
      const { client } = fixture({ liveBufferSize: 2 });
      const subscription = client.subscribeToAll({ filter: excludeSystemEvents() });
      const messages: string[] = [];
      subscription.on("caughtUp", () => messages.push("caughtUp"));
      subscription.on("fellBehind", () => messages.push("fellBehind"));
      await sleep(10);
      let n = 0;
      const reading = (async () => {
        for await (const _ of subscription) {
          await sleep(1);
          if (++n === 100) break;
        }
      })();
      // More than the client's and the transport's buffers hold while the reader is slow.
      for (let i = 0; i < 100; i++) await client.appendToStream("s-1", json());
      await reading;
      expect(messages[0]).toBe("caughtUp");
      expect(messages).toContain("fellBehind");
      expect(messages[messages.length - 1]).toBe("caughtUp");
      expect(n).toBe(100);
    });

    it("never sends caughtUp when acting as a server before 23.10", async () => {
      const { client } = fixture({ caughtUpMessages: false });
      await client.appendToStream("s-1", json());
      const c = collect(client.subscribeToAll({}));
      await sleep(20);
      expect(c.events.length).toBeGreaterThan(0);
      expect(c.caughtUpAt).toEqual([]);
    });

    it("an injected error reaches the iterator after the events already sent; unsubscribe ends it quietly", async () => {
      const { server, client } = fixture();
      await client.appendToStream(
        "s-1",
        Array.from({ length: 5 }, () => json()),
      );
      const lost = new UnavailableError(undefined, "connection lost");
      server.failSubscriptionAfter(3, lost);
      const failing = collect(client.subscribeToAll({ filter: excludeSystemEvents() }));
      expect(await failing.done).toBe(lost);
      expect(failing.events.map((r) => r.event?.revision)).toEqual([0n, 1n, 2n]);
      const quiet = collect(client.subscribeToAll({ filter: excludeSystemEvents() }));
      await sleep(10);
      server.dropSubscriptions();
      expect(await quiet.done).toBe("ended");
      expect(server.activeSubscriptions).toBe(0);
    });

    it("dispose cancels the client's subscriptions and the client stays usable", async () => {
      const { server, client } = fixture();
      const c = collect(client.subscribeToAll({}));
      await sleep(10);
      expect(client.openCalls).toBe(1);
      await client.dispose();
      expect(await c.done).toBe("ended");
      await client.appendToStream("s-1", json());
      expect(streamIds(await drain(client.readStream("s-1"))).length).toBe(1);
      expect(server.activeSubscriptions).toBe(0);
    });
  });

  it("refuses an append larger than maxAppendSize", async () => {
    const { client } = fixture({ maxAppendSize: 100 });
    const expected: AppendExpectedRevision = "any";
    await expect(
      client.appendToStream("s-1", json("Big", { text: "z".repeat(200) }), { expectedRevision: expected }),
    ).rejects.toMatchObject({ maxAppendSize: 100 });
  });
});

// The EventStoreDB adapter over an in-memory fake of the node and of the v6 client (esdb/testing): the same
// conformance suite as the embedded store, then what only this adapter does.

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { binaryEvent, jsonEvent, UnavailableError } from "@eventstore/db-client";
import { afterEach, describe, expect, it } from "vitest";
import { DomainError } from "../../core/errors.ts";
import { describeEventStoreConformance } from "../conformance.ts";
import type { EventMetadata, EventStore, EventToAppend, RecordedEvent } from "../port.ts";
import {
  createEsdbEventStore,
  type EsdbEventStore,
  type EsdbEventStoreOptions,
  formatEsdbPosition,
  parseEsdbPosition,
} from "./esdb-event-store.ts";
import { FakeEsdbServer, type FakeEsdbServerOptions } from "./testing/fake-esdb-client.ts";

describeEventStoreConformance(
  "EventStoreDB adapter over the fake client",
  async () => {
    const server = new FakeEsdbServer({ projections: true });
    const opened: EventStore[] = [];
    const open = (): EventStore => {
      const store = createEsdbEventStore({ client: server.connect(), resubscribeDelayMs: 5 });
      opened.push(store);
      return store;
    };
    let store = open();
    return {
      store,
      reopen: async () => {
        await store.close();
        server.restart();
        store = open();
        return store;
      },
      openAnother: async () => open(),
      cleanup: async () => {
        for (const s of opened) await s.close();
      },
    };
  },
  { durable: true, sharedInstances: true },
);

const metadata = (): EventMetadata => ({
  actor: "esdb-spec",
  occurredAt: "2024-05-01T12:00:00.000Z",
  correlationId: randomUUID(),
  causationId: null,
  schemaVersion: 1,
  projectId: null,
});

const event = (type = "Happened", data: unknown = {}): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: metadata(),
});

const events = (count: number, type = "Happened"): EventToAppend[] =>
  Array.from({ length: count }, (_, n) => event(type, { n }));

const ids = (list: readonly { id: string }[]): string[] => list.map((e) => e.id);

const waitUntil = async (condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
};

const rejection = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );

describe("EventStoreDB adapter (over the fake client)", () => {
  let server: FakeEsdbServer;
  const opened: EsdbEventStore[] = [];
  const open = (
    serverOptions: FakeEsdbServerOptions = {},
    storeOptions: Omit<EsdbEventStoreOptions, "client" | "connectionString"> = {},
  ): EsdbEventStore => {
    server = new FakeEsdbServer(serverOptions);
    const store = createEsdbEventStore({ client: server.connect(), resubscribeDelayMs: 5, ...storeOptions });
    opened.push(store);
    return store;
  };

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });

  describe("errors", () => {
    it("WrongExpectedVersionError becomes DomainError CONFLICT naming stream, expected and actual", async () => {
      const store = open();
      await store.append("order-1", events(2), "no_stream");
      const error = await rejection(store.append("order-1", events(1), 0n));
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: "CONFLICT" });
      expect((error as Error).message).toBe(
        'Append to stream "order-1" rejected: expected revision 0, actual revision 1',
      );
      const missing = await rejection(store.append("order-2", events(1), "stream_exists"));
      expect((missing as Error).message).toBe(
        'Append to stream "order-2" rejected: expected stream_exists, actual no_stream',
      );
    });

    it("any other append error is rethrown unchanged and nothing is written", async () => {
      const store = open();
      const unavailable = new UnavailableError(undefined, "connection refused");
      server.failNextAppend(unavailable);
      expect(await rejection(store.append("order-1", events(1), "no_stream"))).toBe(unavailable);
      expect(await store.readStream("order-1")).toEqual([]);

      expect(await store.readStream("order-1")).toEqual([]);
    });

    it("an append larger than the server accepts is a VALIDATION error naming the limit", async () => {
      const store = open({ maxAppendSize: 64 * 1024 });
      const tooLarge = await rejection(store.append("order-1", [event("Big", { text: "x".repeat(70_000) })], "any"));
      expect(tooLarge).toMatchObject({ name: "DomainError", code: "VALIDATION", field: "events" });
      expect((tooLarge as Error).message).toContain("65536 bytes");
      expect(await store.readStream("order-1")).toEqual([]);
      await store.append("order-1", [event("Fits", { text: "x".repeat(60_000) })], "any");
    });

    it("an append whose reply was lost: the retry with the same ids returns the original result, stored once", async () => {
      const store = open();
      await store.append("order-1", events(1), "no_stream");
      const batch = events(3);
      const lost = new UnavailableError(undefined, "stream reset");
      server.failNextAppend(lost, { when: "after" });
      expect(await rejection(store.append("order-1", batch, 0n))).toBe(lost);
      const retried = await store.append("order-1", batch, 0n);
      const stored = await store.readStream("order-1");
      expect(ids(stored)).toEqual([stored[0]?.id, ...ids(batch)]);
      expect(retried).toEqual({ nextExpectedRevision: 3n, position: stored[3]?.position });
    });

    it("an idempotent append answered without a position (older servers) still returns the original position", async () => {
      const store = open({ idempotentPositions: false });
      const batch = events(2);
      const first = await store.append("order-1", batch, "no_stream");
      await store.append("order-1", events(1), 1n);
      expect(await store.append("order-1", batch, "no_stream")).toEqual(first);
    });

    it("on a server older than 22.6 (no positions on stream reads) reading a stream says what is needed", async () => {
      const store = open({ positionsOnStreamReads: false });
      await store.append("order-1", events(1), "no_stream");
      await expect(store.readStream("order-1")).rejects.toThrow("server 22.6 or later is required");
    });

    it("read errors other than a missing stream are rethrown unchanged", async () => {
      const store = open();
      await store.append("order-1", events(1), "no_stream");
      const broken = new UnavailableError(undefined, "read failed");
      server.failNextRead(broken);
      expect(await rejection(store.readStream("order-1"))).toBe(broken);
      server.failNextRead(broken);
      expect(await rejection(store.readAll())).toBe(broken);
      expect(await store.readStream("missing-1")).toEqual([]);
    });

    it("a well-formed position that is not in the log is refused by the server (not silently read past)", async () => {
      const store = open();
      const { position } = await store.append("order-1", events(1), "no_stream");
      const inside = formatEsdbPosition({
        commit: parseEsdbPosition(position).commit + 1n,
        prepare: parseEsdbPosition(position).commit + 1n,
      });
      await expect(store.readAll({ after: inside })).rejects.toThrow(/Invalid position/);
      await expect(store.readAll({ after: "not-a-position" })).rejects.toMatchObject({ code: "VALIDATION" });
    });
  });

  describe("positions", () => {
    it("formats C<commit>/P<prepare> zero-padded to 20 digits and parses it back, up to the largest log position", () => {
      const largest = 2n ** 63n - 1n;
      for (const position of [
        { commit: 0n, prepare: 0n },
        { commit: 1234n, prepare: 1200n },
        { commit: 2n ** 53n + 1n, prepare: 2n ** 53n + 1n },
        { commit: largest, prepare: largest },
      ]) {
        const text = formatEsdbPosition(position);
        expect(text).toMatch(/^C\d{20}\/P\d{20}$/);
        expect(parseEsdbPosition(text)).toEqual(position);
      }
      expect(formatEsdbPosition({ commit: 2n ** 53n + 1n, prepare: 7n })).toBe(
        "C00009007199254740993/P00000000000000000007",
      );
    });

    it("orders by commit, then prepare, and string order is the same order", () => {
      const store = open();
      const values = [
        { commit: 10n, prepare: 10n },
        { commit: 11n, prepare: 2n },
        { commit: 11n, prepare: 9n },
        { commit: 2n ** 53n, prepare: 2n ** 53n },
        { commit: 2n ** 53n + 1n, prepare: 0n },
        { commit: 2n ** 62n, prepare: 2n ** 62n },
      ];
      const texts = values.map(formatEsdbPosition);
      for (let i = 0; i < texts.length; i++) {
        for (let j = 0; j < texts.length; j++) {
          const a = texts[i] as string;
          const b = texts[j] as string;
          expect(Math.sign(store.comparePositions(a, b))).toBe(Math.sign(i - j));
          expect(Math.sign(a.localeCompare(b, "en"))).toBe(Math.sign(i - j));
        }
      }
      // Unpadded input is accepted and compared by value.
      expect(store.comparePositions("C9/P9", "C10/P0")).toBeLessThan(0);
    });

    it("refuses what is not a position with VALIDATION", () => {
      const store = open();
      for (const bad of ["", "C1", "1/2", "C-1/P0", "C1/P", "C123456789012345678901/P0", "c1/p1"]) {
        expect(() => store.comparePositions(bad, "C1/P1")).toThrow(expect.objectContaining({ code: "VALIDATION" }));
      }
    });

    it("keeps positions past 2^53 exact through append, reads, head and subscriptions, across chunk boundaries", async () => {
      const base = 2n ** 62n + 12_345n;
      const store = open({ firstPosition: base, chunkSize: 4096n });
      const results = [];
      for (let i = 0; i < 6; i++)
        results.push(await store.append(`big-${i % 2}`, events(3), i < 2 ? "no_stream" : "any"));
      const all = await store.readAll();
      expect(all.length).toBe(18);
      const commits = all.map((e) => parseEsdbPosition(e.position).commit);
      expect(commits.every((commit) => commit > base)).toBe(true);
      // Exactly the server's positions (no rounding through Number).
      expect(commits).toEqual(
        server.records.filter((r) => r.streamId.startsWith("big-")).map((r) => r.position.commit),
      );
      // Chunk boundaries were crossed: some record starts exactly on a chunk of 4096 bytes.
      expect(commits.some((commit) => commit % 4096n === 0n)).toBe(true);
      expect(results.map((r) => r.position)).toEqual([2, 5, 8, 11, 14, 17].map((i) => all[i]?.position));
      expect(await store.headPosition()).toBe(all[17]?.position);
      expect(ids(await store.readAll({ after: all[4]?.position as string, maxCount: 3 }))).toEqual(
        ids(all.slice(5, 8)),
      );
      const received: RecordedEvent[] = [];
      const subscription = store.subscribeToAll({
        after: all[9]?.position as string,
        onEvent: (e) => void received.push(e),
      });
      await waitUntil(() => received.length === 8, "events after the 10th");
      expect(ids(received)).toEqual(ids(all.slice(10)));
      await subscription.close();
    });
  });

  describe("system events", () => {
    it("never leave the adapter: readAll, headPosition and subscriptions skip $-streams and $-types", async () => {
      const store = open({ projections: true });
      await store.append("order-1", [event("Result", { mine: true })], "no_stream");
      await store.append("order-1", [event("Placed")], 0n);
      // The server's log holds system events after ours ($> links, a projection's Result event).
      const raw = server.records;
      expect(raw[raw.length - 1]?.streamId.startsWith("$")).toBe(true);
      expect(raw.some((r) => r.streamId.startsWith("$") && r.type === "Result")).toBe(true);

      const all = await store.readAll();
      expect(all.map((e) => `${e.stream}:${e.type}`)).toEqual(["order-1:Result", "order-1:Placed"]);
      expect(ids(await store.readAll({ direction: "backwards", maxCount: 1 }))).toEqual([all[1]?.id]);
      expect(await store.headPosition()).toBe(all[1]?.position);

      const everything: RecordedEvent[] = [];
      const byType: RecordedEvent[] = [];
      const byPrefix: RecordedEvent[] = [];
      const subscriptions = [
        store.subscribeToAll({ onEvent: (e) => void everything.push(e) }),
        // The server filters on type prefixes only: the projection's Result events pass it, the adapter drops them.
        store.subscribeToAll({ filter: { eventTypes: ["Result"] }, onEvent: (e) => void byType.push(e) }),
        store.subscribeToAll({ filter: { streamPrefixes: ["$ce-", "order-"] }, onEvent: (e) => void byPrefix.push(e) }),
      ];
      await store.append("order-1", [event("Result", { live: true })], 1n);
      await waitUntil(() => everything.length === 3 && byType.length === 2 && byPrefix.length === 3, "deliveries");
      await sleep(50);
      expect(everything.map((e) => e.stream)).toEqual(["order-1", "order-1", "order-1"]);
      expect(byType.map((e) => `${e.stream}:${e.type}`)).toEqual(["order-1:Result", "order-1:Result"]);
      expect(byPrefix.map((e) => e.stream)).toEqual(["order-1", "order-1", "order-1"]);
      for (const subscription of subscriptions) await subscription.close();
    });

    it("an empty store (only system events) has no head", async () => {
      const store = open({ projections: true });
      expect(server.records.length).toBeGreaterThan(0);
      expect(await store.headPosition()).toBeNull();
      expect(await store.readAll()).toEqual([]);
      await store.ping();
    });

    it("reads events written by other clients without our metadata", async () => {
      const store = open();
      const other = server.connect();
      await other.appendToStream("order-9", [
        jsonEvent({ type: "Imported", data: { ok: true } }),
        binaryEvent({ type: "Blob", data: new TextEncoder().encode("not json"), metadata: new Uint8Array([1, 2]) }),
      ]);
      const [imported, blob] = await store.readStream("order-9");
      expect(imported?.data).toEqual({ ok: true });
      expect(imported?.metadata).toMatchObject({ actor: "unknown" });
      expect(blob?.data).toBe("not json");
      expect(blob?.metadata).toMatchObject({ actor: "unknown" });
    });
  });

  describe("subscriptions", () => {
    it("onCaughtUp fires after the last history event is handled, even while events wait in the client's buffer", async () => {
      const store = open();
      for (let i = 0; i < 5; i++) await store.append(`order-${i}`, events(20), "no_stream");
      const received: RecordedEvent[] = [];
      let handledAtCaughtUp = -1;
      const subscription = store.subscribeToAll({
        onEvent: async (e) => {
          received.push(e);
          if (received.length % 7 === 0) await sleep(1);
        },
        onCaughtUp: () => {
          handledAtCaughtUp = received.length;
        },
      });
      await waitUntil(() => handledAtCaughtUp >= 0, "caught up");
      expect(handledAtCaughtUp).toBe(100);
      await subscription.close();
    });

    it("resubscribes from the last delivered position after a subscription error: no gap, no duplicate", async () => {
      const store = open({ projections: true });
      const history = events(40);
      await store.append("order-1", history.slice(0, 25), "no_stream");
      await store.append("order-2", history.slice(25), "no_stream");
      const received: RecordedEvent[] = [];
      const errors: Error[] = [];
      let caughtUp = 0;
      server.failSubscriptionAfter(30, new UnavailableError(undefined, "connection lost"));
      const subscription = store.subscribeToAll({
        filter: { streamPrefixes: ["order-"] },
        onEvent: async (e) => {
          received.push(e);
          await sleep(0);
        },
        onCaughtUp: () => {
          caughtUp++;
        },
        onError: (error) => void errors.push(error),
      });
      await waitUntil(() => caughtUp === 1, "caught up after the drop");
      expect(server.subscriptionsOpened).toBe(2);
      const live = events(5);
      await store.append("order-2", live, 14n);
      await waitUntil(() => received.length === 45, "live events");
      expect(ids(received)).toEqual(ids([...history, ...live]));
      expect(errors).toEqual([]);
      expect(caughtUp).toBe(1);
      await subscription.close();
    });

    it("resubscribes when the server ends the subscription, and after repeated drops while live", async () => {
      const store = open();
      await store.append("order-1", events(10), "no_stream");
      const received: RecordedEvent[] = [];
      const subscription = store.subscribeToAll({ onEvent: (e) => void received.push(e) });
      await waitUntil(() => received.length === 10, "history");
      server.dropSubscriptions();
      await store.append("order-1", events(2), 9n);
      server.dropSubscriptions(new UnavailableError(undefined, "connection lost"));
      await store.append("order-1", events(2), 11n);
      await waitUntil(() => received.length === 14, "events across the drops");
      await sleep(50);
      expect(received.map((e) => e.revision)).toEqual(Array.from({ length: 14 }, (_, i) => BigInt(i)));
      await subscription.close();
    });

    it("a reader that falls behind live and catches up again misses nothing and reports caught up once", async () => {
      const store = open({ liveBufferSize: 4 });
      await store.append("order-1", events(3), "no_stream");
      const received: RecordedEvent[] = [];
      let caughtUp = 0;
      const subscription = store.subscribeToAll({
        onEvent: async (e) => {
          received.push(e);
          await sleep(2);
        },
        onCaughtUp: () => {
          caughtUp++;
        },
      });
      await waitUntil(() => caughtUp === 1, "caught up");
      let revision = 2n;
      for (let i = 0; i < 10; i++) revision = (await store.append("order-1", events(5), revision)).nextExpectedRevision;
      await waitUntil(() => received.length === 53, "every event");
      expect(received.map((e) => e.revision)).toEqual(Array.from({ length: 53 }, (_, i) => BigInt(i)));
      expect(caughtUp).toBe(1);
      await subscription.close();
    });

    it("gives up after maxResubscribeAttempts failures in a row and reports the last error", async () => {
      const store = open({}, { maxResubscribeAttempts: 3 });
      await store.append("order-1", events(1), "no_stream");
      const [only] = await store.readAll();
      // A position inside a record: the server refuses every subscription from it.
      const bad = formatEsdbPosition({
        commit: parseEsdbPosition(only?.position as string).commit + 3n,
        prepare: parseEsdbPosition(only?.position as string).commit + 3n,
      });
      const errors: Error[] = [];
      const subscription = store.subscribeToAll({
        after: bad,
        onEvent: () => undefined,
        onError: (e) => void errors.push(e),
      });
      await waitUntil(() => errors.length === 1, "onError");
      expect(errors[0]?.message).toMatch(/Invalid position/);
      expect(server.subscriptionsOpened).toBe(4);
      await subscription.close();
    });

    it("close stops delivery, ends the server-side subscription, and the store disposes the client", async () => {
      const store = open();
      const client = server.connect();
      const closing = createEsdbEventStore({ client });
      await closing.append("order-1", events(3), "no_stream");
      const received: RecordedEvent[] = [];
      const subscription = closing.subscribeToAll({ onEvent: (e) => void received.push(e) });
      await waitUntil(() => received.length === 3, "history");
      expect(server.activeSubscriptions).toBe(1);
      await subscription.close();
      await waitUntil(() => server.activeSubscriptions === 0, "the server-side subscription to end");
      await store.append("order-1", events(2), 2n);
      await sleep(50);
      expect(received.length).toBe(3);
      closing.subscribeToAll({ onEvent: () => undefined });
      await waitUntil(() => client.openCalls === 1, "the second subscription");
      await closing.close();
      expect(client.disposeCalls).toBe(1);
      expect(client.openCalls).toBe(0);
      await waitUntil(() => server.activeSubscriptions === 0, "every subscription to end");
      // The real client would reconnect on the next call: the store refuses instead.
      await expect(closing.readAll()).rejects.toThrow("event store is closed");
      await expect(closing.append("order-1", events(1), "any")).rejects.toThrow("event store is closed");
      expect(() => closing.subscribeToAll({ onEvent: () => undefined })).toThrow("event store is closed");
      await closing.close();
      expect(client.disposeCalls).toBe(1);
    });
  });

  it("requires a connection string or a client", () => {
    expect(() => createEsdbEventStore({})).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() => createEsdbEventStore({ connectionString: "  " })).toThrow(
      expect.objectContaining({ code: "VALIDATION" }),
    );
  });
});

// The one behavioural suite every EventStore adapter must pass. It only speaks the port, and it never
// assumes an empty store: each test works on streams with a fresh unique prefix and reads the global log
// after the head it saw first, so the same code runs against a shared EventStoreDB server.

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type {
  AppendResult,
  EventMetadata,
  EventStore,
  EventToAppend,
  RecordedEvent,
  SubscribeOptions,
} from "./port.ts";

export interface ConformanceHarness {
  store: EventStore;
  /** Closes `store` and opens the same data again (a restart). */
  reopen?(): Promise<EventStore>;
  /** Opens a second, independent instance on the same data (another API process). */
  openAnother?(): Promise<EventStore>;
  /** Closes every instance the harness opened and removes its data. */
  cleanup(): Promise<void>;
}

export interface ConformanceOptions {
  /** Skip the whole suite (e.g. no server configured). */
  skip?: boolean;
  /** Whether the harness can `reopen` (restart durability cases). */
  durable?: boolean;
  /** Whether the harness can `openAnother` (multi-instance cases). */
  sharedInstances?: boolean;
}

const SUBSCRIPTION_TIMEOUT_MS = 10_000;
/** How long "nothing more arrives" is watched (well above the embedded store's poll interval). */
const QUIET_MS = 400;

const metadataFor = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  actor: "conformance",
  occurredAt: "2024-05-01T12:00:00.000Z",
  correlationId: randomUUID(),
  causationId: null,
  schemaVersion: 1,
  projectId: null,
  ...overrides,
});

const newEvent = (
  type = "ThingHappened",
  data: unknown = { n: 1 },
  metadata?: Partial<EventMetadata>,
): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  metadata: metadataFor(metadata),
});

const numbered = (count: number, type = "ThingHappened", from = 0): EventToAppend[] =>
  Array.from({ length: count }, (_, i) => newEvent(type, { n: from + i }));

const uniquePrefix = (): string => `t${randomUUID().replaceAll("-", "").slice(0, 12)}`;

const waitUntil = async (
  condition: () => boolean,
  what: string,
  timeoutMs = SUBSCRIPTION_TIMEOUT_MS,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

const expectConflict = async (promise: Promise<unknown>, ...mentions: string[]): Promise<void> => {
  const error = await promise.then(
    () => {
      throw new Error("expected the append to fail with CONFLICT, but it succeeded");
    },
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ name: "DomainError", code: "CONFLICT" });
  for (const mention of mentions) expect((error as Error).message).toContain(mention);
};

const ids = (events: readonly { id: string }[]): string[] => events.map((event) => event.id);

interface Collector {
  events: RecordedEvent[];
  caughtUp: () => boolean;
  close: () => Promise<void>;
}

const collect = (store: EventStore, options: Omit<SubscribeOptions, "onEvent">): Collector => {
  const events: RecordedEvent[] = [];
  let caughtUp = false;
  const subscription = store.subscribeToAll({
    ...options,
    onEvent: (event) => {
      events.push(event);
    },
    onCaughtUp: () => {
      caughtUp = true;
    },
  });
  return { events, caughtUp: () => caughtUp, close: () => subscription.close() };
};

export const describeEventStoreConformance = (
  name: string,
  factory: () => Promise<ConformanceHarness>,
  options: ConformanceOptions = {},
): void => {
  describe.skipIf(options.skip === true)(`EventStore conformance: ${name}`, () => {
    let harness: ConformanceHarness;
    let store: EventStore;
    let p: string;
    /** Head of the log before the test appended anything (null: empty store). */
    let before: string | null;

    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
      p = uniquePrefix();
      before = await store.headPosition();
    });

    afterEach(async () => {
      await harness.cleanup();
    });

    /** Our events in the global log after `before`, forwards. */
    const ours = async (s: EventStore = store): Promise<RecordedEvent[]> =>
      (await s.readAll(before === null ? {} : { after: before })).filter((event) => event.stream.startsWith(p));

    describe("append and read", () => {
      it("appends to a new stream with no_stream and reads every field back in order", async () => {
        const events = [
          newEvent("Created", { name: "a" }),
          newEvent("Renamed", { name: "b" }),
          newEvent("Deleted", {}),
        ];
        const result = await store.append(`${p}-s`, events, "no_stream");
        expect(result.nextExpectedRevision).toBe(2n);

        const read = await store.readStream(`${p}-s`);
        expect(ids(read)).toEqual(ids(events));
        expect(read.map((e) => e.type)).toEqual(["Created", "Renamed", "Deleted"]);
        expect(read.map((e) => e.data)).toEqual([{ name: "a" }, { name: "b" }, {}]);
        expect(read.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        expect(read.every((e) => e.stream === `${p}-s`)).toBe(true);
        expect(read[2]?.position).toBe(result.position);
        for (const event of read) {
          expect(typeof event.recordedAt).toBe("string");
          expect(Number.isNaN(Date.parse(event.recordedAt))).toBe(false);
        }
      });

      it("reading a stream that does not exist yields an empty list", async () => {
        expect(await store.readStream(`${p}-missing`)).toEqual([]);
        expect(await store.readStream(`${p}-missing`, { direction: "backwards" })).toEqual([]);
      });

      it("revisions are bigints counted per stream from 0", async () => {
        await store.append(`${p}-a`, numbered(2), "no_stream");
        await store.append(`${p}-b`, numbered(1), "no_stream");
        await store.append(`${p}-a`, numbered(1), 1n);
        const a = await store.readStream(`${p}-a`);
        const b = await store.readStream(`${p}-b`);
        expect(a.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        expect(b.map((e) => e.revision)).toEqual([0n]);
        expect(typeof a[0]?.revision).toBe("bigint");
      });

      it("global positions increase across streams, comparePositions orders them, headPosition is the last", async () => {
        const results: AppendResult[] = [];
        results.push(await store.append(`${p}-a`, numbered(1), "no_stream"));
        results.push(await store.append(`${p}-b`, numbered(2), "no_stream"));
        results.push(await store.append(`${p}-a`, numbered(1), 0n));
        const all = await ours();
        expect(all.map((e) => e.stream)).toEqual([`${p}-a`, `${p}-b`, `${p}-b`, `${p}-a`]);
        for (let i = 1; i < all.length; i++) {
          const prev = all[i - 1]?.position as string;
          const next = all[i]?.position as string;
          expect(store.comparePositions(prev, next)).toBeLessThan(0);
          expect(store.comparePositions(next, prev)).toBeGreaterThan(0);
          expect(store.comparePositions(next, next)).toBe(0);
        }
        expect(results.map((r) => r.position)).toEqual([all[0]?.position, all[2]?.position, all[3]?.position]);
        expect(await store.headPosition()).toBe(all[3]?.position);
        if (before !== null) expect(store.comparePositions(before, all[0]?.position as string)).toBeLessThan(0);
      });

      it("nextExpectedRevision chains one append to the next", async () => {
        let result = await store.append(`${p}-s`, numbered(2), "no_stream");
        for (let i = 0; i < 4; i++) result = await store.append(`${p}-s`, numbered(1), result.nextExpectedRevision);
        expect(result.nextExpectedRevision).toBe(5n);
        expect((await store.readStream(`${p}-s`)).length).toBe(6);
      });

      it("metadata round-trips, including null ids and extra keys", async () => {
        const metadata = metadataFor({
          actor: "alice",
          causationId: null,
          projectId: "proj-1",
          schemaVersion: 2,
          source: { kind: "signal", tags: ["a", "b"] },
        });
        const event: EventToAppend = { id: randomUUID(), type: "Configured", data: { ok: true }, metadata };
        await store.append(`${p}-s`, [event], "no_stream");
        const [read] = await store.readStream(`${p}-s`);
        expect(read?.metadata).toEqual(metadata);
      });

      it("stores unicode and large payloads unchanged", async () => {
        const large = "x".repeat(256 * 1024);
        const data = {
          text: 'zürich ☃ 漢字 🚀 e\u0301 \u0000 \u2028 "quoted" \\ back',
          emoji: "👩‍👩‍👧‍👦",
          large,
          nested: { list: [1, 2.5, -3, null, true, "s", { deep: [[[]]] }] },
        };
        await store.append(`${p}-ü-☃`, [newEvent("Unicode☃", data)], "no_stream");
        const [read] = await store.readStream(`${p}-ü-☃`);
        expect(read?.type).toBe("Unicode☃");
        expect(read?.data).toEqual(data);
      });

      it("rejects invalid appends with VALIDATION and writes nothing", async () => {
        const invalid: Array<[string, EventToAppend[]]> = [
          [`${p}-s`, []],
          [`${p}-s`, [{ ...newEvent(), id: "not-a-uuid" }]],
          [
            `${p}-s`,
            (() => {
              const event = newEvent();
              return [event, { ...newEvent(), id: event.id }];
            })(),
          ],
          [`$${p}-system`, [newEvent()]],
          ["", [newEvent()]],
          [`${p}-s`, [newEvent("$reserved")]],
        ];
        for (const [stream, events] of invalid) {
          await expect(store.append(stream, events, "any")).rejects.toMatchObject({ code: "VALIDATION" });
        }
        expect(await ours()).toEqual([]);
      });
    });

    describe("expected revision", () => {
      it("no_stream fails once the stream exists, naming stream, expected and actual", async () => {
        await store.append(`${p}-s`, numbered(1), "no_stream");
        await expectConflict(store.append(`${p}-s`, numbered(1), "no_stream"), `${p}-s`, "no_stream", "revision 0");
        expect((await store.readStream(`${p}-s`)).length).toBe(1);
      });

      it("an exact revision succeeds when it is the stream's last revision", async () => {
        await store.append(`${p}-s`, numbered(3), "no_stream");
        const result = await store.append(`${p}-s`, numbered(1), 2n);
        expect(result.nextExpectedRevision).toBe(3n);
      });

      it("a stale exact revision fails with CONFLICT and writes nothing", async () => {
        await store.append(`${p}-s`, numbered(3), "no_stream");
        await expectConflict(store.append(`${p}-s`, numbered(2), 1n), `${p}-s`, "revision 1", "revision 2");
        await expectConflict(store.append(`${p}-s`, numbered(1), 5n), "revision 5", "revision 2");
        expect((await store.readStream(`${p}-s`)).length).toBe(3);
      });

      it("an exact revision on a missing stream fails (actual no_stream)", async () => {
        await expectConflict(store.append(`${p}-s`, numbered(1), 0n), `${p}-s`, "revision 0", "no_stream");
        expect(await store.readStream(`${p}-s`)).toEqual([]);
      });

      it("any appends to a missing stream and to an existing one", async () => {
        expect((await store.append(`${p}-s`, numbered(2), "any")).nextExpectedRevision).toBe(1n);
        expect((await store.append(`${p}-s`, numbered(1), "any")).nextExpectedRevision).toBe(2n);
      });

      it("stream_exists succeeds on an existing stream", async () => {
        await store.append(`${p}-s`, numbered(1), "no_stream");
        expect((await store.append(`${p}-s`, numbered(1), "stream_exists")).nextExpectedRevision).toBe(1n);
      });

      it("stream_exists fails on a missing stream", async () => {
        await expectConflict(store.append(`${p}-s`, numbered(1), "stream_exists"), `${p}-s`, "stream_exists");
        expect(await store.readStream(`${p}-s`)).toEqual([]);
      });

      it("a very large bigint revision is a plain conflict", async () => {
        await store.append(`${p}-s`, numbered(1), "no_stream");
        const huge = 2n ** 40n + 7n;
        await expectConflict(store.append(`${p}-s`, numbered(1), huge), `revision ${huge}`);
      });
    });

    describe("concurrent writers", () => {
      it("concurrent appends with the same expected revision: exactly one wins", async () => {
        await store.append(`${p}-s`, numbered(1), "no_stream");
        const attempts = Array.from({ length: 8 }, (_, i) => store.append(`${p}-s`, [newEvent("Try", { i })], 0n));
        const settled = await Promise.allSettled(attempts);
        const won = settled.filter((s) => s.status === "fulfilled");
        const lost = settled.filter((s) => s.status === "rejected");
        expect(won.length).toBe(1);
        for (const loss of lost) expect((loss as PromiseRejectedResult).reason).toMatchObject({ code: "CONFLICT" });
        expect((await store.readStream(`${p}-s`)).map((e) => e.revision)).toEqual([0n, 1n]);
      });

      it.skipIf(options.sharedInstances !== true)(
        "two store instances on the same data: one wins, the other gets CONFLICT and wins on retry",
        async () => {
          const other = await (harness.openAnother as () => Promise<EventStore>)();
          await store.append(`${p}-s`, numbered(1), "no_stream");
          const [loaded] = await other.readStream(`${p}-s`, { direction: "backwards", maxCount: 1 });
          expect(loaded?.revision).toBe(0n);
          const settled = await Promise.allSettled([
            store.append(`${p}-s`, [newEvent("FromA")], 0n),
            other.append(`${p}-s`, [newEvent("FromB")], 0n),
          ]);
          expect(settled.filter((s) => s.status === "fulfilled").length).toBe(1);
          const loser = settled[0]?.status === "rejected" ? store : other;
          const reason = settled.find((s) => s.status === "rejected") as PromiseRejectedResult;
          expect(reason.reason).toMatchObject({ code: "CONFLICT" });
          const retried = await loser.append(`${p}-s`, [newEvent("Retry")], 1n);
          expect(retried.nextExpectedRevision).toBe(2n);
          const seenByOther = await other.readStream(`${p}-s`);
          expect(seenByOther.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
        },
      );
    });

    describe("idempotent appends", () => {
      it("re-appending the same batch at the same place returns the original result and writes nothing", async () => {
        const batch = numbered(3);
        const first = await store.append(`${p}-s`, batch, "no_stream");
        const again = await store.append(`${p}-s`, batch, "no_stream");
        expect(again).toEqual(first);
        expect(ids(await store.readStream(`${p}-s`))).toEqual(ids(batch));
      });

      it("a retry at an exact revision is still a no-op after the stream moved on", async () => {
        await store.append(`${p}-s`, numbered(1), "no_stream");
        const batch = numbered(2);
        const first = await store.append(`${p}-s`, batch, 0n);
        await store.append(`${p}-s`, numbered(1), first.nextExpectedRevision);
        const again = await store.append(`${p}-s`, batch, 0n);
        expect(again).toEqual(first);
        expect((await store.readStream(`${p}-s`)).length).toBe(4);
      });

      it("a retry with any returns the original result", async () => {
        const batch = numbered(2);
        const first = await store.append(`${p}-s`, batch, "any");
        const again = await store.append(`${p}-s`, batch, "any");
        expect(again).toEqual(first);
        expect((await store.readStream(`${p}-s`)).length).toBe(2);
      });

      it("a retry naming the wrong place is a CONFLICT, not a no-op", async () => {
        await store.append(`${p}-s`, numbered(1), "no_stream");
        const batch = numbered(2);
        await store.append(`${p}-s`, batch, 0n);
        await store.append(`${p}-s`, numbered(1), 2n);
        await expectConflict(store.append(`${p}-s`, batch, 1n), `${p}-s`, "revision 1", "revision 3");
        await expectConflict(store.append(`${p}-s`, batch, "no_stream"), `${p}-s`, "no_stream");
        expect((await store.readStream(`${p}-s`)).length).toBe(4);
      });

      it("a batch overlapping stored events only partly is a CONFLICT and writes nothing", async () => {
        const stored = newEvent("Stored");
        await store.append(`${p}-s`, [stored], "no_stream");
        const fresh = newEvent("Fresh");
        await expectConflict(store.append(`${p}-s`, [stored, fresh], "no_stream"), `${p}-s`);
        expect(ids(await store.readStream(`${p}-s`))).toEqual([stored.id]);
        expect(ids(await ours())).toEqual([stored.id]);
      });
    });

    describe("readStream", () => {
      it("reads backwards from the end", async () => {
        const events = numbered(4);
        await store.append(`${p}-s`, events, "no_stream");
        const read = await store.readStream(`${p}-s`, { direction: "backwards" });
        expect(ids(read)).toEqual(ids(events).reverse());
        expect(read.map((e) => e.revision)).toEqual([3n, 2n, 1n, 0n]);
      });

      it("starts at fromRevision (inclusive) in both directions", async () => {
        const events = numbered(5);
        await store.append(`${p}-s`, events, "no_stream");
        const forwards = await store.readStream(`${p}-s`, { fromRevision: 2n });
        expect(forwards.map((e) => e.revision)).toEqual([2n, 3n, 4n]);
        const backwards = await store.readStream(`${p}-s`, { direction: "backwards", fromRevision: 2n });
        expect(backwards.map((e) => e.revision)).toEqual([2n, 1n, 0n]);
        expect(await store.readStream(`${p}-s`, { fromRevision: 5n })).toEqual([]);
      });

      it("stops after maxCount in both directions", async () => {
        await store.append(`${p}-s`, numbered(5), "no_stream");
        expect((await store.readStream(`${p}-s`, { maxCount: 2 })).map((e) => e.revision)).toEqual([0n, 1n]);
        const tail = await store.readStream(`${p}-s`, { direction: "backwards", maxCount: 2 });
        expect(tail.map((e) => e.revision)).toEqual([4n, 3n]);
        const middle = await store.readStream(`${p}-s`, { fromRevision: 1n, maxCount: 3 });
        expect(middle.map((e) => e.revision)).toEqual([1n, 2n, 3n]);
        expect(await store.readStream(`${p}-s`, { maxCount: 0 })).toEqual([]);
      });
    });

    describe("readAll", () => {
      const appendInterleaved = async (): Promise<EventToAppend[]> => {
        const a1 = numbered(2, "A");
        const b1 = numbered(1, "B");
        const a2 = numbered(2, "A", 2);
        await store.append(`${p}-a`, a1, "no_stream");
        await store.append(`${p}-b`, b1, "no_stream");
        await store.append(`${p}-a`, a2, 1n);
        return [...a1, ...b1, ...a2];
      };

      it("reads forwards in global (append) order across streams", async () => {
        const appended = await appendInterleaved();
        const all = await ours();
        expect(ids(all)).toEqual(ids(appended));
        expect(all.map((e) => `${e.stream}@${e.revision}`)).toEqual([
          `${p}-a@0`,
          `${p}-a@1`,
          `${p}-b@0`,
          `${p}-a@2`,
          `${p}-a@3`,
        ]);
      });

      it("reads backwards from the end", async () => {
        const appended = await appendInterleaved();
        const tail = await store.readAll({ direction: "backwards", maxCount: appended.length });
        expect(ids(tail)).toEqual(ids(appended).reverse());
      });

      it("after is exclusive, forwards and backwards", async () => {
        await appendInterleaved();
        const all = await ours();
        const second = all[1]?.position as string;
        const fourth = all[3]?.position as string;
        const afterSecond = (await store.readAll({ after: second })).filter((e) => e.stream.startsWith(p));
        expect(ids(afterSecond)).toEqual(ids(all.slice(2)));
        const beforeFourth = (await store.readAll({ direction: "backwards", after: fourth })).filter((e) =>
          e.stream.startsWith(p),
        );
        expect(ids(beforeFourth)).toEqual(ids(all.slice(0, 3)).reverse());
        const afterLast = await store.readAll({ after: all[4]?.position as string });
        expect(afterLast).toEqual([]);
      });

      it("stops after maxCount", async () => {
        const appended = await appendInterleaved();
        const firstTwo = await store.readAll(before === null ? { maxCount: 2 } : { after: before, maxCount: 2 });
        expect(ids(firstTwo)).toEqual(ids(appended.slice(0, 2)));
        expect(await store.readAll({ maxCount: 0 })).toEqual([]);
        const lastOne = await store.readAll({ direction: "backwards", maxCount: 1 });
        expect(ids(lastOne)).toEqual([appended[4]?.id]);
      });
    });

    describe("subscribeToAll", () => {
      it("from the start: history in order, then caught up, then live events", async () => {
        const history = numbered(5);
        await store.append(`${p}-a`, history.slice(0, 3), "no_stream");
        await store.append(`${p}-b`, history.slice(3), "no_stream");
        const c = collect(store, { filter: { streamPrefixes: [p] } });
        await waitUntil(() => c.caughtUp(), "caught up");
        expect(ids(c.events)).toEqual(ids(history));
        const live = numbered(2, "Live");
        await store.append(`${p}-a`, live, 2n);
        await waitUntil(() => c.events.length === 7, "live events");
        expect(ids(c.events)).toEqual([...ids(history), ...ids(live)]);
        await sleep(QUIET_MS);
        expect(c.events.length).toBe(7);
        await c.close();
      });

      it("from a position: only events strictly after it", async () => {
        const events = numbered(4);
        await store.append(`${p}-s`, events, "no_stream");
        const all = await ours();
        const c = collect(store, { after: all[1]?.position as string });
        await waitUntil(() => c.events.filter((e) => e.stream.startsWith(p)).length >= 2, "events after position");
        await waitUntil(() => c.caughtUp(), "caught up");
        expect(ids(c.events.filter((e) => e.stream.startsWith(p)))).toEqual(ids(events.slice(2)));
        expect(store.comparePositions(c.events[0]?.position as string, all[1]?.position as string)).toBeGreaterThan(0);
        await c.close();
      });

      it("appends racing the catch-up: every event once, in global order, no gap", async () => {
        let revision = -1n;
        for (let i = 0; i < 10; i++) {
          const result = await store.append(
            `${p}-s`,
            numbered(20, "Hist", i * 20),
            revision < 0n ? "no_stream" : revision,
          );
          revision = result.nextExpectedRevision;
        }
        const received: RecordedEvent[] = [];
        const subscription = store.subscribeToAll({
          filter: { streamPrefixes: [p] },
          onEvent: async (event) => {
            received.push(event);
            if (received.length % 25 === 0) await sleep(1);
          },
        });
        const writers = [`${p}-s`, `${p}-t`].map(async (stream) => {
          let expected: bigint | "no_stream" = stream === `${p}-s` ? revision : "no_stream";
          for (let i = 0; i < 15; i++) {
            const result = await store.append(stream, numbered(4, "Race", i * 4), expected);
            expected = result.nextExpectedRevision;
            await sleep(2);
          }
        });
        await Promise.all(writers);
        const total = 200 + 2 * 60;
        await waitUntil(() => received.length >= total, `${total} events`);
        await sleep(QUIET_MS);
        await subscription.close();
        const stored = await ours();
        expect(stored.length).toBe(total);
        expect(received.length).toBe(total);
        expect(ids(received)).toEqual(ids(stored));
        expect(new Set(ids(received)).size).toBe(total);
      });

      it("filters by stream prefix (any of several)", async () => {
        await store.append(`${p}-release-1`, numbered(2), "no_stream");
        await store.append(`${p}-feature-1`, numbered(1), "no_stream");
        await store.append(`${p}-pipeline-1`, numbered(1), "no_stream");
        await store.append(`${p}-release-2`, numbered(1), "no_stream");
        const c = collect(store, { filter: { streamPrefixes: [`${p}-release-`, `${p}-pipeline-`] } });
        await waitUntil(() => c.caughtUp() && c.events.length >= 4, "filtered events");
        await store.append(`${p}-feature-1`, numbered(1), 0n);
        await store.append(`${p}-release-1`, numbered(1), 1n);
        await waitUntil(() => c.events.length >= 5, "live filtered event");
        await sleep(QUIET_MS);
        expect(c.events.map((e) => e.stream)).toEqual([
          `${p}-release-1`,
          `${p}-release-1`,
          `${p}-pipeline-1`,
          `${p}-release-2`,
          `${p}-release-1`,
        ]);
        await c.close();
      });

      it("filters by event type (exact names), combined with a prefix", async () => {
        await store.append(`${p}-a`, [newEvent("Created"), newEvent("Renamed"), newEvent("CreatedLater")], "no_stream");
        await store.append(`${p}-b`, [newEvent("Deleted"), newEvent("Created")], "no_stream");
        const byType = collect(store, { filter: { eventTypes: ["Created", "Deleted"], streamPrefixes: [p] } });
        const both = collect(store, { filter: { eventTypes: ["Created"], streamPrefixes: [`${p}-b`] } });
        await waitUntil(() => byType.caughtUp() && both.caughtUp(), "caught up");
        await store.append(`${p}-a`, [newEvent("Deleted")], 2n);
        await waitUntil(() => byType.events.length >= 4, "live typed event");
        await sleep(QUIET_MS);
        expect(byType.events.map((e) => `${e.stream}:${e.type}`)).toEqual([
          `${p}-a:Created`,
          `${p}-b:Deleted`,
          `${p}-b:Created`,
          `${p}-a:Deleted`,
        ]);
        expect(both.events.map((e) => `${e.stream}:${e.type}`)).toEqual([`${p}-b:Created`]);
        await byType.close();
        await both.close();
      });

      it("awaits an async handler before delivering the next event", async () => {
        await store.append(`${p}-s`, numbered(6), "no_stream");
        let running = 0;
        let maxRunning = 0;
        const order: number[] = [];
        const subscription = store.subscribeToAll({
          filter: { streamPrefixes: [p] },
          onEvent: async (event) => {
            running++;
            maxRunning = Math.max(maxRunning, running);
            await sleep(5);
            order.push((event.data as { n: number }).n);
            running--;
          },
        });
        await store.append(`${p}-s`, numbered(2, "ThingHappened", 6), 5n);
        await waitUntil(() => order.length === 8, "8 handled events");
        expect(maxRunning).toBe(1);
        expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        await subscription.close();
      });

      it("an event appended while a handler runs is delivered without any further append", async () => {
        const received: RecordedEvent[] = [];
        const subscription = store.subscribeToAll({
          filter: { streamPrefixes: [p] },
          onEvent: async (event) => {
            received.push(event);
            if (received.length === 1) await store.append(`${p}-s`, [newEvent("Follow")], 0n);
          },
        });
        await store.append(`${p}-s`, [newEvent("First")], "no_stream");
        await waitUntil(() => received.length === 2, "the event appended from inside the handler");
        expect(received.map((e) => e.type)).toEqual(["First", "Follow"]);
        await subscription.close();
      });

      it("close stops delivery", async () => {
        await store.append(`${p}-s`, numbered(2), "no_stream");
        const c = collect(store, { filter: { streamPrefixes: [p] } });
        await waitUntil(() => c.events.length === 2 && c.caughtUp(), "history");
        await c.close();
        await store.append(`${p}-s`, numbered(2), 1n);
        await sleep(QUIET_MS);
        expect(c.events.length).toBe(2);
      });

      it("close from inside a handler resolves and nothing more is delivered", async () => {
        await store.append(`${p}-s`, numbered(5), "no_stream");
        const received: RecordedEvent[] = [];
        let closed = false;
        const subscription = store.subscribeToAll({
          filter: { streamPrefixes: [p] },
          onEvent: async (event) => {
            received.push(event);
            if (received.length === 2) {
              await subscription.close();
              closed = true;
            }
          },
        });
        await waitUntil(() => closed, "close inside the handler");
        await sleep(QUIET_MS);
        expect(received.length).toBe(2);
        await subscription.close();
      });

      it("a failing handler stops the subscription and reports the error", async () => {
        await store.append(`${p}-s`, numbered(3), "no_stream");
        const received: RecordedEvent[] = [];
        const errors: Error[] = [];
        const subscription = store.subscribeToAll({
          filter: { streamPrefixes: [p] },
          onEvent: (event) => {
            received.push(event);
            if (received.length === 2) throw new Error("projection broke");
          },
          onError: (error) => {
            errors.push(error);
          },
        });
        await waitUntil(() => errors.length === 1, "onError");
        expect(errors[0]?.message).toBe("projection broke");
        await store.append(`${p}-s`, numbered(1), 2n);
        await sleep(QUIET_MS);
        expect(received.length).toBe(2);
        await subscription.close();
      });

      it("several subscribers each receive every event", async () => {
        const c1 = collect(store, { filter: { streamPrefixes: [p] } });
        const c2 = collect(store, { filter: { streamPrefixes: [p] } });
        const events = numbered(3);
        await store.append(`${p}-s`, events, "no_stream");
        await waitUntil(() => c1.events.length === 3 && c2.events.length === 3, "both subscribers");
        expect(ids(c1.events)).toEqual(ids(events));
        expect(ids(c2.events)).toEqual(ids(events));
        await Promise.all([c1.close(), c2.close()]);
      });

      it.skipIf(options.sharedInstances !== true)("sees events appended through another instance", async () => {
        const other = await (harness.openAnother as () => Promise<EventStore>)();
        const c = collect(store, { filter: { streamPrefixes: [p] } });
        await waitUntil(() => c.caughtUp(), "caught up");
        const events = numbered(3);
        await other.append(`${p}-s`, events, "no_stream");
        await waitUntil(() => c.events.length === 3, "events from the other instance");
        expect(ids(c.events)).toEqual(ids(events));
        await c.close();
      });
    });

    describe("durability and health", () => {
      it.skipIf(options.durable !== true)("everything acknowledged is there after a restart", async () => {
        const a = numbered(3);
        const b = numbered(2);
        await store.append(`${p}-a`, a, "no_stream");
        const last = await store.append(`${p}-b`, b, "no_stream");
        const reopened = await (harness.reopen as () => Promise<EventStore>)();
        expect(ids(await reopened.readStream(`${p}-a`))).toEqual(ids(a));
        expect(ids(await ours(reopened))).toEqual([...ids(a), ...ids(b)]);
        expect(await reopened.headPosition()).toBe(last.position);
        await expectConflict(reopened.append(`${p}-a`, numbered(1), "no_stream"), `${p}-a`);
        const next = await reopened.append(`${p}-a`, numbered(1), 2n);
        expect(next.nextExpectedRevision).toBe(3n);
        expect(reopened.comparePositions(next.position, last.position)).toBeGreaterThan(0);
      });

      it("ping succeeds and headPosition follows appends", async () => {
        await store.ping();
        const result = await store.append(`${p}-s`, numbered(1), "no_stream");
        expect(await store.headPosition()).toBe(result.position);
      });
    });
  });
};

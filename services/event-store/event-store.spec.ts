// Runs the one conformance suite against every adapter: the embedded store always (file-backed and
// in-memory), EventStoreDB only when EVENTSTORE_CONNECTION_STRING points at a server.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeEventStoreConformance } from "./conformance.ts";
import { createEsdbEventStore } from "./esdb/esdb-event-store.ts";
import type { EventStore } from "./port.ts";
import { createSqliteEventStore } from "./sqlite/sqlite-event-store.ts";

describeEventStoreConformance(
  "sqlite file",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "event-store-conformance-"));
    const path = join(dir, "events.sqlite");
    const opened: EventStore[] = [];
    const open = (): EventStore => {
      const store = createSqliteEventStore({ path, pollIntervalMs: 25 });
      opened.push(store);
      return store;
    };
    let store = open();
    return {
      store,
      reopen: async () => {
        await store.close();
        store = open();
        return store;
      },
      openAnother: async () => open(),
      cleanup: async () => {
        for (const s of opened) await s.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { durable: true, sharedInstances: true },
);

describeEventStoreConformance("sqlite :memory:", async () => {
  const store = createSqliteEventStore({ path: ":memory:" });
  return { store, cleanup: () => store.close() };
});

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING ?? "";

describeEventStoreConformance(
  "EventStoreDB",
  async () => {
    const opened: EventStore[] = [];
    const open = (): EventStore => {
      const store = createEsdbEventStore({ connectionString });
      opened.push(store);
      return store;
    };
    let store = open();
    return {
      store,
      reopen: async () => {
        await store.close();
        store = open();
        return store;
      },
      openAnother: async () => open(),
      cleanup: async () => {
        const closing = new Set(opened);
        opened.length = 0;
        for (const s of closing) await s.close().catch(() => undefined);
      },
    };
  },
  { skip: connectionString === "", durable: true, sharedInstances: true },
);

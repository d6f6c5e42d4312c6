// The EventStoreDB adapter over an in-memory fake of the node and of the v6 client (esdb/testing): the same
// conformance suite as the embedded store, then what only this adapter does.

import { describeEventStoreConformance } from "../conformance.ts";
import type { EventStore } from "../port.ts";
import { createEsdbEventStore } from "./esdb-event-store.ts";
import { FakeEsdbServer } from "./testing/fake-esdb-client.ts";

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

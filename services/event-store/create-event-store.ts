// Picks the event store: EventStoreDB when a connection string is configured, else the embedded store in
// the data directory. The EventStoreDB client (gRPC) is loaded only when it is used.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { EventStore } from "./port.ts";
import { createSqliteEventStore } from "./sqlite/sqlite-event-store.ts";

export interface CreateEventStoreOptions {
  /** Directory of the embedded store (`<dataDir>/events.sqlite`); created when missing. */
  dataDir: string;
  /** `esdb://…`; default: the EVENTSTORE_CONNECTION_STRING environment variable. Empty means unset. */
  connectionString?: string;
}

export const EMBEDDED_STORE_FILE = "events.sqlite";

export const createEventStore = async (options: CreateEventStoreOptions): Promise<EventStore> => {
  const connectionString = options.connectionString ?? process.env.EVENTSTORE_CONNECTION_STRING ?? "";
  if (connectionString.trim() !== "") {
    const { createEsdbEventStore } = await import("./esdb/esdb-event-store.ts");
    return createEsdbEventStore({ connectionString: connectionString.trim() });
  }
  await mkdir(options.dataDir, { recursive: true });
  return createSqliteEventStore({ path: join(options.dataDir, EMBEDDED_STORE_FILE) });
};

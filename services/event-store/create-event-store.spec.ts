import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createEventStore } from "./create-event-store.ts";
import { EsdbEventStore } from "./esdb/esdb-event-store.ts";
import { SqliteEventStore } from "./sqlite/sqlite-event-store.ts";

describe("createEventStore", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "create-event-store-"));
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(dir, { recursive: true, force: true });
  });

  it("without a connection string opens the embedded store at <dataDir>/events.sqlite, creating the directory", async () => {
    vi.stubEnv("EVENTSTORE_CONNECTION_STRING", "");
    const dataDir = join(dir, "nested", "data");
    const store = await createEventStore({ dataDir });
    try {
      expect(store).toBeInstanceOf(SqliteEventStore);
      expect(existsSync(join(dataDir, "events.sqlite"))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("selects EventStoreDB from EVENTSTORE_CONNECTION_STRING, and an explicit empty option overrides it", async () => {
    vi.stubEnv("EVENTSTORE_CONNECTION_STRING", "esdb://localhost:2113?tls=false");
    const esdb = await createEventStore({ dataDir: dir });
    expect(esdb).toBeInstanceOf(EsdbEventStore);
    expect(existsSync(join(dir, "events.sqlite"))).toBe(false);
    await esdb.close();

    const embedded = await createEventStore({ dataDir: dir, connectionString: "" });
    expect(embedded).toBeInstanceOf(SqliteEventStore);
    await embedded.close();
  });
});

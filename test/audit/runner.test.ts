// The projection runner: catch-up from the start then live, read-your-writes with waitFor, listeners fed
// after the read models and the audit index have the event, and what happens to events it cannot apply.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AuditIndex, createAuditIndex } from "../../services/audit/audit-index.ts";
import { isDomainError } from "../../services/core/errors.ts";
import type { EventStore, EventToAppend, RecordedEvent } from "../../services/event-store/port.ts";
import { createSqliteEventStore, type SqliteEventStore } from "../../services/event-store/sqlite/sqlite-event-store.ts";
import { type AppliedChange, ReadModels } from "../../services/projections/read-models.ts";
import { startProjections } from "../../services/projections/runner.ts";
import { prng, uuidFrom } from "../../services/projections/testing/simulation.ts";

const ids = prng(11);
const projectCreated = (projectId: string, name = "P"): EventToAppend => ({
  id: uuidFrom(ids),
  type: "ProjectCreated",
  data: { projectId, name, environments: ["production"], segments: [], at: "2026-01-01T00:00:00.000Z" },
  metadata: {
    actor: "admin",
    occurredAt: "2026-01-01T00:00:00.000Z",
    correlationId: "c",
    causationId: null,
    schemaVersion: 1,
    projectId,
  },
});

let store: SqliteEventStore;
let audit: AuditIndex;

beforeEach(() => {
  store = createSqliteEventStore({ path: ":memory:" });
  audit = createAuditIndex({ store });
});

afterEach(async () => {
  audit.close();
  await store.close();
});

const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
  try {
    await promise;
  } catch (error) {
    return isDomainError(error) ? error.code : `not a DomainError: ${String(error)}`;
  }
  return undefined;
};

describe("startProjections", () => {
  it("is ready on an empty store, then follows appends live", async () => {
    const readModels = new ReadModels();
    const runner = startProjections({ store, readModels, audit });
    await runner.ready;
    expect(runner.status()).toMatchObject({ caughtUp: true, position: null, events: 0, error: null });
    const { position } = await store.append("project-a", [projectCreated("a")], "no_stream");
    await runner.waitFor(position);
    expect(readModels.project("a")?.name).toBe("P");
    expect((await audit.query()).edges.map((e) => e.node.entityId)).toEqual(["a"]);
    await runner.close();
    expect(runner.status().closed).toBe(true);
  });

  it("catches up on history first (more than one page of it), then is ready", async () => {
    for (let i = 0; i < 1300; i++) await store.append(`project-p${i}`, [projectCreated(`p${i}`)], "no_stream");
    const readModels = new ReadModels();
    const runner = startProjections({ store, readModels, audit });
    await runner.ready;
    expect(readModels.projects()).toHaveLength(1300);
    expect(audit.count).toBe(1300);
    expect((await audit.query({ first: 1 })).edges[0]?.node.entityId).toBe("p1299");
    await runner.close();
  });

  it("catches up the same through readAll when the store has no readAllStored, and hands listeners parsed metadata", async () => {
    for (let i = 0; i < 300; i++) await store.append(`project-p${i}`, [projectCreated(`p${i}`)], "no_stream");
    // The same store without the optional method (as the EventStoreDB adapter is).
    const plain: EventStore = {
      append: (stream, events, expected) => store.append(stream, events, expected),
      readStream: (stream, options) => store.readStream(stream, options),
      readAll: (options) => store.readAll(options),
      subscribeToAll: (options) => store.subscribeToAll(options),
      comparePositions: (a, b) => store.comparePositions(a, b),
      headPosition: () => store.headPosition(),
      ping: () => store.ping(),
      close: async () => {},
    };
    const builds = [];
    for (const source of [store, plain]) {
      const readModels = new ReadModels();
      const index = createAuditIndex({ store: source });
      const runner = startProjections({ store: source, readModels, audit: index });
      const seen: RecordedEvent[] = [];
      runner.onEvent((event) => seen.push(event));
      await runner.ready;
      builds.push({ snapshot: readModels.snapshot(), page: await index.query({ first: 500 }), seen });
      await runner.close();
      index.close();
    }
    const [stored, read] = builds;
    expect(stored?.snapshot.projects).toHaveLength(300);
    expect(stored?.snapshot).toEqual(read?.snapshot);
    expect(stored?.page).toEqual(read?.page);
    expect(stored?.page.edges[0]?.node).toMatchObject({ entityId: "p299", projectId: "p299", actor: "admin" });
    expect(stored?.seen).toEqual(await store.readAll());
    expect(read?.seen).toEqual(stored?.seen);
  });

  it("waitFor resolves at once for an applied position, later for a future one, and times out with INTERNAL", async () => {
    const readModels = new ReadModels();
    const runner = startProjections({ store, readModels });
    await runner.ready;
    const first = await store.append("project-a", [projectCreated("a")], "no_stream");
    await runner.waitFor(first.position);
    await runner.waitFor(first.position);
    const next = String(BigInt(first.position) + 1n).padStart(20, "0");
    const waiting = runner.waitFor(next, 5_000);
    await store.append("project-b", [projectCreated("b")], "no_stream");
    await waiting;
    expect(readModels.project("b")).not.toBeNull();
    const far = String(BigInt(first.position) + 100n).padStart(20, "0");
    expect(await codeOf(runner.waitFor(far, 30))).toBe("INTERNAL");
    expect(await codeOf(runner.waitFor("not-a-position"))).toBe("VALIDATION");
    const pending = runner.waitFor(far, 5_000);
    await runner.close();
    expect(await codeOf(pending)).toBe("INTERNAL");
    expect(await codeOf(runner.waitFor(first.position))).toBe("INTERNAL");
  });

  it("feeds listeners after the read models have the event, until they unsubscribe; a failing one does not stop the others", async () => {
    const readModels = new ReadModels();
    const failures: unknown[] = [];
    const runner = startProjections({
      store,
      readModels,
      audit,
      onListenerError: (error) => failures.push(error),
    });
    await runner.ready;
    const seen: { type: string; name: string | undefined; change: AppliedChange }[] = [];
    const stop = runner.onEvent((event: RecordedEvent, models, change) => {
      seen.push({ type: event.type, name: models.project(change.id)?.name, change });
    });
    runner.onEvent(() => {
      throw new Error("boom");
    });
    const a = await store.append("project-a", [projectCreated("a", "Alpha")], "no_stream");
    await runner.waitFor(a.position);
    stop();
    const b = await store.append("project-b", [projectCreated("b")], "no_stream");
    await runner.waitFor(b.position);
    expect(seen.map((s) => [s.type, s.name])).toEqual([["ProjectCreated", "Alpha"]]);
    expect(seen[0]?.change).toMatchObject({ kind: "project", id: "a", before: null });
    expect(Object.isFrozen(seen[0]?.change.after)).toBe(true);
    expect(failures).toHaveLength(2);
    await runner.close();
  });

  it("skips what it cannot apply — an unknown stream, an event evolve refuses — and keeps going", async () => {
    const readModels = new ReadModels();
    const runner = startProjections({ store, readModels, audit });
    await runner.ready;
    await store.append("other-x", [{ ...projectCreated("x"), type: "SomethingElse" }], "no_stream");
    await store.append(
      "release-r",
      [
        {
          ...projectCreated("r"),
          type: "ReleaseFromTheFuture",
          data: { releaseId: "r", at: "2026-01-01T00:00:00.000Z" },
        },
      ],
      "no_stream",
    );
    const last = await store.append("project-a", [projectCreated("a")], "no_stream");
    await runner.waitFor(last.position);
    expect(readModels.project("a")).not.toBeNull();
    expect(readModels.eventCount).toBe(3);
    expect(readModels.problems).toEqual([]);
    expect(audit.count).toBe(3);
    await runner.close();
  });

  it("records an event whose evolve throws as a problem, not a crash", () => {
    const readModels = new ReadModels();
    const base = {
      revision: 0n,
      data: {},
      metadata: projectCreated("x").metadata,
      recordedAt: "2026-01-01T00:00:00.000Z",
    };
    readModels.apply({ ...base, id: "1", stream: "release-r", position: "1", type: "ReleaseCompleted" });
    expect(readModels.release("r")).toBeNull();
    readModels.apply({
      ...base,
      id: "2",
      stream: "release-r",
      position: "2",
      type: "ReleaseStarted",
      data: { releaseId: "r", phases: [], at: "2026-01-01T00:00:00.000Z" },
    });
    readModels.apply({ ...base, id: "3", stream: "release-r", position: "3", type: "ReleaseFromTheFuture" });
    expect(readModels.problems).toEqual([
      { position: "3", stream: "release-r", type: "ReleaseFromTheFuture", message: expect.stringMatching(/unknown/) },
    ]);
    expect(readModels.position).toBe("3");
  });
});

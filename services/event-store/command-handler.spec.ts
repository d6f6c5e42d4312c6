import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Decider } from "../core/decider.ts";
import { DomainError } from "../core/errors.ts";
import { type CommandMetadata, handleCommand, loadStream } from "./command-handler.ts";
import type { AppendResult, EventStore, EventToAppend, ExpectedRevision } from "./port.ts";
import { createSqliteEventStore, type SqliteEventStore } from "./sqlite/sqlite-event-store.ts";

// A small account: opened once, deposits refused when closed or non-positive.
type AccountEvent =
  | { type: "Opened"; data: { owner: string } }
  | { type: "Deposited"; data: { amount: number } }
  | { type: "Closed"; data: Record<string, never> };
type AccountCommand = { kind: "open"; owner: string } | { kind: "deposit"; amount: number } | { kind: "noop" };
interface Account {
  status: "none" | "open" | "closed";
  owner: string | null;
  balance: number;
}

const account: Decider<Account, AccountCommand, AccountEvent> = {
  initialState: () => ({ status: "none", owner: null, balance: 0 }),
  evolve: (state, event) => {
    switch (event.type) {
      case "Opened":
        return { ...state, status: "open", owner: event.data.owner };
      case "Deposited":
        return { ...state, balance: state.balance + event.data.amount };
      case "Closed":
        return { ...state, status: "closed" };
    }
  },
  decide: (command, state) => {
    switch (command.kind) {
      case "open":
        if (state.status !== "none") throw new DomainError("INVALID_STATE", "account already opened");
        return [{ type: "Opened", data: { owner: command.owner } }];
      case "deposit":
        if (state.status !== "open") throw new DomainError("INVALID_STATE", "account is not open");
        if (command.amount <= 0) throw new DomainError("VALIDATION", "amount: must be positive", "amount");
        return [{ type: "Deposited", data: { amount: command.amount } }];
      case "noop":
        return [];
    }
  },
};

const metadata: CommandMetadata = {
  actor: "alice",
  occurredAt: "2024-06-01T10:00:00.000Z",
  correlationId: "corr-1",
  causationId: "cause-1",
  projectId: "proj-1",
  extra: { source: "test" },
};

/** Lets a test slip a competing write in just before the handler's append. */
class InterferingStore implements EventStore {
  readonly inner: EventStore;
  readonly appendCalls: Array<{ stream: string; expected: ExpectedRevision }> = [];
  beforeAppend: ((stream: string) => Promise<void>) | undefined;

  constructor(inner: EventStore) {
    this.inner = inner;
  }
  async append(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    this.appendCalls.push({ stream, expected });
    await this.beforeAppend?.(stream);
    return this.inner.append(stream, events, expected);
  }
  readStream: EventStore["readStream"] = (...args) => this.inner.readStream(...args);
  readAll: EventStore["readAll"] = (...args) => this.inner.readAll(...args);
  subscribeToAll: EventStore["subscribeToAll"] = (...args) => this.inner.subscribeToAll(...args);
  comparePositions: EventStore["comparePositions"] = (...args) => this.inner.comparePositions(...args);
  headPosition: EventStore["headPosition"] = () => this.inner.headPosition();
  ping: EventStore["ping"] = () => this.inner.ping();
  close: EventStore["close"] = () => this.inner.close();
}

const deposit = (amount: number): EventToAppend => ({
  id: randomUUID(),
  type: "Deposited",
  data: { amount },
  metadata: { ...metadata, causationId: null, schemaVersion: 1 },
});

describe("handleCommand", () => {
  let sqlite: SqliteEventStore;
  let store: InterferingStore;

  beforeEach(() => {
    sqlite = createSqliteEventStore({ path: ":memory:" });
    store = new InterferingStore(sqlite);
  });
  afterEach(() => sqlite.close());

  it("decides on a new stream with no_stream and wraps events with ids and metadata", async () => {
    const ids = ["11111111-1111-4111-8111-111111111111"];
    const result = await handleCommand(store, account, {
      stream: "account-1",
      command: { kind: "open", owner: "alice" },
      metadata,
      newId: () => ids.shift() ?? randomUUID(),
    });
    expect(store.appendCalls).toEqual([{ stream: "account-1", expected: "no_stream" }]);
    expect(result.state).toEqual({ status: "open", owner: "alice", balance: 0 });
    expect(result.events).toEqual([{ type: "Opened", data: { owner: "alice" } }]);
    expect(result.nextExpectedRevision).toBe(0n);
    expect(result.attempts).toBe(1);
    const [stored] = await sqlite.readStream("account-1");
    expect(stored?.id).toBe("11111111-1111-4111-8111-111111111111");
    expect(stored?.position).toBe(result.position);
    expect(stored?.metadata).toEqual({
      source: "test",
      actor: "alice",
      occurredAt: "2024-06-01T10:00:00.000Z",
      correlationId: "corr-1",
      causationId: "cause-1",
      projectId: "proj-1",
      schemaVersion: 1,
    });
  });

  it("appends with the loaded revision as expected revision", async () => {
    await handleCommand(store, account, { stream: "account-1", command: { kind: "open", owner: "a" }, metadata });
    await handleCommand(store, account, { stream: "account-1", command: { kind: "deposit", amount: 5 }, metadata });
    const result = await handleCommand(store, account, {
      stream: "account-1",
      command: { kind: "deposit", amount: 7 },
      metadata,
    });
    expect(store.appendCalls.map((c) => c.expected)).toEqual(["no_stream", 0n, 1n]);
    expect(result.state.balance).toBe(12);
    expect(result.nextExpectedRevision).toBe(2n);
  });

  it("on CONFLICT re-loads, re-decides against the newer state and appends", async () => {
    await handleCommand(store, account, { stream: "account-1", command: { kind: "open", owner: "a" }, metadata });
    let interfered = false;
    store.beforeAppend = async (stream) => {
      if (interfered) return;
      interfered = true;
      await sqlite.append(stream, [deposit(100)], "any");
    };
    const result = await handleCommand(store, account, {
      stream: "account-1",
      command: { kind: "deposit", amount: 1 },
      metadata,
    });
    expect(result.attempts).toBe(2);
    expect(result.state.balance).toBe(101);
    expect(store.appendCalls.slice(1).map((c) => c.expected)).toEqual([0n, 1n]);
    const events = await sqlite.readStream("account-1");
    expect(events.map((e) => e.data)).toEqual([{ owner: "a" }, { amount: 100 }, { amount: 1 }]);
  });

  it("gives up with CONFLICT after maxAttempts (default 3)", async () => {
    await handleCommand(store, account, { stream: "account-1", command: { kind: "open", owner: "a" }, metadata });
    store.beforeAppend = async (stream) => {
      await sqlite.append(stream, [deposit(1)], "any");
    };
    await expect(
      handleCommand(store, account, { stream: "account-1", command: { kind: "deposit", amount: 1 }, metadata }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    expect(store.appendCalls.length).toBe(1 + 3);
    store.appendCalls.length = 0;
    await expect(
      handleCommand(store, account, {
        stream: "account-1",
        command: { kind: "deposit", amount: 1 },
        metadata,
        maxAttempts: 5,
      }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    expect(store.appendCalls.length).toBe(5);
  });

  it("a refusal from decide propagates and writes nothing", async () => {
    await expect(
      handleCommand(store, account, { stream: "account-1", command: { kind: "deposit", amount: 5 }, metadata }),
    ).rejects.toMatchObject({ code: "INVALID_STATE" });
    await handleCommand(store, account, { stream: "account-1", command: { kind: "open", owner: "a" }, metadata });
    await expect(
      handleCommand(store, account, { stream: "account-1", command: { kind: "deposit", amount: -1 }, metadata }),
    ).rejects.toMatchObject({ code: "VALIDATION", field: "amount" });
    expect(store.appendCalls.length).toBe(1);
    expect((await sqlite.readAll()).length).toBe(1);
  });

  it("a command deciding nothing appends nothing and reports the loaded revision", async () => {
    const none = await handleCommand(store, account, { stream: "account-1", command: { kind: "noop" }, metadata });
    expect(none).toMatchObject({ events: [], appended: [], nextExpectedRevision: "no_stream", position: null });
    await handleCommand(store, account, { stream: "account-1", command: { kind: "open", owner: "a" }, metadata });
    const after = await handleCommand(store, account, { stream: "account-1", command: { kind: "noop" }, metadata });
    expect(after.nextExpectedRevision).toBe(0n);
    expect(after.state.status).toBe("open");
    expect(store.appendCalls.length).toBe(1);
  });

  it("does not retry errors other than CONFLICT", async () => {
    store.beforeAppend = async () => {
      throw new Error("disk on fire");
    };
    await expect(
      handleCommand(store, account, { stream: "account-1", command: { kind: "open", owner: "a" }, metadata }),
    ).rejects.toThrow("disk on fire");
    expect(store.appendCalls.length).toBe(1);
  });

  it("upcasts old event shapes on load, passing the stored schema version", async () => {
    // Version 0 of Deposited stored the amount in cents as a string.
    await sqlite.append(
      "account-1",
      [
        {
          id: randomUUID(),
          type: "Opened",
          data: { owner: "a" },
          metadata: { ...metadata, causationId: null, schemaVersion: 1 },
        },
        {
          id: randomUUID(),
          type: "Deposited",
          data: { cents: "250" },
          metadata: { ...metadata, causationId: null, schemaVersion: 0 },
        },
      ],
      "no_stream",
    );
    const seen: number[] = [];
    const upcasters = {
      Deposited: (data: unknown, schemaVersion: number): unknown => {
        seen.push(schemaVersion);
        return schemaVersion === 0 ? { amount: Number((data as { cents: string }).cents) / 100 } : data;
      },
    };
    const loaded = await loadStream(sqlite, account, "account-1", upcasters);
    expect(loaded.state.balance).toBe(2.5);
    const result = await handleCommand(store, account, {
      stream: "account-1",
      command: { kind: "deposit", amount: 1 },
      metadata,
      upcasters,
    });
    expect(result.state.balance).toBe(3.5);
    expect(seen).toEqual([0, 0]);
    expect((await sqlite.readStream("account-1"))[2]?.metadata.schemaVersion).toBe(1);
  });
});

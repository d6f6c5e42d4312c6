// The audit worker: owns the audit index's table (audit-table.ts) on its own thread, so indexing the log
// runs beside the read models instead of after them. Messages are handled one at a time, in the
// order they were posted: a query posted after a batch of events sees that batch (the connection sees
// its own uncommitted rows). Batches are committed once the queue is drained (and every so many rows
// while it is not), and each batch handled is counted in `progress` for the main thread's back-pressure.

import { parentPort, workerData } from "node:worker_threads";
import {
  type AuditLayout,
  AuditTable,
  type EventBatch,
  IDS_PER_EVENT,
  type TableQuery,
  UnknownCursorError,
} from "./audit-table.ts";

export type AuditRequest =
  | { op: "query"; query: TableQuery }
  | { op: "history"; entityId: string; after: string | null; limit: number }
  | { op: "row"; position: string }
  | { op: "positionAt"; ms: number }
  | { op: "finishBulkLoad" }
  | { op: "sync" }
  | { op: "clear" }
  | { op: "close" };

export type AuditMessage = { t: "add"; batch: EventBatch } | { t: "req"; id: number; request: AuditRequest };

export type AuditReply =
  | { t: "opened"; lastPosition: string | null; count: number }
  | { t: "res"; id: number; ok: true; value: unknown }
  | { t: "res"; id: number; ok: false; unknownCursor: boolean; message: string }
  | { t: "failed"; message: string };

const port = parentPort;
if (port === null) throw new Error("audit-worker.ts runs as a worker thread");

const { path, progress, layout } = workerData as {
  path: string;
  /** [0]: events handled so far (shared with the main thread). */
  progress: Int32Array;
  layout?: AuditLayout;
};
let table: AuditTable;
try {
  table = new AuditTable(path, layout);
  port.postMessage({ t: "opened", ...table.head() } satisfies AuditReply);
} catch (error) {
  port.postMessage({ t: "failed", message: (error as Error).message } satisfies AuditReply);
  throw error;
}

function handle(request: AuditRequest): unknown {
  switch (request.op) {
    case "query":
      return table.query(request.query);
    case "history":
      return table.history(request.entityId, request.after, request.limit);
    case "row":
      return table.row(request.position);
    case "positionAt":
      return table.positionAt(request.ms);
    case "finishBulkLoad":
      table.finishBulkLoad();
      table.commit();
      return null;
    case "sync":
      table.commit();
      return table.head();
    case "clear":
      table.clear();
      return null;
    case "close":
      table.close();
      return null;
    default: {
      const unknown: never = request;
      throw new Error(`unknown audit request ${JSON.stringify(unknown)}`);
    }
  }
}

let commitScheduled = false;

const commitLater = (): void => {
  if (commitScheduled) return;
  commitScheduled = true;
  // After the messages already queued: a rebuild's batches share a transaction.
  setImmediate(() => {
    commitScheduled = false;
    try {
      table.commit();
    } catch (error) {
      port.postMessage({ t: "failed", message: (error as Error).message } satisfies AuditReply);
    }
  });
};

port.on("message", (message: AuditMessage) => {
  if (message.t === "add") {
    try {
      table.add(message.batch);
      commitLater();
    } catch (error) {
      port.postMessage({ t: "failed", message: (error as Error).message } satisfies AuditReply);
    } finally {
      Atomics.add(progress, 0, message.batch.ids.length / IDS_PER_EVENT);
      Atomics.notify(progress, 0);
    }
    return;
  }
  let reply: AuditReply;
  try {
    reply = { t: "res", id: message.id, ok: true, value: handle(message.request) };
  } catch (error) {
    reply = {
      t: "res",
      id: message.id,
      ok: false,
      unknownCursor: error instanceof UnknownCursorError,
      message: (error as Error).message,
    };
  }
  port.postMessage(reply);
  if (message.request.op === "close") port.close();
});

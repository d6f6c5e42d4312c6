// The audit worker: owns the audit index's table (audit-table.ts) on its own thread, so indexing the log
// runs beside the read models instead of after them. Messages are handled one at a time, in the
// order they were posted: a query posted after a batch of events sees that batch (the connection sees
// its own uncommitted rows). Batches are committed a moment after they arrive (see commitLater), and
// each batch handled is counted in `progress` for the main thread's back-pressure.

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

/**
 * Batches are committed COMMIT_DELAY_MS after the first uncommitted one (or every COMMIT_ROWS rows, by
 * the table, or at once for sync and finishBulkLoad): the batches of a rebuild share transactions, so
 * each page of an index they touch is written once for many of them.
 */
const COMMIT_DELAY_MS = 100;
let commitTimer: NodeJS.Timeout | null = null;

const commitLater = (): void => {
  if (commitTimer !== null) return;
  commitTimer = setTimeout(() => {
    commitTimer = null;
    try {
      table.commit();
    } catch (error) {
      port.postMessage({ t: "failed", message: (error as Error).message } satisfies AuditReply);
    }
  }, COMMIT_DELAY_MS);
  // A pending commit does not keep the worker (or the process) alive: close commits what is left.
  commitTimer.unref();
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

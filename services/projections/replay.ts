// Replay: drop every projection and rebuild it from the log, then verify. The read models and the audit
// index are projections (docs/decisions/0005-read-models.md): this is what every API process does at
// start, run on demand, with numbers.

import { type AuditIndex, createAuditIndex } from "../audit/audit-index.ts";
import type { EventStore } from "../event-store/port.ts";
import { digest } from "./digest.ts";
import { type ReadModelCounts, ReadModels } from "./read-models.ts";
import { startProjections } from "./runner.ts";

export interface ReplayOptions {
  store: EventStore;
  /** A file-backed audit index to drop and rebuild; default: an in-memory one. */
  auditPath?: string;
  /** Read models to drop and rebuild (a slot's, persisted); default: fresh ones in memory. */
  readModels?: ReadModels;
  /** Also fold the log a second time, straight from `readAll`, and compare the digests (default true). */
  verify?: boolean;
}

export interface ReplayReport {
  events: number;
  seconds: number;
  eventsPerSec: number;
  counts: ReadModelCounts;
  auditEvents: number;
  digest: string;
  /** Digest of the second, independent fold (null when not verified). */
  verifyDigest: string | null;
  /** Events whose evolve threw. */
  problems: number;
  ok: boolean;
}

/** Folds the whole log into fresh read models with plain paged reads (no runner): the verification path. */
export async function foldLog(store: EventStore, pageSize = 2000): Promise<ReadModels> {
  const readModels = new ReadModels();
  let after: string | undefined;
  for (;;) {
    const page = await store.readAll({ ...(after === undefined ? {} : { after }), maxCount: pageSize });
    for (const event of page) readModels.apply(event);
    const last = page[page.length - 1];
    if (last === undefined || page.length < pageSize) return readModels;
    after = last.position;
  }
}

/** Rebuilds the read models and the audit index from the whole log; returns them with a report. */
export async function replay(
  options: ReplayOptions,
): Promise<{ readModels: ReadModels; audit: AuditIndex; report: ReplayReport }> {
  const { store } = options;
  const audit = createAuditIndex({ store, ...(options.auditPath === undefined ? {} : { path: options.auditPath }) });
  await audit.clear();
  const readModels = options.readModels ?? new ReadModels();
  readModels.clear();
  const started = performance.now();
  const runner = startProjections({ store, readModels, audit });
  try {
    await runner.ready;
  } finally {
    await runner.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const state = digest(readModels);
  const verifyDigest = options.verify === false ? null : digest(await foldLog(store));
  const problems = readModels.problems.length;
  return {
    readModels,
    audit,
    report: {
      events: readModels.eventCount,
      seconds,
      eventsPerSec: seconds > 0 ? Math.round(readModels.eventCount / seconds) : 0,
      counts: readModels.counts(),
      auditEvents: audit.count,
      digest: state,
      verifyDigest,
      problems,
      ok: problems === 0 && audit.count === readModels.eventCount && (verifyDigest === null || verifyDigest === state),
    },
  };
}

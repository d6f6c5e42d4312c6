// Projection slots: where an API process keeps its persisted projections (the read models and the audit
// index), so that a restart resumes from their checkpoints instead of replaying the whole log.
//
// PROJECTIONS_DIR holds slot directories (slot-0, slot-1, …). A process takes the first slot whose read
// models it can lock for itself (SQLite's exclusive locking mode, released by the kernel when the process
// dies, kill -9 included) and keeps it until it exits. Slots are interchangeable: each is a local
// materialised view of the one event store, and any slot's checkpoint is valid for any process. Two API
// processes on one DATA_DIR therefore hold two slots; a restarted process takes whichever is free, and only
// catches up on what was appended since that slot's checkpoint. See docs/decisions/0042.
//
// A slot's files carry their projection's version in their names (read-models-v<N>.sqlite,
// audit-v<M>.sqlite): a build that changed a projection's shape builds a new file from the log, and the
// files of other versions are removed once the new ones have caught up (`removeStale`).

import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { ProjectionFileBusyError, ReadModels, readModelsFile } from "./read-models.ts";

/** More slots than this means something else is wrong (processes leaking, a directory shared too widely). */
const MAX_SLOTS = 64;

export interface ProjectionSlot {
  /** The slot's directory. */
  readonly dir: string;
  readonly index: number;
  /** The slot's read models, open and locked for this process. */
  readonly readModels: ReadModels;
  /** True when the read models start from nothing (a new slot, or a new version): a full rebuild. */
  readonly fresh: boolean;
  /**
   * Removes files in the slot that are not among `keep` (file names or paths; the read models' file is
   * always kept) — projections of other versions. Call once the current ones have caught up.
   */
  removeStale(keep?: readonly string[]): string[];
}

export interface OpenSlotOptions {
  /** PROJECTIONS_DIR. */
  root: string;
  /** Parsed states the read models keep in memory (default: theirs). */
  cacheEntries?: number;
}

/** Takes the first free slot under `root` (creating it if needed). */
export function openProjectionSlot(options: OpenSlotOptions): ProjectionSlot {
  mkdirSync(options.root, { recursive: true });
  for (let index = 0; index < MAX_SLOTS; index++) {
    const dir = join(options.root, `slot-${index}`);
    mkdirSync(dir, { recursive: true });
    let readModels: ReadModels;
    try {
      readModels = new ReadModels({
        path: readModelsFile(dir),
        ...(options.cacheEntries === undefined ? {} : { cacheEntries: options.cacheEntries }),
      });
    } catch (error) {
      if (error instanceof ProjectionFileBusyError) continue;
      throw error;
    }
    const fresh = readModels.checkpoint === null;
    return {
      dir,
      index,
      readModels,
      fresh,
      removeStale(keep = []) {
        const kept = new Set([basename(readModels.path), ...keep.map((file) => basename(file))]);
        const removed: string[] = [];
        for (const name of readdirSync(dir)) {
          // A database and its journal files (-wal, -shm, -journal) go together.
          const database = name.replace(/-(wal|shm|journal)$/, "");
          if (!database.endsWith(".sqlite") || kept.has(database)) continue;
          rmSync(join(dir, name), { force: true });
          removed.push(name);
        }
        return removed;
      },
    };
  }
  throw new Error(
    `all ${MAX_SLOTS} projection slots under ${options.root} are held by running processes; ` +
      "give this process a PROJECTIONS_DIR of its own",
  );
}

// Projection slots: where an API process keeps its persisted projections (the read models and the audit
// index), so that a restart resumes from their checkpoints instead of replaying the whole log.
//
// PROJECTIONS_DIR holds slot directories (slot-0, slot-1, …). A process takes a slot it can lock for itself
// — `slot.lock`, a SQLite file held in exclusive locking mode, released by the kernel when the process
// exits, kill -9 included — and keeps it until it exits. Slots are interchangeable: each is a local
// materialised view of the one event store, and any slot's checkpoint is valid for any process. Two API
// processes on one DATA_DIR therefore hold two slots; a restarted process takes a free slot, preferring one
// whose read models this build can read, and only catches up on what was appended since its checkpoint.
// See docs/decisions/0042.
//
// A slot's files carry their projection's version in their names (read-models-v<shape>.sqlite,
// audit-v<N>.sqlite): a build that changed a projection's code builds a new file from the log, and the files
// of other versions are removed once the new ones have caught up (`removeStale`). While it builds, a process
// of the previous build keeps serving from its own slot (the lock is per slot, not per file): a rolling
// deploy replaces it once the new one is ready.

import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { lockExclusively, ReadModels, readModelsFile } from "./read-models.ts";

/** More slots than this means something else is wrong (processes leaking, a directory shared too widely). */
const MAX_SLOTS = 64;
const LOCK_FILE = "slot.lock";

export interface ProjectionSlot {
  /** The slot's directory. */
  readonly dir: string;
  readonly index: number;
  /** The slot's read models, open. */
  readonly readModels: ReadModels;
  /** True when the read models start from nothing (a new slot, or a new version): a full rebuild. */
  readonly fresh: boolean;
  /**
   * Removes the databases in the slot that are not among `keep` (file names or paths; the read models' file
   * is always kept) — projections of other versions. Call once the current ones have caught up.
   */
  removeStale(keep?: readonly string[]): string[];
  /** Closes the read models and gives the slot back. */
  close(): void;
}

export interface OpenSlotOptions {
  /** PROJECTIONS_DIR. */
  root: string;
  /** Parsed states the read models keep in memory (default: theirs). */
  cacheEntries?: number;
}

/** Locks `dir` for this process: the lock's connection, or null when another process holds it. */
function lockSlot(dir: string): DatabaseSync | null {
  const lock = new DatabaseSync(join(dir, LOCK_FILE));
  try {
    if (lockExclusively(lock, "CREATE TABLE IF NOT EXISTS slot (id INTEGER PRIMARY KEY);")) return lock;
  } catch (error) {
    lock.close();
    throw error;
  }
  lock.close();
  return null;
}

const slotDir = (root: string, index: number): string => join(root, `slot-${index}`);

/**
 * Takes a free slot under `root`: the first whose read models this build can read (it resumes from their
 * checkpoint), else the first free one, else a new one.
 */
export function openProjectionSlot(options: OpenSlotOptions): ProjectionSlot {
  const { root } = options;
  mkdirSync(root, { recursive: true });
  const existing = readdirSync(root)
    .map((name) => /^slot-(\d+)$/.exec(name)?.[1])
    .filter((index): index is string => index !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const current = existing.filter((index) => existsSync(readModelsFile(slotDir(root, index))));
  const candidates = [...new Set([...current, ...existing])];
  for (let index = 0; candidates.length < MAX_SLOTS; index++) {
    if (!candidates.includes(index)) candidates.push(index);
  }
  for (const index of candidates) {
    const dir = slotDir(root, index);
    mkdirSync(dir, { recursive: true });
    const lock = lockSlot(dir);
    if (lock === null) continue;
    let readModels: ReadModels;
    try {
      readModels = new ReadModels({
        path: readModelsFile(dir),
        ...(options.cacheEntries === undefined ? {} : { cacheEntries: options.cacheEntries }),
      });
    } catch (error) {
      lock.close();
      throw error;
    }
    return {
      dir,
      index,
      readModels,
      fresh: readModels.checkpoint === null,
      removeStale(keep = []) {
        const kept = new Set([LOCK_FILE, basename(readModels.path), ...keep.map((file) => basename(file))]);
        const removed: string[] = [];
        for (const name of readdirSync(dir)) {
          // A database and its journal files (-wal, -shm, -journal) and marker (-unsynced) go together.
          const database = name.replace(/-(wal|shm|journal|unsynced)$/, "");
          if (!/\.(sqlite|lock)$/.test(database) || kept.has(database)) continue;
          rmSync(join(dir, name), { force: true });
          removed.push(name);
        }
        return removed;
      },
      close() {
        readModels.close();
        lock.close();
      },
    };
  }
  throw new Error(
    `all ${MAX_SLOTS} projection slots under ${root} are held by running processes; ` +
      "give this process a PROJECTIONS_DIR of its own",
  );
}

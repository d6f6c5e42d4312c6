// Process-tree inspection for tests that must prove no process outlives its parent (Linux /proc).
import { readdirSync, readFileSync } from "node:fs";

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Start time in clock ticks since boot: tells a pid apart from a later process that reuses it. */
  readonly startTime: number;
  /** R, S, D, Z (zombie: exited, not yet reaped), … */
  readonly state: string;
  readonly command: string;
}

export function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    return {
      pid,
      ppid: Number(fields[1]),
      startTime: Number(fields[19]),
      state: fields[0] ?? "?",
      command,
    };
  } catch {
    return undefined;
  }
}

/** Every live descendant of rootPid (children, grandchildren, …). */
export function descendantsOf(rootPid: number): ProcessInfo[] {
  const all = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readProcess(Number(name)))
    .filter((info): info is ProcessInfo => info !== undefined);
  const found: ProcessInfo[] = [];
  let frontier = [rootPid];
  while (frontier.length > 0) {
    const children = all.filter((info) => frontier.includes(info.ppid));
    found.push(...children);
    frontier = children.map((info) => info.pid);
  }
  return found;
}

/** True while the very process recorded (same pid and start time) exists and is not a zombie. */
export function isAlive(recorded: ProcessInfo): boolean {
  const now = readProcess(recorded.pid);
  return now !== undefined && now.startTime === recorded.startTime && now.state !== "Z";
}

// bench:scale end to end on a tiny log: it generates the log, starts the real API process twice on it (cold,
// then warm), sends its mixed queries, and prints ONE JSON line on stdout with every number the issue asks
// for. Guards the bench itself (a renamed readiness route, log line or query field breaks it here, not in
// a 20-minute run); the numbers are the bench's to judge, not this test's.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../setup/binaries.ts";
import { temporalTestAddress } from "../setup/temporal.ts";

const keep = mkdtempSync(join(tmpdir(), "bench-scale-test-"));
afterAll(() => rmSync(keep, { recursive: true, force: true }));

const QUERIES = 120;

function runBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, "bench/scale.ts")], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      EVENTS: "3000",
      QUERIES: String(QUERIES),
      BENCH_KEEP: keep,
      TEMPORAL_ADDRESS: temporalTestAddress(),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm run bench:scale", () => {
  it("prints one JSON line with every measure as a finite number", async () => {
    const { code, stdout, stderr } = await runBench();
    expect(code, stderr).toBe(0);
    const lines = stdout.split("\n").filter((line) => line !== "");
    expect(lines, "stdout is exactly one line").toHaveLength(1);
    const result = JSON.parse(lines[0] as string) as Record<string, unknown>;
    for (const field of [
      "events",
      "coldBuildMs",
      "warmRestartMs",
      "rssMb",
      "rssAfterReadyMb",
      "rssAfterQueriesMb",
      "auditFirstPageP99Ms",
      "auditDeepPageP99Ms",
      "featureAsOfP99Ms",
      "rebuildEventsPerSec",
      "warmRestartEventsApplied",
      "projects",
      "features",
      "releases",
      "generateSeconds",
    ]) {
      expect(Number.isFinite(result[field]), `${field}: ${String(result[field])}`).toBe(true);
    }
    // The log it generated, through the real append path, is the one the API rebuilt from.
    const info = JSON.parse(readFileSync(join(keep, "bench-info.json"), "utf8")) as { total: number };
    expect(info.total).toBeGreaterThanOrEqual(3000);
    expect(result.events).toBe(info.total);
    expect((result.coldCatchUp as { events: number }).events).toBe(info.total);
    expect(result.hotFeatureEvents).toBeGreaterThan(300);
    expect(result.queryCount).toBe(QUERIES);
    expect(result.rssMb).toBeGreaterThan(0);
    expect(typeof result.targetsMet).toBe("boolean");
    expect(Object.keys(result.targets as object).sort()).toEqual(
      [
        "auditDeepPageP99Ms",
        "auditFirstPageP99Ms",
        "featureAsOfP99Ms",
        "rebuildEventsPerSec",
        "rssMb",
        "warmRestartMs",
      ].sort(),
    );
  }, 90_000);
});

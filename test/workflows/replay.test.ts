// The determinism gate: every recorded history (test/histories/*.json, recorded from real runs by
// workflows/record-histories.ts) must replay against the current workflow code. A change that would
// break releases in flight fails here; see docs/decisions/0004-workflow-versioning.md for what to do.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "@temporalio/worker";
import { DeterminismViolationError } from "@temporalio/workflow";
import { beforeAll, describe, expect, it } from "vitest";
import { HISTORIES_DIR, historyFromFile } from "../../workflows/record-histories.ts";
import { buildWorkflowBundle } from "../../workflows/worker.ts";
import { quietTemporalLogs } from "./helpers.ts";

const files = readdirSync(HISTORIES_DIR)
  .filter((file) => file.endsWith(".json"))
  .sort();
const histories = () =>
  files.map((file) => ({
    workflowId: file,
    history: historyFromFile(readFileSync(join(HISTORIES_DIR, file), "utf8")),
  }));

async function replayAll(bundle: { code: string }): Promise<Map<string, Error | undefined>> {
  const results = new Map<string, Error | undefined>();
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories())) {
    results.set(result.workflowId, result.error);
  }
  return results;
}

let current: { code: string };
let changed: { code: string };

beforeAll(async () => {
  quietTemporalLogs();
  [current, changed] = await Promise.all([
    buildWorkflowBundle(),
    buildWorkflowBundle(undefined, fileURLToPath(new URL("./fixtures/changed-release.workflows.ts", import.meta.url))),
  ]);
});

describe("replay of recorded release histories", () => {
  it("covers the representative releases", () => {
    for (const scenario of [
      "wait-then-approval",
      "pause-unpause",
      "approvals-and-signals",
      "abort-after-rollout",
      "skip-then-full-rollout",
      "continue-as-new.run-1",
      "continue-as-new.run-2",
      "ramp-pause-skip",
      "guardrail-trip-pause",
      // Recorded with the signals-checked-v1 / carried-checked-v1 patches.
      "signals-checked",
      "continue-as-new-checked.run-2",
    ]) {
      expect(files).toContain(`${scenario}.json`);
    }
  });

  it("every recorded history replays against the current workflow code", async () => {
    const results = await replayAll(current);
    expect([...results.keys()].sort()).toEqual(files);
    for (const [file, error] of results) expect(error, `${file}: ${error?.message}`).toBeUndefined();
  });

  it("a workflow change without a patch fails the gate with a determinism violation", async () => {
    const results = await replayAll(changed);
    expect(results.size).toBe(files.length);
    for (const [file, error] of results) {
      expect(error, file).toBeInstanceOf(DeterminismViolationError);
    }
  });
});

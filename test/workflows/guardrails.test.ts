// Guardrails on the time-skipping server, checking a real local HTTP server and a small endpoint that
// speaks the Prometheus HTTP API: checks run as activities every `interval` while the phase bakes, only
// state changes are stored, `failuresToTrip` consecutive failures pause or abort as `system`, and a
// check that cannot run (the endpoint is down) only pauses.

import { setTimeout as sleep } from "node:timers/promises";
import type { TestWorkflowEnvironment } from "@temporalio/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Guardrail } from "../../services/core/model.ts";
import type { Release } from "../../services/release/release.ts";
import { startReleaseWorkflow } from "../../workflows/client.ts";
import { seedRelease } from "../../workflows/testing/seed-release.ts";
import { buildWorkflowBundle } from "../../workflows/worker.ts";
import { createTimeSkippingEnv } from "../setup/temporal.ts";
import { type CheckTargets, deadUrl, startCheckTargets } from "../support/check-targets.ts";
import {
  dataOf,
  foldRelease,
  queryReleaseState,
  quietTemporalLogs,
  releaseEvents,
  startWorkerHarness,
  typesOf,
  type WorkerHarness,
} from "./helpers.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let env: TestWorkflowEnvironment;
let harness: WorkerHarness;
let targets: CheckTargets;

beforeAll(async () => {
  quietTemporalLogs();
  targets = await startCheckTargets();
  env = await createTimeSkippingEnv();
  harness = await startWorkerHarness({
    nativeConnection: env.nativeConnection,
    client: env.client,
    bundle: await buildWorkflowBundle(),
  });
});
afterAll(async () => {
  await harness?.close();
  await env?.teardown();
  await targets?.close();
});

const guardrail = (over: Partial<Guardrail>): Guardrail => ({
  name: "health",
  kind: "HTTP_PROBE",
  url: `${targets.url}/healthz`,
  query: null,
  comparator: null,
  threshold: null,
  interval: "PT1H",
  intervalMs: HOUR,
  failuresToTrip: 3,
  onFailure: "PAUSE",
  ...over,
});

/** A release whose phase 1 bakes a day under `guardrails`; skips an hour at a time until `until` holds. */
async function runGuarded(guardrails: Guardrail[], until: (release: Release) => boolean): Promise<Release> {
  const { releaseId } = await seedRelease(harness.store, {
    phases: [{ environment: "development" }, { environment: "production", waitMs: DAY, guardrails }],
    now: new Date(await env.currentTimeMs()).toISOString(),
  });
  await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
  for (let i = 0; i < 200; i++) {
    const release = await queryReleaseState(harness.client, releaseId);
    if (release && until(release)) return release;
    // Real time for the check's HTTP request, then an hour of server time.
    await sleep(30);
    if (release?.phases[1]?.status === "WAITING") await env.sleep(HOUR);
  }
  throw new Error(`release ${releaseId} never reached the expected state`);
}

const checked = (events: Awaited<ReturnType<typeof releaseEvents>>) =>
  events
    .filter((e) => e.type === "ReleaseGuardrailChecked")
    .map((e) => dataOf<{ passed: boolean; couldRun: boolean; consecutiveFailures: number; result: string }>(e));

describe("guardrails on the time-skipping server", () => {
  it("fails twice, then passes: no trip, and a day of passing checks stores nothing more", async () => {
    targets.served.health = 0;
    targets.healthStatuses = [500, 503, 200];
    const done = await runGuarded([guardrail({})], (r) => r.status === "COMPLETED");
    const stored = await releaseEvents(harness.store, done.id);
    expect(checked(stored).map((c) => [c.passed, c.consecutiveFailures, c.result])).toEqual([
      [false, 1, "HTTP 500"],
      [false, 2, "HTTP 503"],
      [true, 0, "HTTP 200"],
    ]);
    expect(typesOf(stored)).not.toContain("ReleaseGuardrailTripped");
    // About 23 checks in the day's bake, 3 events.
    expect(targets.served.health).toBeGreaterThanOrEqual(20);
    expect(done.phases[1]?.guardrails?.[0]).toMatchObject({
      name: "health",
      consecutiveFailures: 0,
      lastResult: "HTTP 200",
    });
  });

  it("a Prometheus query above its threshold trips on the third failure and aborts as system", async () => {
    targets.served.query = 0;
    targets.served.queries = [];
    targets.queryValues = [0.2];
    const errorRate = guardrail({
      name: "checkout error rate",
      kind: "PROMETHEUS_QUERY",
      url: targets.url,
      query: 'sum(rate(http_requests_total{app="checkout",code=~"5.."}[5m]))',
      comparator: "LT",
      threshold: 0.05,
      onFailure: "ABORT",
    });
    const aborted = await runGuarded([errorRate], (r) => r.status === "ABORTED");
    const stored = await releaseEvents(harness.store, aborted.id);
    expect(typesOf(stored)).toEqual([
      "ReleaseStarted",
      "ReleasePhaseRolledOut",
      "ReleasePhaseWaitStarted",
      "ReleaseGuardrailChecked",
      "ReleaseGuardrailChecked",
      "ReleaseGuardrailChecked",
      "ReleaseGuardrailTripped",
      "ReleaseAborted",
    ]);
    expect(checked(stored).map((c) => c.result)).toEqual(["0.2 not < 0.05", "0.2 not < 0.05", "0.2 not < 0.05"]);
    expect(targets.served.queries[0]).toBe(errorRate.query);
    const abort = stored.at(-1);
    expect(abort?.metadata.actor).toBe("system");
    expect(dataOf<{ reason: string; by: string }>(abort)).toMatchObject({
      by: "system",
      reason: 'guardrail "checkout error rate" tripped after 3 consecutive failed checks (last: 0.2 not < 0.05)',
    });
    expect(aborted.actions).toEqual([expect.objectContaining({ kind: "ABORT", by: "system" })]);
    expect(aborted).toEqual(foldRelease(stored));
  });

  it("an endpoint that is down cannot be checked: it only pauses, even when the guardrail says ABORT", async () => {
    const down = guardrail({
      name: "status page",
      url: `${await deadUrl()}/healthz`,
      failuresToTrip: 2,
      onFailure: "ABORT",
    });
    const paused = await runGuarded([down], (r) => r.phases[1]?.status === "PAUSED");
    const stored = await releaseEvents(harness.store, paused.id);
    expect(typesOf(stored).slice(-4)).toEqual([
      "ReleaseGuardrailChecked",
      "ReleaseGuardrailChecked",
      "ReleaseGuardrailTripped",
      "ReleasePaused",
    ]);
    expect(checked(stored).every((c) => !c.couldRun && c.result.startsWith("could not run: ECONNREFUSED"))).toBe(true);
    expect(dataOf<{ outcome: string }>(stored.at(-2)).outcome).toBe("PAUSE");
    expect(dataOf<{ reason: string }>(stored.at(-1)).reason).toContain(
      "could not run, so it pauses instead of aborting",
    );
    expect(paused.status).toBe("IN_PROGRESS");
    // Paused: the checks stop with the bake timer.
    const servedBefore = (await releaseEvents(harness.store, paused.id)).length;
    await env.sleep(5 * HOUR);
    expect((await releaseEvents(harness.store, paused.id)).length).toBe(servedBefore);
  });

  it("guards a ramp: a trip pauses the ramp's clock and keeps its share", async () => {
    targets.served.health = 0;
    targets.healthStatuses = [200, 200, 500];
    const { releaseId } = await seedRelease(harness.store, {
      phases: [
        { environment: "development" },
        {
          environment: "production",
          ramp: { initialPercentage: 10, increaseBy: 10, every: "PT2H", everyMs: 2 * HOUR },
          guardrails: [guardrail({ failuresToTrip: 1 })],
        },
      ],
      now: new Date(await env.currentTimeMs()).toISOString(),
    });
    await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
    let release: Release | null = null;
    for (let i = 0; i < 100 && release?.phases[1]?.status !== "PAUSED"; i++) {
      await sleep(30);
      await env.sleep(HOUR);
      release = (await queryReleaseState(harness.client, releaseId)) as Release | null;
    }
    expect(release?.phases[1]).toMatchObject({ status: "PAUSED", rolloutPercentage: 20 });
    const stored = await releaseEvents(harness.store, releaseId);
    expect(typesOf(stored)).toEqual([
      "ReleaseStarted",
      "ReleasePhaseRolledOut",
      "ReleaseRampAdvanced",
      "ReleaseGuardrailChecked",
      "ReleaseRampAdvanced",
      "ReleaseGuardrailChecked",
      "ReleaseGuardrailTripped",
      "ReleasePaused",
    ]);
    // Paused: no more steps however long it stays paused.
    await env.sleep(DAY);
    expect((await queryReleaseState(harness.client, releaseId))?.phases[1]?.rolloutPercentage).toBe(20);
  });
});

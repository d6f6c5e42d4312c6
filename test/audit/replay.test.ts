// Read models are projections: dropped and rebuilt from the log they must come out identical to the ones
// kept live while a long randomized scenario ran through the real deciders and the command handler.

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqliteEventStore } from "../../services/event-store/sqlite/sqlite-event-store.ts";
import type { Feature } from "../../services/feature/feature.ts";
import type { Pipeline } from "../../services/pipeline/pipeline.ts";
import { digest } from "../../services/projections/digest.ts";
import { ReadModels } from "../../services/projections/read-models.ts";
import { foldLog, replay } from "../../services/projections/replay.ts";
import { startProjections } from "../../services/projections/runner.ts";
import type { Release } from "../../services/release/release.ts";
import { runScenario, type Scenario } from "./fixture.ts";

let scenario: Scenario;

beforeAll(async () => {
  scenario = await runScenario({ seed: 42, steps: 1500 });
}, 120_000);

afterAll(async () => {
  await scenario?.close();
});

describe("the scenario", () => {
  it("exercised every kind of release outcome and action, and read-your-writes on the way", () => {
    const { stats } = scenario.simulation;
    expect(stats.commands).toBeGreaterThan(1500);
    expect(stats.releasesStarted).toBeGreaterThan(50);
    expect(stats.releasesCompleted).toBeGreaterThan(10);
    expect(stats.releasesAborted).toBeGreaterThan(3);
    // Attached as the API attaches (services/feature/attachment.ts): every pipeline's stream records exactly
    // the features attached to it, and none is attached to a DELETED pipeline.
    const { readModels } = scenario;
    let attachments = 0;
    for (const project of readModels.projects()) {
      for (const pipeline of readModels.pipelines(project.id, true)) {
        const attached = readModels.featuresWithPipeline(pipeline.id).map((feature) => feature.id);
        expect([...pipeline.attachedFeatureIds].sort()).toEqual([...attached].sort());
        if (pipeline.status === "DELETED") expect(attached).toEqual([]);
        attachments += attached.length;
      }
    }
    expect(attachments).toBeGreaterThan(10);
    // Started as the API starts them (services/release/start.ts): production's ids, `<featureId>.<n>`.
    for (const release of scenario.simulation.releases.values()) {
      const feature = scenario.simulation.features.get(release.featureId);
      expect(feature?.releaseIds).toContain(release.id);
      expect(release.id).toBe(`${release.featureId}.${(feature?.releaseIds.indexOf(release.id) ?? -2) + 1}`);
    }
    for (const action of [
      "ApproveRelease",
      "PauseRelease",
      "UnpauseRelease",
      "SkipPhase",
      "AbortRelease",
      "FullRollout",
      "Tick",
    ]) {
      expect(stats.actions[action], action).toBeGreaterThan(0);
    }
    expect(Object.keys(stats.refusals).length).toBeGreaterThan(0);
    const types = new Set(scenario.log.map((event) => event.type));
    for (const type of [
      "ProjectCreated",
      "ApiTokenCreated",
      "PipelineCreated",
      "PipelineUpdated",
      "PipelinePublished",
      "PipelineDeleted",
      "FeatureCreated",
      "FeatureUpdated",
      "FeaturePipelineAttached",
      "FeaturePipelineDetached",
      "ReleaseStarted",
      "ReleasePhaseWaitStarted",
      "ReleasePaused",
      "ReleaseUnpaused",
      "ReleasePhaseWaitSkipped",
      "ReleaseApprovalRequested",
      "ReleasePhaseApproved",
      "ReleasePhaseRolledOut",
      "ReleaseFullRolloutRequested",
      "ReleaseAborted",
      "ReleaseCompleted",
    ]) {
      expect(types.has(type), type).toBe(true);
    }
    expect(scenario.liveChecks).toBeGreaterThan(100);
    expect(scenario.readModels.problems).toEqual([]);
  });
});

describe("rebuilding from the log", () => {
  it("gives read models equal to the live ones: same digest and deeply equal", async () => {
    const rebuilt = await foldLog(scenario.store, 97);
    expect(rebuilt.position).toBe(scenario.readModels.position);
    expect(rebuilt.eventCount).toBe(scenario.log.length);
    expect(digest(rebuilt)).toBe(digest(scenario.readModels));
    expect(rebuilt.snapshot()).toEqual(scenario.readModels.snapshot());
  });

  it("a change of any state changes the digest", async () => {
    const rebuilt = await foldLog(scenario.store);
    const before = digest(rebuilt);
    // One more event: the same log plus a direct update.
    const feature = [...scenario.simulation.features.values()].find((f) => f.pipelineId === null) as Feature;
    const last = scenario.log[scenario.log.length - 1];
    rebuilt.apply({
      id: "00000000-0000-4000-8000-000000000000",
      stream: `feature-${feature.id}`,
      revision: BigInt(feature.version),
      position: `${last?.position ?? "0"}9`,
      type: "FeatureUpdated",
      data: {
        featureId: feature.id,
        environments: [],
        cause: "DIRECT",
        releaseId: null,
        at: "2030-01-01T00:00:00.000Z",
      },
      metadata: {
        actor: "x",
        occurredAt: "2030-01-01T00:00:00.000Z",
        correlationId: "c",
        causationId: null,
        schemaVersion: 1,
        projectId: feature.projectId,
      },
      recordedAt: "2030-01-01T00:00:00.000Z",
    });
    expect(digest(rebuilt)).not.toBe(before);
  });

  it("`replay` drops and rebuilds every projection and verifies it", async () => {
    const { report, audit } = await replay({ store: scenario.store });
    expect(report.ok).toBe(true);
    expect(report.digest).toBe(digest(scenario.readModels));
    expect(report.verifyDigest).toBe(report.digest);
    expect(report.events).toBe(scenario.log.length);
    expect(report.auditEvents).toBe(scenario.log.length);
    expect(report.counts).toEqual(scenario.readModels.counts());
    audit.close();
  });

  it("`npm run replay` rebuilds from the store in DATA_DIR, verifies, and prints counts, rate and digest", async () => {
    const cli = fileURLToPath(new URL("../../services/projections/replay-cli.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [cli], {
      env: { ...process.env, DATA_DIR: scenario.dir, EVENTSTORE_CONNECTION_STRING: "" },
    });
    const lines = stdout.trim().split("\n");
    const report = JSON.parse(lines[lines.length - 1] as string);
    expect(report.ok).toBe(true);
    expect(report.digest).toBe(digest(scenario.readModels));
    expect(report.counts).toEqual(scenario.readModels.counts());
    expect(stdout).toMatch(/events: +\d+ in [\d.]+ s \(\d+ events\/s\)/);
    expect(stdout).toMatch(/verified: +a second fold of the log gives the same digest/);
  });

  it("another process on the same store builds the same read models, then follows new writes live", async () => {
    const other = createSqliteEventStore({ path: scenario.path });
    const readModels = new ReadModels();
    const runner = startProjections({ store: other, readModels });
    try {
      await runner.ready;
      expect(digest(readModels)).toBe(digest(scenario.readModels));
      const seen: string[] = [];
      const stop = runner.onEvent((event, models, change) => {
        seen.push(event.type);
        expect(models).toBe(readModels);
        expect(Object.isFrozen(change.after)).toBe(true);
      });
      // More commands through the first store: the second sees them through its own subscription.
      for (let i = 0; i < 30; i++) await scenario.simulation.step();
      const head = (await scenario.store.headPosition()) as string;
      await runner.waitFor(head);
      await scenario.runner.waitFor(head);
      stop();
      expect(seen.length).toBeGreaterThan(0);
      expect(digest(readModels)).toBe(digest(scenario.readModels));
    } finally {
      await runner.close();
      await other.close();
    }
  });
});

describe("the getters", () => {
  const sorted = (ids: string[]) => [...ids].sort();

  it("answer like the simulation's own record of every entity", () => {
    const { readModels, simulation } = scenario;
    const ids = <T extends { id: string }>(list: readonly T[]) => list.map((x) => x.id);
    expect(ids(readModels.projects())).toEqual([...simulation.projects.keys()]);
    expect(readModels.tokenCount()).toBe(simulation.tokenIds.length);
    const pipelines = [...simulation.pipelines.values()];
    const features = [...simulation.features.values()];
    const releases = [...simulation.releases.values()];
    for (const project of simulation.projects.values()) {
      expect(readModels.project(project.id)).toEqual(project);
      const own = pipelines.filter((p) => p.projectId === project.id);
      expect(ids(readModels.pipelines(project.id, true))).toEqual(ids(own));
      expect(ids(readModels.pipelines(project.id))).toEqual(ids(own.filter((p) => p.status !== "DELETED")));
      expect(ids(readModels.features(project.id))).toEqual(ids(features.filter((f) => f.projectId === project.id)));
      const ownReleases = releases.filter((r) => r.projectId === project.id);
      expect(ids(readModels.releases(project.id))).toEqual(ids(ownReleases));
      for (const status of ["IN_PROGRESS", "COMPLETED", "ABORTED"] as const) {
        expect(ids(readModels.releases(project.id, status))).toEqual(
          ids(ownReleases.filter((r) => r.status === status)),
        );
      }
      const awaiting = ownReleases.filter(
        (r) =>
          r.status === "IN_PROGRESS" &&
          r.currentPhaseIndex !== null &&
          r.phases[r.currentPhaseIndex]?.status === "AWAITING_APPROVAL",
      );
      expect(sorted(ids(readModels.releasesAwaitingApproval(project.id)))).toEqual(sorted(ids(awaiting)));
    }
    for (const pipeline of pipelines) {
      expect(readModels.pipeline(pipeline.id)).toEqual(pipeline);
      expect(sorted(ids(readModels.featuresWithPipeline(pipeline.id)))).toEqual(
        sorted(ids(features.filter((f) => f.pipelineId === pipeline.id))),
      );
    }
    for (const feature of features) {
      expect(readModels.feature(feature.id)).toEqual(feature);
      expect(readModels.featureByKey(feature.projectId, feature.key)).toEqual(feature);
      expect(ids(readModels.releasesOfFeature(feature.id))).toEqual(feature.releaseIds);
      expect(readModels.activeRelease(feature.id)?.id ?? null).toBe(feature.activeReleaseId);
    }
    for (const release of releases) expect(readModels.release(release.id)).toEqual(release);
    expect(readModels.releasesAwaitingApproval().length).toBe(readModels.counts().releasesAwaitingApproval);
    expect(readModels.project("nope")).toBeNull();
    expect(readModels.featureByKey("nope", "nope")).toBeNull();
    expect(readModels.pipelines("nope")).toEqual([]);
    expect(readModels.tokenByHash("0".repeat(64))).toBeNull();
  });

  it("find a token by the hash of its secret", () => {
    for (const tokenId of scenario.simulation.tokenIds) {
      const token = scenario.readModels.token(tokenId);
      expect(token).not.toBeNull();
      expect(scenario.readModels.tokenByHash(token?.secretHash ?? "")).toEqual(token);
    }
  });

  it("hand out frozen snapshots: a reader cannot change what another reader sees", () => {
    const { readModels } = scenario;
    const release = readModels.release([...scenario.simulation.releases.keys()][0] ?? "") as Release;
    expect(Object.isFrozen(release)).toBe(true);
    expect(Object.isFrozen(release.phases)).toBe(true);
    expect(Object.isFrozen(release.phases[0])).toBe(true);
    expect(Reflect.set(release, "status", "ABORTED")).toBe(false);
    const pipeline = readModels.pipelines(release.projectId, true)[0] as Pipeline;
    expect(Reflect.set(pipeline.phases[0]?.targets ?? [], 0, null)).toBe(false);
    const list = readModels.features(release.projectId);
    expect(Reflect.set(list, 0, null)).toBe(false);
    expect(readModels.release(release.id)?.status).toBe(scenario.simulation.releases.get(release.id)?.status);
  });
});

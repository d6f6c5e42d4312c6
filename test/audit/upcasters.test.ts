// Event schema evolution: events stored in an old shape are never rewritten; the command handler (by
// default: callers pass nothing), the read models and as-of reconstruction all read them through the same
// upcasters (services/core/upcasters.ts). The example: PipelineCreated from before `selfApproval`
// existed, with bake times as `wait` in seconds.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pipelineAsOf, releaseAsOf } from "../../services/audit/as-of.ts";
import { createAuditIndex } from "../../services/audit/audit-index.ts";
import { SYSTEM_ACTOR } from "../../services/core/model.ts";
import { NO_UPCASTERS, UPCASTERS, upcastPhase, upcastPipelineCreated } from "../../services/core/upcasters.ts";
import { type CommandMetadata, handleCommand, loadStream } from "../../services/event-store/command-handler.ts";
import type { EventToAppend } from "../../services/event-store/port.ts";
import { createSqliteEventStore, type SqliteEventStore } from "../../services/event-store/sqlite/sqlite-event-store.ts";
import { type Pipeline, pipelineDecider } from "../../services/pipeline/pipeline.ts";
import { type Project, projectDecider } from "../../services/project/project.ts";
import { foldLog } from "../../services/projections/replay.ts";
import { prng, uuidFrom } from "../../services/projections/testing/simulation.ts";
import { releaseDecider } from "../../services/release/release.ts";

const ids = prng(5);
const newId = () => uuidFrom(ids);
const meta = (projectId: string, occurredAt: string): CommandMetadata => ({
  actor: "alice",
  occurredAt,
  correlationId: newId(),
  projectId,
});
const editor = { name: "alice", role: "EDITOR" as const };

/** PipelineCreated as the first schema wrote it. */
const oldPipelineCreated = (pipelineId: string, projectId: string): EventToAppend => ({
  id: newId(),
  type: "PipelineCreated",
  data: {
    pipelineId,
    projectId,
    name: "legacy",
    phases: [
      { name: "canary", wait: 1800, targets: [{ environment: "production" }] },
      { name: "everyone", wait: 0, requiresApproval: true, targets: [{ environment: "production" }] },
    ],
    at: "2025-06-01T00:00:00.000Z",
  },
  metadata: {
    actor: "alice",
    occurredAt: "2025-06-01T00:00:00.000Z",
    correlationId: newId(),
    causationId: null,
    schemaVersion: 0,
    projectId,
  },
});

let store: SqliteEventStore;
let project: Project;
const pipelineId = "legacy-pipeline";

beforeEach(async () => {
  store = createSqliteEventStore({ path: ":memory:" });
  const created = await handleCommand(store, projectDecider, {
    stream: "project-p1",
    command: {
      type: "CreateProject",
      data: { projectId: "p1", name: "P", environments: ["staging", "production"], segments: [] },
      actor: { name: "admin", role: "ADMIN" },
      now: "2025-05-01T00:00:00.000Z",
    },
    metadata: meta("p1", "2025-05-01T00:00:00.000Z"),
    newId,
  });
  project = created.state as Project;
  await store.append(`pipeline-${pipelineId}`, [oldPipelineCreated(pipelineId, "p1")], "no_stream");
});

afterEach(async () => {
  await store.close();
});

describe("an old PipelineCreated", () => {
  it("is read in today's shape by the command handler, which decides on it", async () => {
    const published = await handleCommand(store, pipelineDecider, {
      stream: `pipeline-${pipelineId}`,
      command: { type: "PublishPipeline", data: {}, actor: editor, now: "2025-06-02T00:00:00.000Z" },
      metadata: meta("p1", "2025-06-02T00:00:00.000Z"),
      newId,
      upcasters: UPCASTERS,
    });
    const pipeline = published.state as Pipeline;
    expect(pipeline.status).toBe("PUBLISHED");
    expect(pipeline.version).toBe(2);
    expect(pipeline.selfApproval).toBe("ALLOWED");
    expect(pipeline.description).toBeNull();
    expect(pipeline.clonedFrom).toBeNull();
    expect(pipeline.phases).toEqual([
      {
        name: "canary",
        waitFor: "PT30M",
        waitForMs: 1_800_000,
        requiresApproval: false,
        approvalsRequired: 1,
        action: "APPLY_CHANGE",
        targets: [{ environment: "production", segment: null }],
      },
      {
        name: "everyone",
        waitFor: null,
        waitForMs: null,
        requiresApproval: true,
        approvalsRequired: 1,
        action: "APPLY_CHANGE",
        targets: [{ environment: "production", segment: null }],
      },
    ]);
    // Without the upcasters the same events fold into a state today's code cannot use.
    const raw = await loadStream(store, pipelineDecider, `pipeline-${pipelineId}`, NO_UPCASTERS);
    expect(raw.state?.selfApproval).toBeUndefined();
    expect(raw.state?.phases[0]?.waitForMs).toBeUndefined();
  });

  it("is upcast by the command handler when the caller passes no upcasters (every load path reads it the same)", async () => {
    const published = await handleCommand(store, pipelineDecider, {
      stream: `pipeline-${pipelineId}`,
      command: { type: "PublishPipeline", data: {}, actor: editor, now: "2025-06-02T00:00:00.000Z" },
      metadata: meta("p1", "2025-06-02T00:00:00.000Z"),
      newId,
    });
    const pipeline = published.state as Pipeline;
    expect(pipeline.status).toBe("PUBLISHED");
    expect(pipeline.selfApproval).toBe("ALLOWED");
    expect(pipeline.description).toBeNull();
    expect(pipeline.phases.map((phase) => [phase.waitFor, phase.waitForMs, phase.targets[0]?.segment])).toEqual([
      ["PT30M", 1_800_000, null],
      [null, null, null],
    ]);
    // The same as with the registry passed explicitly, as loadStream without it, and as the read models.
    const loaded = await loadStream(store, pipelineDecider, `pipeline-${pipelineId}`);
    expect(loaded.state).toEqual(pipeline);
    expect((await loadStream(store, pipelineDecider, `pipeline-${pipelineId}`, UPCASTERS)).state).toEqual(pipeline);
    expect((await foldLog(store)).pipeline(pipelineId)).toEqual(pipeline);
  });

  it("is read the same way by the read models and by pipelineAsOf", async () => {
    const published = await handleCommand(store, pipelineDecider, {
      stream: `pipeline-${pipelineId}`,
      command: { type: "PublishPipeline", data: {}, actor: editor, now: "2025-06-02T00:00:00.000Z" },
      metadata: meta("p1", "2025-06-02T00:00:00.000Z"),
      newId,
      upcasters: UPCASTERS,
    });
    const readModels = await foldLog(store);
    expect(readModels.pipeline(pipelineId)).toEqual(published.state);
    expect(await pipelineAsOf(store, pipelineId, { position: published.position as string })).toEqual(published.state);
    const beforePublish = await pipelineAsOf(store, pipelineId, { at: "2025-06-01T12:00:00.000Z" });
    expect(beforePublish?.status).toBe("DRAFT");
    expect(beforePublish?.phases).toEqual((published.state as Pipeline).phases);
  });

  it("stays in the audit log as it was stored", async () => {
    const audit = createAuditIndex({ store });
    for (const event of await store.readAll()) audit.add(event);
    const page = await audit.query({ filter: { types: ["PipelineCreated"] } });
    expect(page.edges[0]?.node.data).toEqual(oldPipelineCreated(pipelineId, "p1").data);
    audit.close();
  });

  it("drives a release: the upcast bake time is the one the release waits", async () => {
    const published = await handleCommand(store, pipelineDecider, {
      stream: `pipeline-${pipelineId}`,
      command: { type: "PublishPipeline", data: {}, actor: editor, now: "2025-06-02T00:00:00.000Z" },
      metadata: meta("p1", "2025-06-02T00:00:00.000Z"),
      newId,
      upcasters: UPCASTERS,
    });
    const pipeline = published.state as Pipeline;
    const definitions = project.environments.map((environment) => ({
      environment,
      definition: { enabled: true, value: null, rules: [] },
    }));
    const started = await handleCommand(store, releaseDecider, {
      stream: "release-r1",
      command: {
        type: "StartRelease",
        data: {
          releaseId: "r1",
          featureId: "f1",
          featureKey: "f",
          projectId: "p1",
          pipelineId,
          pipelineVersion: pipeline.version,
          pipelineName: pipeline.name,
          phases: pipeline.phases,
          selfApproval: pipeline.selfApproval,
          environments: project.environments,
          before: definitions.map((d) => ({ ...d, definition: { ...d.definition, enabled: false } })),
          change: definitions,
          trigger: "START",
          reason: null,
        },
        actor: editor,
        now: "2025-06-03T00:00:00.000Z",
      },
      metadata: meta("p1", "2025-06-03T00:00:00.000Z"),
      newId,
      upcasters: UPCASTERS,
    });
    expect(started.events.map((e) => e.type)).toEqual(["ReleaseStarted", "ReleasePhaseWaitStarted"]);
    expect(started.state?.phases[0]?.waitEndsAt).toBe("2025-06-03T00:30:00.000Z");
    const ticked = await handleCommand(store, releaseDecider, {
      stream: "release-r1",
      command: { type: "Tick", data: {}, actor: SYSTEM_ACTOR, now: "2025-06-03T00:30:00.000Z" },
      metadata: meta("p1", "2025-06-03T00:30:00.000Z"),
      newId,
      upcasters: UPCASTERS,
    });
    expect(ticked.events.map((e) => e.type)).toEqual(["ReleasePhaseRolledOut", "ReleaseApprovalRequested"]);
  });
});

describe("an old ReleaseStarted (phases snapshotted in the first shape)", () => {
  it("folds into today's release in the read models and in releaseAsOf", async () => {
    const old = oldPipelineCreated(pipelineId, "p1").data as { phases: unknown[] };
    const definitions = [{ environment: "production", definition: { enabled: true, value: null, rules: [] } }];
    await store.append(
      "release-old",
      [
        {
          id: newId(),
          type: "ReleaseStarted",
          data: {
            releaseId: "old",
            featureId: "f1",
            featureKey: "f",
            projectId: "p1",
            pipelineId,
            pipelineVersion: 2,
            pipelineName: "legacy",
            phases: old.phases,
            environments: ["production"],
            before: definitions,
            change: definitions,
            after: definitions,
            trigger: "START",
            by: "alice",
            reason: null,
            at: "2025-06-03T00:00:00.000Z",
          },
          metadata: { ...oldPipelineCreated(pipelineId, "p1").metadata, occurredAt: "2025-06-03T00:00:00.000Z" },
        },
      ],
      "no_stream",
    );
    const readModels = await foldLog(store);
    const release = readModels.release("old");
    expect(release?.selfApproval).toBe("ALLOWED");
    expect(release?.phaseSpecs.map((p) => p.waitForMs)).toEqual([1_800_000, null]);
    expect(await releaseAsOf(store, "old", { at: "2025-06-04T00:00:00.000Z" })).toEqual(release);
    // The command handler folds it the same way.
    const loaded = await loadStream(store, releaseDecider, "release-old", UPCASTERS);
    expect(loaded.state).toEqual(release);
    // And so does every caller that passes no upcasters (the workflow activities' loadRelease among them).
    expect((await loadStream(store, releaseDecider, "release-old")).state).toEqual(release);
    expect((await loadStream(store, releaseDecider, "release-old", NO_UPCASTERS)).state?.selfApproval).toBeUndefined();
  });
});

describe("the upcasters", () => {
  it("leave data already in today's shape as it is", () => {
    const phase = {
      name: "p",
      waitFor: "PT1H",
      waitForMs: 3_600_000,
      requiresApproval: true,
      approvalsRequired: 2,
      action: "ENABLE" as const,
      targets: [{ environment: "production", segment: "beta" }],
    };
    expect(upcastPhase(phase)).toBe(phase);
    const current = {
      pipelineId: "x",
      projectId: "p",
      name: "n",
      description: "d",
      selfApproval: "FORBIDDEN",
      phases: [phase],
      clonedFrom: "y",
      at: "2026-01-01T00:00:00.000Z",
    };
    expect(upcastPipelineCreated(current)).toEqual(current);
    expect(UPCASTERS.PipelineCreated?.(current, 1)).toEqual(current);
  });
});

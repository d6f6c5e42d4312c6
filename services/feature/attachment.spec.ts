// The rule spanning a feature and its pipeline: never attached to a DELETED pipeline, and a pipeline in
// use is not deleted (PIPELINE_IN_USE) — also when the attach and the delete race (two API processes).
// The interleavings are forced here with an executor that runs the other side at the worst moment.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../core/errors.ts";
import type { Actor } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import { type CommandExecutor, loadStream, storeExecutor } from "../event-store/command-handler.ts";
import { createSqliteEventStore, type SqliteEventStore } from "../event-store/sqlite/sqlite-event-store.ts";
import { type Pipeline, pipelineDecider } from "../pipeline/pipeline.ts";
import type { Project } from "../project/project.ts";
import { type AttachmentContext, attachPipeline, createFeature, detachPipeline } from "./attachment.ts";
import { type CreateFeature, type Feature, featureDecider } from "./feature.ts";

const at = "2026-11-21T10:00:00.000Z";
const alice: Actor = { name: "alice", role: "EDITOR" };
const project: Project = { id: "p1", name: "Shop", environments: ["prod"], segments: [], createdAt: at, version: 1 };
const context: AttachmentContext = {
  actor: alice,
  now: at,
  metadata: { actor: "alice", correlationId: "c1", causationId: null, projectId: "p1" },
};
const meta = { ...context.metadata, occurredAt: at };

let store: SqliteEventStore;
let executor: CommandExecutor;

const pipelineState = async (id: string): Promise<Pipeline> => {
  const { state } = await loadStream(store, pipelineDecider, streams.pipeline(id));
  if (state === null) throw new Error(`no pipeline ${id}`);
  return state;
};
const featureState = async (id = "f1"): Promise<Feature> => {
  const { state } = await loadStream(store, featureDecider, streams.feature(id));
  if (state === null) throw new Error(`no feature ${id}`);
  return state;
};
const runPipeline = (id: string, command: Parameters<typeof pipelineDecider.decide>[0]) =>
  executor.execute(pipelineDecider, streams.pipeline(id), command, meta);
const deletePipeline = (id: string) =>
  runPipeline(id, { type: "DeletePipeline", data: { attachedFeatureIds: [] }, actor: alice, now: at });
const create = (featureId: string, key: string, pipeline: Pipeline | null): CreateFeature => ({
  type: "CreateFeature",
  data: { featureId, project, key, kind: "GATE", pipeline, environments: [] },
  actor: alice,
  now: at,
});

async function publishedPipeline(id: string): Promise<Pipeline> {
  await runPipeline(id, {
    type: "CreatePipeline",
    data: { pipelineId: id, project, name: id, phases: [{ name: "all", targets: [{ environment: "prod" }] }] },
    actor: alice,
    now: at,
  });
  await runPipeline(id, { type: "PublishPipeline", data: {}, actor: alice, now: at });
  return pipelineState(id);
}

beforeEach(async () => {
  store = createSqliteEventStore({ path: ":memory:" });
  executor = storeExecutor(store);
  await publishedPipeline("pl1");
  await publishedPipeline("pl2");
  await createFeature(executor, create("f1", "checkout", null), context);
});
afterEach(async () => {
  await store.close();
});

describe("a feature's pipeline across the two streams", () => {
  it("an attach that loaded the pipeline before a concurrent delete is refused: the feature stays unattached", async () => {
    const loaded = await pipelineState("pl1");
    await deletePipeline("pl1");
    await expect(attachPipeline(executor, await featureState(), loaded, context)).rejects.toMatchObject({
      code: "PIPELINE_NOT_PUBLISHED",
    });
    expect((await featureState()).pipelineId).toBeNull();
  });

  it("a delete between an attach's record and its feature event answers PIPELINE_IN_USE; the attach completes", async () => {
    let deleting: Promise<unknown> | null = null;
    const racing: CommandExecutor = {
      execute: (decider, stream, command, metadata) => {
        if (stream === streams.feature("f1") && deleting === null) {
          deleting = deletePipeline("pl1").catch((error: unknown) => error);
          return deleting.then(() => executor.execute(decider, stream, command, metadata));
        }
        return executor.execute(decider, stream, command, metadata);
      },
    };
    await attachPipeline(racing, await featureState(), await pipelineState("pl1"), context);
    expect(await deleting).toMatchObject({ code: "PIPELINE_IN_USE" });
    expect((await featureState()).pipelineId).toBe("pl1");
    expect((await pipelineState("pl1")).status).toBe("PUBLISHED");
  });

  it("gives the pipeline's record back when the feature's write is refused", async () => {
    const failing: CommandExecutor = {
      execute: (decider, stream, command, metadata) =>
        stream === streams.feature("f1")
          ? Promise.reject(new DomainError("RELEASE_IN_PROGRESS", "a release started meanwhile"))
          : executor.execute(decider, stream, command, metadata),
    };
    await expect(attachPipeline(failing, await featureState(), await pipelineState("pl1"), context)).rejects.toThrow(
      "a release started meanwhile",
    );
    expect((await pipelineState("pl1")).attachedFeatureIds).toEqual([]);
    await deletePipeline("pl1");
    expect((await pipelineState("pl1")).status).toBe("DELETED");
  });

  it("moves the record when the feature is attached elsewhere, and removes it on detach", async () => {
    await attachPipeline(executor, await featureState(), await pipelineState("pl1"), context);
    await expect(deletePipeline("pl1")).rejects.toMatchObject({ code: "PIPELINE_IN_USE" });
    await attachPipeline(executor, await featureState(), await pipelineState("pl2"), context);
    expect((await pipelineState("pl1")).attachedFeatureIds).toEqual([]);
    expect((await pipelineState("pl2")).attachedFeatureIds).toEqual(["f1"]);
    await deletePipeline("pl1");
    await detachPipeline(executor, await featureState(), context);
    expect((await pipelineState("pl2")).attachedFeatureIds).toEqual([]);
    await deletePipeline("pl2");
    expect((await featureState()).pipelineId).toBeNull();
  });

  it("records a feature created with a pipeline; a refused creation (key taken) keeps the existing record", async () => {
    await createFeature(executor, create("f2", "search", await pipelineState("pl1")), context);
    expect((await pipelineState("pl1")).attachedFeatureIds).toEqual(["f2"]);
    await expect(
      createFeature(executor, create("f2", "search", await pipelineState("pl1")), context),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    expect((await pipelineState("pl1")).attachedFeatureIds).toEqual(["f2"]);
  });

  it("many features attached to one pipeline at once all succeed (its stream's CONFLICTs are re-decided)", async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `g${i}`);
    for (const id of ids) await createFeature(executor, create(id, `gate-${id}`, null), context);
    const pipeline = await pipelineState("pl1");
    await Promise.all(ids.map(async (id) => attachPipeline(executor, await featureState(id), pipeline, context)));
    expect([...(await pipelineState("pl1")).attachedFeatureIds].sort()).toEqual([...ids].sort());
  });

  it("refuses a creation with a deleted pipeline without creating the feature", async () => {
    const loaded = await pipelineState("pl1");
    await deletePipeline("pl1");
    await expect(createFeature(executor, create("f3", "late", loaded), context)).rejects.toMatchObject({
      code: "PIPELINE_NOT_PUBLISHED",
    });
    expect((await loadStream(store, featureDecider, streams.feature("f3"))).state).toBeNull();
  });
});

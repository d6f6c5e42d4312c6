// Which pipeline a feature uses spans two streams, and its rule — a feature is never attached to a
// DELETED pipeline; a pipeline in use cannot be deleted (PIPELINE_IN_USE) — has its one home here and in
// the pipeline decider. The pipeline's stream records the attachment first (AttachFeature, refused unless
// PUBLISHED), then the feature's stream stores FeaturePipelineAttached; deletePipeline decides on that
// stream, so a delete and an attach racing from two API processes serialize on its expected revision:
// either the delete sees the attachment (PIPELINE_IN_USE) or the attach sees DELETED. A refused feature
// write gives the pipeline's record back; detaching (or attaching elsewhere) removes it afterwards.
// Decision 0012.

import { DomainError } from "../core/errors.ts";
import type { Actor } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import type { CommandExecutor, CommandMetadata } from "../event-store/command-handler.ts";
import { type Pipeline, pipelineDecider } from "../pipeline/pipeline.ts";
import type { FeatureEvent } from "./events.ts";
import { type CreateFeature, type DeleteFeature, type Feature, type FeatureState, featureDecider } from "./feature.ts";

export interface AttachmentContext {
  actor: Actor;
  now: string;
  metadata: Omit<CommandMetadata, "occurredAt">;
  /** A pipeline's record could not be removed: deleting it answers PIPELINE_IN_USE until it is (safe side). */
  onRecordNotRemoved?: (error: unknown, pipelineId: string) => void;
}

export interface FeatureWrite {
  state: FeatureState;
  events: FeatureEvent[];
  position: string | null;
}

const meta = (context: AttachmentContext): CommandMetadata => ({ ...context.metadata, occurredAt: context.now });

/**
 * Every attach and detach of a pipeline's features writes its stream: many at once (a script attaching
 * fifty features) meet CONFLICT and re-decide, which is cheap and idempotent, so they get more tries.
 */
const RECORD_TRIES = { maxAttempts: 50 };

/** Records the attachment on the pipeline's stream; answers the pipeline after it and whether it appended. */
async function record(
  executor: CommandExecutor,
  pipelineId: string,
  featureId: string,
  context: AttachmentContext,
): Promise<{ pipeline: Pipeline; appended: boolean }> {
  const result = await executor.execute(
    pipelineDecider,
    streams.pipeline(pipelineId),
    { type: "AttachFeature", data: { featureId }, actor: context.actor, now: context.now },
    meta(context),
    RECORD_TRIES,
  );
  if (result.state === null) throw new DomainError("NOT_FOUND", `pipeline ${pipelineId} not found`);
  return { pipeline: result.state, appended: result.events.length > 0 };
}

async function removeRecord(
  executor: CommandExecutor,
  pipelineId: string,
  featureId: string,
  context: AttachmentContext,
): Promise<void> {
  try {
    await executor.execute(
      pipelineDecider,
      streams.pipeline(pipelineId),
      { type: "DetachFeature", data: { featureId }, actor: context.actor, now: context.now },
      meta(context),
      RECORD_TRIES,
    );
  } catch (error) {
    context.onRecordNotRemoved?.(error, pipelineId);
  }
}

/** The feature write, after the pipeline's record; the record given back when the write is refused. */
async function withRecord(
  executor: CommandExecutor,
  pipelineId: string,
  featureId: string,
  context: AttachmentContext,
  write: (pipeline: Pipeline) => Promise<FeatureWrite>,
): Promise<FeatureWrite> {
  const { pipeline, appended } = await record(executor, pipelineId, featureId, context);
  try {
    return await write(pipeline);
  } catch (error) {
    if (appended) await removeRecord(executor, pipelineId, featureId, context);
    throw error;
  }
}

/** Creates the feature; with a pipeline, recorded on the pipeline's stream first. */
export async function createFeature(
  executor: CommandExecutor,
  command: CreateFeature,
  context: AttachmentContext,
): Promise<FeatureWrite> {
  const stream = streams.feature(command.data.featureId);
  const { pipeline } = command.data;
  if (pipeline === null) return executor.execute(featureDecider, stream, command, meta(context));
  // Refusals that need no stream (validation, an unattachable pipeline) before anything is written.
  featureDecider.decide(command, null);
  return withRecord(executor, pipeline.id, command.data.featureId, context, (recorded) =>
    executor.execute(
      featureDecider,
      stream,
      { ...command, data: { ...command.data, pipeline: recorded } },
      meta(context),
    ),
  );
}

/** Attaches `pipeline` (as the caller loaded it) to `feature`; the one it replaces loses its record. */
export async function attachPipeline(
  executor: CommandExecutor,
  feature: Feature,
  pipeline: Pipeline,
  context: AttachmentContext,
): Promise<FeatureWrite> {
  const attach = (current: Pipeline) =>
    ({ type: "AttachPipeline", data: { pipeline: current }, actor: context.actor, now: context.now }) as const;
  featureDecider.decide(attach(pipeline), feature);
  const written = await withRecord(executor, pipeline.id, feature.id, context, (recorded) =>
    executor.execute(featureDecider, streams.feature(feature.id), attach(recorded), meta(context)),
  );
  for (const event of written.events) {
    if (event.type === "FeaturePipelineAttached" && event.data.replaced !== null) {
      await removeRecord(executor, event.data.replaced, feature.id, context);
    }
  }
  return written;
}

/** Detaches the feature's pipeline, then removes the pipeline's record. */
export async function detachPipeline(
  executor: CommandExecutor,
  feature: Feature,
  context: AttachmentContext,
): Promise<FeatureWrite> {
  const written = await executor.execute(
    featureDecider,
    streams.feature(feature.id),
    { type: "DetachPipeline", data: {}, actor: context.actor, now: context.now },
    meta(context),
  );
  for (const event of written.events) {
    if (event.type === "FeaturePipelineDetached") {
      await removeRecord(executor, event.data.pipelineId, feature.id, context);
    }
  }
  return written;
}

/**
 * Deletes an (archived) feature, then removes its pipeline's record: a deleted feature no longer keeps its
 * pipeline from deletion (an archived one does, decision 0025).
 */
export async function deleteFeature(
  executor: CommandExecutor,
  feature: Feature,
  command: DeleteFeature,
  context: AttachmentContext,
): Promise<FeatureWrite> {
  const written = await executor.execute(featureDecider, streams.feature(feature.id), command, meta(context));
  if (written.events.some((event) => event.type === "FeatureDeleted") && feature.pipelineId !== null) {
    await removeRecord(executor, feature.pipelineId, feature.id, context);
  }
  return written;
}

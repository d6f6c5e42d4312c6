import { callerOf, canSeeProject, required, visiblePipeline } from "../access.ts";
import { type PipelineNode, present } from "../as-of.ts";
import { builder } from "../builder.ts";
import { PipelineStatusEnum, SelfApprovalEnum } from "./enums.ts";
import { FeatureRef } from "./Feature.ts";
import { PhaseInput, PhaseRef, phaseViews } from "./Phase.ts";
import { ProjectRef } from "./Project.ts";
import { PromotionWindowInput, PromotionWindowRef } from "./PromotionWindow.ts";

export const PipelineRef = builder.objectRef<PipelineNode>("Pipeline");

PipelineRef.implement({
  description: "An ordered list of phases. DRAFT is editable; PUBLISHED is immutable and attachable.",
  fields: (t) => ({
    id: t.exposeID("id"),
    project: t.field({
      type: ProjectRef,
      resolve: (pipeline, _args, ctx) =>
        required(ctx.readModels.project(pipeline.projectId), "project", pipeline.projectId),
    }),
    name: t.exposeString("name"),
    description: t.exposeString("description", { nullable: true }),
    status: t.field({ type: PipelineStatusEnum, resolve: (pipeline) => pipeline.status }),
    version: t.exposeInt("version", { description: "Increments with each stored change to the pipeline." }),
    selfApproval: t.field({ type: SelfApprovalEnum, resolve: (pipeline) => pipeline.selfApproval }),
    phases: t.field({ type: [PhaseRef], resolve: (pipeline) => phaseViews(pipeline.phases) }),
    windows: t.field({
      type: [PromotionWindowRef],
      description: "When its phases may roll out; none: any time. Each release keeps the windows it started with.",
      resolve: (pipeline) => pipeline.windows ?? [],
    }),
    attachedFeatures: t.field({
      type: [FeatureRef],
      resolve: async (pipeline, _args, ctx) => {
        const point = pipeline.asOf;
        if (point === undefined) return ctx.readModels.featuresWithPipeline(pipeline.id);
        // As of the point: the project's features (features are never deleted, so today's list holds every
        // feature that existed then) whose state then had this pipeline attached, oldest first.
        const then = await Promise.all(
          ctx.readModels.features(pipeline.projectId).map((f) => ctx.asOf.feature(f.id, point)),
        );
        return present(then).filter((feature) => feature.pipelineId === pipeline.id);
      },
    }),
    createdAt: t.field({ type: "DateTime", resolve: (pipeline) => pipeline.createdAt }),
    publishedAt: t.field({ type: "DateTime", nullable: true, resolve: (pipeline) => pipeline.publishedAt }),
  }),
});

export const CreatePipelineInput = builder.inputType("CreatePipelineInput", {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    name: t.string({ required: true }),
    description: t.string(),
    selfApproval: t.field({ type: SelfApprovalEnum, defaultValue: "ALLOWED" }),
    phases: t.field({ type: [PhaseInput], required: true }),
    windows: t.field({ type: [PromotionWindowInput] }),
  }),
});

export const UpdatePipelineInput = builder.inputType("UpdatePipelineInput", {
  fields: (t) => ({
    name: t.string(),
    description: t.string(),
    selfApproval: t.field({ type: SelfApprovalEnum }),
    phases: t.field({ type: [PhaseInput] }),
    windows: t.field({ type: [PromotionWindowInput], description: "Replaces every window ([] removes them)." }),
  }),
});

builder.queryFields((t) => ({
  pipeline: t.field({
    type: PipelineRef,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => visiblePipeline(ctx, args.id),
  }),
  pipelineAsOf: t.field({
    type: PipelineRef,
    nullable: true,
    description:
      "Audit replay: the pipeline as it was after the last event at or before `at` (or `position`). Its attachedFeatures are the features that had it attached then, each as of the same point.",
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }), at: t.arg({ type: "DateTime" }), position: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const pipeline = await ctx.asOf.pipeline(args.id, { at: args.at, position: args.position });
      return pipeline && canSeeProject(ctx.auth, pipeline.projectId) ? pipeline : null;
    },
  }),
}));

builder.mutationFields((t) => ({
  createPipeline: t.field({
    type: PipelineRef,
    description: "Starts as DRAFT.",
    authScopes: { editor: true },
    args: { input: t.arg({ type: CreatePipelineInput, required: true }) },
    resolve: (_root, args, ctx) => ctx.pipeline.createPipeline(callerOf(ctx), args.input),
  }),
  updatePipeline: t.field({
    type: PipelineRef,
    description: "DRAFT only, else IMMUTABLE.",
    authScopes: { editor: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdatePipelineInput, required: true }) },
    resolve: (_root, args, ctx) => ctx.pipeline.updatePipeline(callerOf(ctx), args.id, args.input),
  }),
  publishPipeline: t.field({
    type: PipelineRef,
    description: "DRAFT → PUBLISHED, immutable from then on.",
    authScopes: { editor: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.pipeline.publishPipeline(callerOf(ctx), args.id),
  }),
  clonePipeline: t.field({
    type: PipelineRef,
    description: "A new DRAFT with the same phases.",
    authScopes: { editor: true },
    args: { id: t.arg.id({ required: true }), name: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.pipeline.clonePipeline(callerOf(ctx), args.id, args.name ?? null),
  }),
  deletePipeline: t.field({
    type: PipelineRef,
    description: "PIPELINE_IN_USE while a feature has it attached.",
    authScopes: { editor: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.pipeline.deletePipeline(callerOf(ctx), args.id),
  }),
}));

import { callerOf, canSeeProject, required, visiblePipeline } from "../access.ts";
import { type PipelineNode, present } from "../as-of.ts";
import { builder } from "../builder.ts";
import { PipelineStatusEnum, SelfApprovalEnum } from "./enums.ts";
import { FeatureRef } from "./Feature.ts";
import { PhaseInput, PhaseRef, phaseViews } from "./Phase.ts";
import { ProjectRef } from "./Project.ts";

export const PipelineRef = builder.objectRef<PipelineNode>("Pipeline");

PipelineRef.implement({
  description: "An ordered list of phases. DRAFT is editable; PUBLISHED is immutable and attachable.",
  fields: (t) => ({
    id: t.exposeID("id"),
    project: t.field({
      type: ProjectRef,
      resolve: async (pipeline, _args, ctx) => {
        const then = pipeline.asOf === undefined ? null : await ctx.asOf.project(pipeline.projectId, pipeline.asOf);
        return then ?? required(ctx.readModels.project(pipeline.projectId), "project", pipeline.projectId);
      },
    }),
    name: t.exposeString("name"),
    description: t.exposeString("description", { nullable: true }),
    status: t.field({ type: PipelineStatusEnum, resolve: (pipeline) => pipeline.status }),
    version: t.exposeInt("version", { description: "Increments with each stored change to the pipeline." }),
    selfApproval: t.field({ type: SelfApprovalEnum, resolve: (pipeline) => pipeline.selfApproval }),
    phases: t.field({ type: [PhaseRef], resolve: (pipeline) => phaseViews(pipeline.phases) }),
    attachedFeatures: t.field({
      type: [FeatureRef],
      description:
        "Archived features only with `includeArchived` (or when listed by Project.pipelines(includeArchived: true)).",
      args: { includeArchived: t.arg.boolean() },
      resolve: async (pipeline, args, ctx) => {
        const point = pipeline.asOf;
        const includeArchived = args.includeArchived ?? pipeline.includeArchivedFeatures ?? false;
        if (point === undefined) return ctx.readModels.featuresWithPipeline(pipeline.id, includeArchived);
        // As of the point: the project's features (every one it ever had, deleted ones included) whose
        // state then had this pipeline attached, oldest first.
        const then = await Promise.all(
          ctx.readModels.featureIdsEver(pipeline.projectId).map((id) => ctx.asOf.feature(id, point)),
        );
        return present(then).filter(
          (feature) => feature.pipelineId === pipeline.id && (includeArchived || feature.archivedAt === null),
        );
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
  }),
});

export const UpdatePipelineInput = builder.inputType("UpdatePipelineInput", {
  fields: (t) => ({
    name: t.string(),
    description: t.string(),
    selfApproval: t.field({ type: SelfApprovalEnum }),
    phases: t.field({ type: [PhaseInput] }),
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
  renamePipeline: t.field({
    type: PipelineRef,
    description:
      "Metadata only: a published pipeline's phases stay immutable. An absent description is kept; null clears it.",
    authScopes: { editor: true },
    args: {
      id: t.arg.id({ required: true }),
      name: t.arg.string({ required: true }),
      description: t.arg.string(),
      reason: t.arg.string({ description: "Why: stored in the event beside the actor." }),
    },
    resolve: (_root, args, ctx) =>
      ctx.pipeline.renamePipeline(callerOf(ctx), args.id, args.name, args.description, args.reason ?? null),
  }),
}));

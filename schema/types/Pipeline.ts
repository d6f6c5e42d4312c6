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
    id: t.exposeID("id", { description: "Stable id." }),
    project: t.field({
      type: ProjectRef,
      description: "The project it belongs to (under audit replay: as it was then).",
      resolve: async (pipeline, _args, ctx) => {
        const then = pipeline.asOf === undefined ? null : await ctx.asOf.project(pipeline.projectId, pipeline.asOf);
        return then ?? required(ctx.readModels.project(pipeline.projectId), "project", pipeline.projectId);
      },
    }),
    name: t.exposeString("name", { description: "Shown to people; need not be unique." }),
    description: t.exposeString("description", { nullable: true, description: "Free text for people." }),
    status: t.field({
      type: PipelineStatusEnum,
      description: "DRAFT, PUBLISHED or DELETED.",
      resolve: (pipeline) => pipeline.status,
    }),
    version: t.exposeInt("version", { description: "Increments with each stored change to the pipeline." }),
    selfApproval: t.field({
      type: SelfApprovalEnum,
      description: "Whether a release's starter may approve its phases.",
      resolve: (pipeline) => pipeline.selfApproval,
    }),
    phases: t.field({
      type: [PhaseRef],
      description: "The phases, in the order they run.",
      resolve: (pipeline) => phaseViews(pipeline.phases),
    }),
    windows: t.field({
      type: [PromotionWindowRef],
      description: "When its phases may roll out; none: any time. Each release keeps the windows it started with.",
      resolve: (pipeline) => pipeline.windows ?? [],
    }),
    attachedFeatures: t.field({
      type: [FeatureRef],
      description:
        "The features that have it attached (their changes run through it). Archived ones only with `includeArchived` (or when listed by Project.pipelines(includeArchived: true)).",
      args: { includeArchived: t.arg.boolean({ description: "Also list archived features." }) },
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
    createdAt: t.field({
      type: "DateTime",
      description: "When it was created.",
      resolve: (pipeline) => pipeline.createdAt,
    }),
    publishedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was published; null while DRAFT.",
      resolve: (pipeline) => pipeline.publishedAt,
    }),
  }),
});

export const CreatePipelineInput = builder.inputType("CreatePipelineInput", {
  description: "A new pipeline (a DRAFT until published).",
  fields: (t) => ({
    projectId: t.id({ required: true, description: "The project it belongs to." }),
    name: t.string({ required: true, description: "Shown to people." }),
    description: t.string({ description: "Free text for people." }),
    selfApproval: t.field({
      type: SelfApprovalEnum,
      defaultValue: "ALLOWED",
      description: "Whether a release's starter may approve its phases.",
    }),
    phases: t.field({
      type: [PhaseInput],
      required: true,
      description: "The phases, in the order they run (at least one).",
    }),
    windows: t.field({
      type: [PromotionWindowInput],
      description: "Promotion windows: when its phases may roll out (none: any time).",
    }),
  }),
});

export const UpdatePipelineInput = builder.inputType("UpdatePipelineInput", {
  description: "Changes to a DRAFT pipeline; fields left out keep their value.",
  fields: (t) => ({
    name: t.string({ description: "A new name." }),
    description: t.string({ description: "A new description." }),
    selfApproval: t.field({ type: SelfApprovalEnum, description: "A new self-approval rule." }),
    phases: t.field({ type: [PhaseInput], description: "The new phases, replacing all of them." }),
    windows: t.field({ type: [PromotionWindowInput], description: "Replaces every window ([] removes them)." }),
  }),
});

builder.queryFields((t) => ({
  pipeline: t.field({
    type: PipelineRef,
    nullable: true,
    description: "A pipeline by id; null if there is none the token may see.",
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true, description: "The pipeline's id." }) },
    resolve: (_root, args, ctx) => visiblePipeline(ctx, args.id),
  }),
  pipelineAsOf: t.field({
    type: PipelineRef,
    nullable: true,
    description:
      "Audit replay: the pipeline as it was after the last event at or before `at` (or `position`). Its attachedFeatures are the features that had it attached then, each as of the same point.",
    authScopes: { viewer: true },
    args: {
      id: t.arg.id({ required: true, description: "The pipeline's id." }),
      at: t.arg({
        type: "DateTime",
        description: "The point in time: the state after the last event at or before it.",
      }),
      position: t.arg.string({ description: "Or a global event position (AuditEvent.position) instead of `at`." }),
    },
    resolve: async (_root, args, ctx) => {
      const pipeline = await ctx.asOf.pipeline(args.id, { at: args.at, position: args.position });
      return pipeline && canSeeProject(ctx.auth, pipeline.projectId) ? pipeline : null;
    },
  }),
}));

builder.mutationFields((t) => ({
  createPipeline: t.field({
    type: PipelineRef,
    description: "EDITOR: a new pipeline. Starts as DRAFT (editable); publish it to attach it to features.",
    authScopes: { editor: true },
    args: { input: t.arg({ type: CreatePipelineInput, required: true, description: "The new pipeline." }) },
    resolve: (_root, args, ctx) => ctx.pipeline.createPipeline(callerOf(ctx), args.input),
  }),
  updatePipeline: t.field({
    type: PipelineRef,
    description: "EDITOR: change a pipeline. DRAFT only, else IMMUTABLE (clone a published one instead).",
    authScopes: { editor: true },
    args: {
      id: t.arg.id({ required: true, description: "A DRAFT pipeline." }),
      input: t.arg({ type: UpdatePipelineInput, required: true, description: "The changes." }),
    },
    resolve: (_root, args, ctx) => ctx.pipeline.updatePipeline(callerOf(ctx), args.id, args.input),
  }),
  publishPipeline: t.field({
    type: PipelineRef,
    description: "EDITOR: DRAFT → PUBLISHED, immutable from then on and attachable to features.",
    authScopes: { editor: true },
    args: { id: t.arg.id({ required: true, description: "A DRAFT pipeline." }) },
    resolve: (_root, args, ctx) => ctx.pipeline.publishPipeline(callerOf(ctx), args.id),
  }),
  clonePipeline: t.field({
    type: PipelineRef,
    description: "EDITOR: a new DRAFT with the same phases, to evolve a published pipeline.",
    authScopes: { editor: true },
    args: {
      id: t.arg.id({ required: true, description: "The pipeline to copy." }),
      name: t.arg.string({ description: "The copy's name (default: the original's name followed by \" (copy)\")." }),
    },
    resolve: (_root, args, ctx) => ctx.pipeline.clonePipeline(callerOf(ctx), args.id, args.name ?? null),
  }),
  deletePipeline: t.field({
    type: PipelineRef,
    description: "EDITOR: mark it DELETED. PIPELINE_IN_USE while a feature has it attached.",
    authScopes: { editor: true },
    args: { id: t.arg.id({ required: true, description: "The pipeline." }) },
    resolve: (_root, args, ctx) => ctx.pipeline.deletePipeline(callerOf(ctx), args.id),
  }),
  renamePipeline: t.field({
    type: PipelineRef,
    description:
      "Metadata only: a published pipeline's phases stay immutable. An absent description is kept; null clears it.",
    authScopes: { editor: true },
    args: {
      id: t.arg.id({ required: true, description: "The pipeline's id." }),
      name: t.arg.string({ required: true, description: "The new name (trimmed, 1 to 200 characters)." }),
      description: t.arg.string({ description: "The new description; absent: kept; null or blank: cleared." }),
      reason: t.arg.string({ description: "Why: stored in the event beside the actor." }),
    },
    resolve: (_root, args, ctx) =>
      ctx.pipeline.renamePipeline(callerOf(ctx), args.id, args.name, args.description, args.reason ?? null),
  }),
}));

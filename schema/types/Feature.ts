import { definitionsIn } from "../../services/feature/definition.ts";
import type { Project } from "../../services/project/project.ts";
import { callerOf, canSeeProject, required, visibleFeature, visibleProject } from "../access.ts";
import { type FeatureNode, present, type ReleaseNode } from "../as-of.ts";
import { builder } from "../builder.ts";
import type { ApiContext } from "../context.ts";
import { AuditEventConnectionRef } from "./AuditEvent.ts";
import { EnvironmentDefinitionInput } from "./Definition.ts";
import { EnvironmentStateRef, environmentStates } from "./EnvironmentState.ts";
import { FeatureKindEnum } from "./enums.ts";
import { PipelineRef } from "./Pipeline.ts";
import { ProjectRef } from "./Project.ts";
import { ReleaseRef } from "./Release.ts";

export const FeatureRef = builder.objectRef<FeatureNode>("Feature");

/** The feature's active release: live, or as of the feature's point (null while its stream had no event yet). */
async function activeReleaseOf(feature: FeatureNode, ctx: ApiContext): Promise<ReleaseNode | null> {
  const id = feature.activeReleaseId;
  if (id === null) return null;
  return feature.asOf === undefined ? ctx.readModels.release(id) : ctx.asOf.release(id, feature.asOf);
}

/** The feature's project: live, or as of the feature's point (renamed, environments and segments as then). */
async function projectOf(feature: FeatureNode, ctx: ApiContext): Promise<Project> {
  const then = feature.asOf === undefined ? null : await ctx.asOf.project(feature.projectId, feature.asOf);
  return then ?? required(ctx.readModels.project(feature.projectId), "project", feature.projectId);
}

FeatureRef.implement({
  description: "A gate (on/off) or a dynamic config (a JSON value), with one definition per environment.",
  fields: (t) => ({
    id: t.exposeID("id"),
    project: t.field({ type: ProjectRef, resolve: (feature, _args, ctx) => projectOf(feature, ctx) }),
    key: t.exposeString("key"),
    kind: t.field({ type: FeatureKindEnum, resolve: (feature) => feature.kind }),
    description: t.exposeString("description", { nullable: true }),
    pipeline: t.field({
      type: PipelineRef,
      nullable: true,
      resolve: (feature, _args, ctx) => {
        if (feature.pipelineId === null) return null;
        return feature.asOf === undefined
          ? ctx.readModels.pipeline(feature.pipelineId)
          : ctx.asOf.pipeline(feature.pipelineId, feature.asOf);
      },
    }),
    environments: t.field({
      type: [EnvironmentStateRef],
      description:
        "Per environment: its definition now. A phase that rolls out a whole environment replaces it with the release's new definition; abort puts back the pre-release one.",
      resolve: async (feature, _args, ctx) => {
        // In the project's environments and order (one it gained since: disabled with no value).
        const environments = definitionsIn((await projectOf(feature, ctx)).environments, feature.environments);
        return environmentStates({ environments }, await activeReleaseOf(feature, ctx));
      },
    }),
    archivedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "Set while archived: read-only, NOT_FOUND when evaluated, left out of lists unless asked for.",
      resolve: (feature) => feature.archivedAt,
    }),
    archivedBy: t.exposeString("archivedBy", { nullable: true }),
    activeRelease: t.field({
      type: ReleaseRef,
      nullable: true,
      resolve: (feature, _args, ctx) => activeReleaseOf(feature, ctx),
    }),
    releases: t.field({
      type: [ReleaseRef],
      description: "Every release of the feature, oldest first.",
      resolve: async (feature, _args, ctx) => {
        const point = feature.asOf;
        if (point === undefined) return ctx.readModels.releasesOfFeature(feature.id);
        // The releases started by then, each as it was then.
        return present(await Promise.all(feature.releaseIds.map((id) => ctx.asOf.release(id, point))));
      },
    }),
    history: t.field({
      type: AuditEventConnectionRef,
      description: "The feature's events and its releases' events, newest first.",
      args: { first: t.arg.int({ defaultValue: 50 }), after: t.arg.string() },
      resolve: (feature, args, ctx) => ctx.audit.historyOf(feature.id, { first: args.first, after: args.after }),
    }),
    version: t.exposeInt("version"),
  }),
});

export const CreateFeatureInput = builder.inputType("CreateFeatureInput", {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    key: t.string({ required: true }),
    kind: t.field({ type: FeatureKindEnum, required: true }),
    description: t.string(),
    pipelineId: t.id(),
    environments: t.field({
      type: [EnvironmentDefinitionInput],
      description: "One entry per project environment; missing environments start disabled with no value.",
    }),
  }),
});

export const UpdateFeatureInput = builder.inputType("UpdateFeatureInput", {
  fields: (t) => ({
    description: t.string(),
    environments: t.field({ type: [EnvironmentDefinitionInput], required: true }),
  }),
});

builder.queryFields((t) => ({
  feature: t.field({
    type: FeatureRef,
    nullable: true,
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => visibleFeature(ctx, args.id),
  }),
  featureByKey: t.field({
    type: FeatureRef,
    nullable: true,
    authScopes: { viewer: true },
    args: { projectId: t.arg.id({ required: true }), key: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) =>
      visibleProject(ctx, args.projectId) === null ? null : ctx.readModels.featureByKey(args.projectId, args.key),
  }),
  featureAsOf: t.field({
    type: FeatureRef,
    nullable: true,
    description:
      "Audit replay: the feature as it was after the last event at or before `at` (or `position`). Its pipeline, activeRelease, releases and environments' rolledOutTargets are served as of the same point; `history` is the whole trail.",
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }), at: t.arg({ type: "DateTime" }), position: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const feature = await ctx.asOf.feature(args.id, { at: args.at, position: args.position });
      return feature && canSeeProject(ctx.auth, feature.projectId) ? feature : null;
    },
  }),
}));

export const FeatureUpdateResultRef = builder.unionType("FeatureUpdateResult", {
  types: [FeatureRef, ReleaseRef],
  resolveType: (value) => ("phaseSpecs" in value ? ReleaseRef : FeatureRef),
});

builder.mutationFields((t) => ({
  createFeature: t.field({
    type: FeatureRef,
    description: "`pipelineId` attaches a published pipeline at creation.",
    authScopes: { editor: true },
    args: { input: t.arg({ type: CreateFeatureInput, required: true }) },
    resolve: (_root, args, ctx) => ctx.feature.createFeature(callerOf(ctx), args.input),
  }),
  attachPipeline: t.field({
    type: FeatureRef,
    description: "Replaces any attached pipeline; not during a release.",
    authScopes: { editor: true },
    args: { featureId: t.arg.id({ required: true }), pipelineId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.feature.attachPipeline(callerOf(ctx), args.featureId, args.pipelineId),
  }),
  detachPipeline: t.field({
    type: FeatureRef,
    description: "Flagsmith's 'remove from release pipeline'; not during a release.",
    authScopes: { editor: true },
    args: { featureId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.feature.detachPipeline(callerOf(ctx), args.featureId),
  }),
  archiveFeature: t.field({
    type: FeatureRef,
    description: "Read-only from then on, evaluates as NOT_FOUND, leaves SDK configurations; not during a release.",
    authScopes: { editor: true },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.feature.archiveFeature(callerOf(ctx), args.id, args.reason ?? null),
  }),
  unarchiveFeature: t.field({
    type: FeatureRef,
    authScopes: { editor: true },
    args: {
      id: t.arg.id({ required: true }),
      reason: t.arg.string({ description: "Why: stored in the event beside the actor." }),
    },
    resolve: (_root, args, ctx) => ctx.feature.unarchiveFeature(callerOf(ctx), args.id, args.reason ?? null),
  }),
  deleteFeature: t.field({
    type: FeatureRef,
    description:
      "Archived features only; the events stay in the log and audit replay still shows it. Answers the feature as deleted.",
    authScopes: { admin: true },
    args: {
      id: t.arg.id({ required: true }),
      reason: t.arg.string({ description: "Why: stored in the event beside the actor." }),
    },
    resolve: (_root, args, ctx) => ctx.feature.deleteFeature(callerOf(ctx), args.id, args.reason ?? null),
  }),
  updateFeature: t.field({
    type: FeatureUpdateResultRef,
    description: "Without a pipeline the change applies at once to every environment; with one it starts a Release.",
    authScopes: { editor: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateFeatureInput, required: true }) },
    resolve: (_root, args, ctx) => ctx.feature.updateFeature(callerOf(ctx), args.id, args.input),
  }),
}));

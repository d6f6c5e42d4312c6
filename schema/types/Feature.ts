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

FeatureRef.implement({
  description: "A gate (on/off) or a dynamic config (a JSON value), with one definition per environment.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable id, derived from the project and the key." }),
    project: t.field({
      type: ProjectRef,
      description: "The project it belongs to.",
      resolve: (feature, _args, ctx) =>
        required(ctx.readModels.project(feature.projectId), "project", feature.projectId),
    }),
    key: t.exposeString("key", { description: "The name applications evaluate it by; unique in the project." }),
    kind: t.field({
      type: FeatureKindEnum,
      description: "Gate or dynamic config.",
      resolve: (feature) => feature.kind,
    }),
    description: t.exposeString("description", { nullable: true, description: "Free text for people." }),
    pipeline: t.field({
      type: PipelineRef,
      nullable: true,
      description: "The attached release pipeline; null when changes apply at once.",
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
      resolve: async (feature, _args, ctx) => environmentStates(feature, await activeReleaseOf(feature, ctx)),
    }),
    activeRelease: t.field({
      type: ReleaseRef,
      nullable: true,
      description: "The release in progress, if any (at most one per feature).",
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
      args: {
        first: t.arg.int({ defaultValue: 50, description: "Page size." }),
        after: t.arg.string({ description: "A cursor from a previous page's `pageInfo.endCursor`." }),
      },
      resolve: (feature, args, ctx) => ctx.audit.historyOf(feature.id, { first: args.first, after: args.after }),
    }),
    version: t.exposeInt("version", { description: "Increments with each stored change to the feature." }),
  }),
});

export const CreateFeatureInput = builder.inputType("CreateFeatureInput", {
  description: "A new gate or dynamic config.",
  fields: (t) => ({
    projectId: t.id({ required: true, description: "The project it belongs to." }),
    key: t.string({ required: true, description: "The name applications evaluate it by; unique in the project." }),
    kind: t.field({ type: FeatureKindEnum, required: true, description: "GATE or DYNAMIC_CONFIG." }),
    description: t.string({ description: "Free text for people." }),
    pipelineId: t.id({ description: "A published pipeline to attach: its later changes then run as releases." }),
    environments: t.field({
      type: [EnvironmentDefinitionInput],
      description: "One entry per project environment; missing environments start disabled with no value.",
    }),
  }),
});

export const UpdateFeatureInput = builder.inputType("UpdateFeatureInput", {
  description: "A change of a feature's definitions.",
  fields: (t) => ({
    description: t.string({ description: "A new description, if given." }),
    environments: t.field({
      type: [EnvironmentDefinitionInput],
      required: true,
      description: "The new definition of each environment listed; environments not listed keep theirs.",
    }),
  }),
});

builder.queryFields((t) => ({
  feature: t.field({
    type: FeatureRef,
    nullable: true,
    description: "A feature by id; null if there is none the token may see.",
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true, description: "The feature's id." }) },
    resolve: (_root, args, ctx) => visibleFeature(ctx, args.id),
  }),
  featureByKey: t.field({
    type: FeatureRef,
    nullable: true,
    description: "A feature by its key in a project; null if there is none the token may see.",
    authScopes: { viewer: true },
    args: {
      projectId: t.arg.id({ required: true, description: "The project." }),
      key: t.arg.string({ required: true, description: "The feature's key." }),
    },
    resolve: (_root, args, ctx) =>
      visibleProject(ctx, args.projectId) === null ? null : ctx.readModels.featureByKey(args.projectId, args.key),
  }),
  featureAsOf: t.field({
    type: FeatureRef,
    nullable: true,
    description:
      "Audit replay: the feature as it was after the last event at or before `at` (or `position`). Its pipeline, activeRelease, releases and environments' rolledOutTargets are served as of the same point; `history` is the whole trail.",
    authScopes: { viewer: true },
    args: {
      id: t.arg.id({ required: true, description: "The feature's id." }),
      at: t.arg({
        type: "DateTime",
        description: "The point in time: the state after the last event at or before it.",
      }),
      position: t.arg.string({ description: "Or a global event position (AuditEvent.position) instead of `at`." }),
    },
    resolve: async (_root, args, ctx) => {
      const feature = await ctx.asOf.feature(args.id, { at: args.at, position: args.position });
      return feature && canSeeProject(ctx.auth, feature.projectId) ? feature : null;
    },
  }),
}));

export const FeatureUpdateResultRef = builder.unionType("FeatureUpdateResult", {
  description: "What updateFeature did: the Feature, changed at once (no pipeline), or the Release it started.",
  types: [FeatureRef, ReleaseRef],
  resolveType: (value) => ("phaseSpecs" in value ? ReleaseRef : FeatureRef),
});

builder.mutationFields((t) => ({
  createFeature: t.field({
    type: FeatureRef,
    description: "EDITOR: a new gate or dynamic config. `pipelineId` attaches a published pipeline at creation.",
    authScopes: { editor: true },
    args: { input: t.arg({ type: CreateFeatureInput, required: true, description: "The new feature." }) },
    resolve: (_root, args, ctx) => ctx.feature.createFeature(callerOf(ctx), args.input),
  }),
  attachPipeline: t.field({
    type: FeatureRef,
    description:
      "EDITOR: attach a published pipeline; replaces any attached one; not during a release (RELEASE_IN_PROGRESS).",
    authScopes: { editor: true },
    args: {
      featureId: t.arg.id({ required: true, description: "The feature." }),
      pipelineId: t.arg.id({ required: true, description: "A published pipeline of the same project." }),
    },
    resolve: (_root, args, ctx) => ctx.feature.attachPipeline(callerOf(ctx), args.featureId, args.pipelineId),
  }),
  detachPipeline: t.field({
    type: FeatureRef,
    description: "EDITOR: detach the pipeline (Flagsmith's 'remove from release pipeline'); not during a release.",
    authScopes: { editor: true },
    args: { featureId: t.arg.id({ required: true, description: "The feature." }) },
    resolve: (_root, args, ctx) => ctx.feature.detachPipeline(callerOf(ctx), args.featureId),
  }),
  updateFeature: t.field({
    type: FeatureUpdateResultRef,
    description:
      "EDITOR: change the feature's definitions. Without a pipeline the change applies at once to every environment (answers the Feature); with one it starts a Release (answers it).",
    authScopes: { editor: true },
    args: {
      id: t.arg.id({ required: true, description: "The feature." }),
      input: t.arg({ type: UpdateFeatureInput, required: true, description: "The change." }),
    },
    resolve: (_root, args, ctx) => ctx.feature.updateFeature(callerOf(ctx), args.id, args.input),
  }),
}));

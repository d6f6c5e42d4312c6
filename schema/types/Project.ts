import { activeFreeze, type Freeze } from "../../services/project/project.ts";
import { callerOf, canSeeProject, visibleProject } from "../access.ts";
import { type PipelineNode, type ProjectNode, present } from "../as-of.ts";
import { builder } from "../builder.ts";
import { ReleaseStatusEnum } from "./enums.ts";
import { FeatureRef } from "./Feature.ts";
import { PipelineRef } from "./Pipeline.ts";
import { ReleaseRef } from "./Release.ts";
import { SegmentInput, SegmentRef } from "./Segment.ts";

export const ProjectRef = builder.objectRef<ProjectNode>("Project");

ProjectRef.implement({
  description: "The tenancy boundary: ordered environments and named segments.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "Stable id." }),
    name: t.exposeString("name", { description: "Shown to people." }),
    environments: t.exposeStringList("environments", {
      description: "Ordered, e.g. development, staging, production.",
    }),
    segments: t.field({
      type: [SegmentRef],
      description: "Named conditions on units' attributes that phases can target.",
      resolve: (project) => project.segments,
    }),
    pipelines: t.field({
      type: [PipelineRef],
      description: "Its pipelines, oldest first.",
      args: {
        includeDeleted: t.arg.boolean({ defaultValue: false, description: "Also list DELETED pipelines." }),
        includeArchived: t.arg.boolean({
          defaultValue: false,
          description: "Whether each pipeline's attachedFeatures lists archived features too.",
        }),
      },
      resolve: async (project, args, ctx) => {
        const live = ctx.readModels.pipelines(project.id, true);
        const point = project.asOf;
        // As of the project's point: each pipeline as it was then (the ones created by then).
        const all =
          point === undefined ? live : present(await Promise.all(live.map((p) => ctx.asOf.pipeline(p.id, point))));
        const pipelines = args.includeDeleted ? all : all.filter((pipeline) => pipeline.status !== "DELETED");
        return args.includeArchived
          ? pipelines.map((pipeline): PipelineNode => ({ ...pipeline, includeArchivedFeatures: true }))
          : pipelines;
      },
    }),
    features: t.field({
      type: [FeatureRef],
      description:
        "Its gates and dynamic configs, oldest first. Archived ones only with `includeArchived`; deleted ones never.",
      args: { includeArchived: t.arg.boolean({ defaultValue: false, description: "Also list archived features." }) },
      resolve: async (project, args, ctx) => {
        const point = project.asOf;
        if (point === undefined) return ctx.readModels.features(project.id, args.includeArchived ?? false);
        // As of the project's point: every feature it ever had, as it was then (null: not yet or deleted).
        const then = present(
          await Promise.all(ctx.readModels.featureIdsEver(project.id).map((id) => ctx.asOf.feature(id, point))),
        );
        return args.includeArchived ? then : then.filter((feature) => feature.archivedAt === null);
      },
    }),
    releases: t.field({
      type: [ReleaseRef],
      description: "Its features' releases (in flight and past).",
      args: { status: t.arg({ type: ReleaseStatusEnum, description: "Only releases in this status." }) },
      resolve: async (project, args, ctx) => {
        const point = project.asOf;
        if (point === undefined) return ctx.readModels.releases(project.id, args.status ?? undefined);
        const then = present(
          await Promise.all(ctx.readModels.releases(project.id).map((r) => ctx.asOf.release(r.id, point))),
        );
        return args.status ? then.filter((release) => release.status === args.status) : then;
      },
    }),
  }),
});

export const CreateProjectInput = builder.inputType("CreateProjectInput", {
  description: "A new project.",
  fields: (t) => ({
    name: t.string({ required: true, description: "Shown to people." }),
    environments: t.stringList({
      required: true,
      description: "Its environments in order, e.g. [development, staging, production].",
    }),
    segments: t.field({
      type: [SegmentInput],
      description: "Named conditions on units' attributes that phases can target.",
    }),
  }),
});

builder.queryFields((t) => ({
  projects: t.field({
    type: [ProjectRef],
    description: "Every project the token sees (a project-bound token: only its own).",
    authScopes: { viewer: true },
    resolve: (_root, _args, ctx) => {
      const scope = ctx.auth?.projectId ?? null;
      return ctx.readModels.projects().filter((project) => scope === null || project.id === scope);
    },
  }),
  project: t.field({
    type: ProjectRef,
    nullable: true,
    description: "A project by id; null if there is none the token may see.",
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true, description: "The project's id." }) },
    resolve: (_root, args, ctx) => visibleProject(ctx, args.id),
  }),
  projectAsOf: t.field({
    type: ProjectRef,
    nullable: true,
    description:
      "Audit replay: the project as it was after the last event at or before `at` (or `position`): its name, environments and segments then, and its pipelines, features and releases each as of the same point.",
    authScopes: { viewer: true },
    args: {
      id: t.arg.id({ required: true, description: "The project's id." }),
      at: t.arg({ type: "DateTime", description: "An instant (give this or `position`)." }),
      position: t.arg.string({ description: "A global position, e.g. an audit event's (give this or `at`)." }),
    },
    resolve: async (_root, args, ctx) => {
      const project = await ctx.asOf.project(args.id, { at: args.at, position: args.position });
      return project && canSeeProject(ctx.auth, project.id) ? project : null;
    },
  }),
}));

builder.mutationField("createProject", (t) =>
  t.field({
    type: ProjectRef,
    description: "ADMIN: a new project with its environments and segments.",
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateProjectInput, required: true, description: "The new project." }) },
    resolve: (_root, args, ctx) => ctx.project.createProject(callerOf(ctx), args.input),
  }),
);

// ---- Edit and retire ----------------------------------------------------------------------------

export const UpdateProjectInput = builder.inputType("UpdateProjectInput", {
  description: "What updateProject changes; an absent or null field stays as it is.",
  fields: (t) => ({ name: t.string({ description: "The new name (trimmed, 1 to 200 characters)." }) }),
});

builder.mutationFields((t) => ({
  updateProject: t.field({
    type: ProjectRef,
    description: "Renames the project (an absent or null name changes nothing).",
    authScopes: { admin: true },
    args: {
      id: t.arg.id({ required: true, description: "The project's id." }),
      input: t.arg({ type: UpdateProjectInput, required: true, description: "What changes." }),
      reason: t.arg.string({ description: "Why: stored in the event beside the actor." }),
    },
    resolve: (_root, args, ctx) =>
      ctx.project.updateProject(callerOf(ctx), args.id, { name: args.input.name }, args.reason ?? null),
  }),
  addEnvironment: t.field({
    type: ProjectRef,
    description: "Existing features get the environment disabled with no value. `position` defaults to the end.",
    authScopes: { admin: true },
    args: {
      projectId: t.arg.id({ required: true, description: "The project's id." }),
      name: t.arg.string({
        required: true,
        description: "The new environment's name (slug-like, unique ignoring case).",
      }),
      position: t.arg.int({ description: "Its index in the project's order (0 = first); absent: at the end." }),
      reason: t.arg.string({ description: "Why: stored in the event beside the actor." }),
    },
    resolve: (_root, args, ctx) =>
      ctx.project.addEnvironment(callerOf(ctx), args.projectId, args.name, args.position ?? null, args.reason ?? null),
  }),
  removeEnvironment: t.field({
    type: ProjectRef,
    description: "Only when no feature has a non-default definition there and no pipeline targets it.",
    authScopes: { admin: true },
    args: {
      projectId: t.arg.id({ required: true, description: "The project's id." }),
      name: t.arg.string({ required: true, description: "The environment to remove." }),
      reason: t.arg.string({ description: "Why: stored in the event beside the actor." }),
    },
    resolve: (_root, args, ctx) =>
      ctx.project.removeEnvironment(callerOf(ctx), args.projectId, args.name, args.reason ?? null),
  }),
  upsertSegment: t.field({
    type: ProjectRef,
    description: "Create or replace a segment (by key); applies to serving at once; audited with before and after.",
    authScopes: { editor: true },
    args: {
      projectId: t.arg.id({ required: true, description: "The project's id." }),
      input: t.arg({ type: SegmentInput, required: true, description: "The segment, identified by its key." }),
      reason: t.arg.string({ description: "Why: stored in the event beside the actor." }),
    },
    resolve: (_root, args, ctx) =>
      ctx.project.upsertSegment(callerOf(ctx), args.projectId, args.input, args.reason ?? null),
  }),
  deleteSegment: t.field({
    type: ProjectRef,
    description: "Only when no rule and no pipeline target uses it.",
    authScopes: { editor: true },
    args: {
      projectId: t.arg.id({ required: true, description: "The project's id." }),
      key: t.arg.string({ required: true, description: "The segment's key." }),
      reason: t.arg.string({ description: "Why: stored in the event beside the actor." }),
    },
    resolve: (_root, args, ctx) =>
      ctx.project.deleteSegment(callerOf(ctx), args.projectId, args.key, args.reason ?? null),
  }),
}));

export const FreezeRef = builder.objectRef<Freeze>("Freeze");

FreezeRef.implement({
  description: "Stop the line: while it lasts no phase of the project's releases rolls out (they show FROZEN).",
  fields: (t) => ({
    reason: t.exposeString("reason", { description: "Why the line is stopped." }),
    by: t.exposeString("by", { description: "The token name that froze the project." }),
    since: t.field({ type: "DateTime", description: "When the freeze began.", resolve: (freeze) => freeze.since }),
    until: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it ends by itself; null: until unfrozen.",
      resolve: (freeze) => freeze.until,
    }),
  }),
});

builder.objectField(ProjectRef, "freeze", (t) =>
  t.field({
    type: FreezeRef,
    nullable: true,
    description: "The freeze in force now, if any (one past its `until` has ended).",
    resolve: (project, _args, ctx) => activeFreeze(project, ctx.now().toISOString()),
  }),
);

builder.mutationFields((t) => ({
  freezeProject: t.field({
    type: ProjectRef,
    description:
      "APPROVER. Stop the line: no phase of any release in the project rolls out until unfrozen (or `until`). Timers still run out and approvals are still recorded; releases can still start.",
    authScopes: { approver: true },
    args: {
      projectId: t.arg.id({ required: true, description: "The project to freeze." }),
      reason: t.arg.string({ required: true, description: "Why (required, at most 2,000 characters)." }),
      until: t.arg({
        type: "DateTime",
        description: "When the freeze ends by itself (in the future); unset: until unfrozen.",
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.project.freezeProject(callerOf(ctx), { projectId: args.projectId, reason: args.reason, until: args.until }),
  }),
  unfreezeProject: t.field({
    type: ProjectRef,
    description:
      "APPROVER. Lift the freeze: the phases it held roll out. A project that is not frozen answers unchanged.",
    authScopes: { approver: true },
    args: {
      projectId: t.arg.id({ required: true, description: "The project to unfreeze." }),
      reason: t.arg.string({ description: "Why (optional), recorded with the event." }),
    },
    resolve: (_root, args, ctx) =>
      ctx.project.unfreezeProject(callerOf(ctx), { projectId: args.projectId, reason: args.reason }),
  }),
}));

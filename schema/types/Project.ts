import { activeFreeze, type Freeze, type Project } from "../../services/project/project.ts";
import { callerOf, visibleProject } from "../access.ts";
import { builder } from "../builder.ts";
import { ReleaseStatusEnum } from "./enums.ts";
import { FeatureRef } from "./Feature.ts";
import { PipelineRef } from "./Pipeline.ts";
import { ReleaseRef } from "./Release.ts";
import { SegmentInput, SegmentRef } from "./Segment.ts";

export const ProjectRef = builder.objectRef<Project>("Project");

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
      args: { includeDeleted: t.arg.boolean({ defaultValue: false, description: "Also list DELETED pipelines." }) },
      resolve: (project, args, ctx) => ctx.readModels.pipelines(project.id, args.includeDeleted ?? false),
    }),
    features: t.field({
      type: [FeatureRef],
      description: "Its gates and dynamic configs, oldest first.",
      resolve: (project, _args, ctx) => ctx.readModels.features(project.id),
    }),
    releases: t.field({
      type: [ReleaseRef],
      description: "Its features' releases (in flight and past).",
      args: { status: t.arg({ type: ReleaseStatusEnum, description: "Only releases in this status." }) },
      resolve: (project, args, ctx) => ctx.readModels.releases(project.id, args.status ?? undefined),
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

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
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    environments: t.exposeStringList("environments", {
      description: "Ordered, e.g. development, staging, production.",
    }),
    segments: t.field({ type: [SegmentRef], resolve: (project) => project.segments }),
    pipelines: t.field({
      type: [PipelineRef],
      args: { includeDeleted: t.arg.boolean({ defaultValue: false }) },
      resolve: (project, args, ctx) => ctx.readModels.pipelines(project.id, args.includeDeleted ?? false),
    }),
    features: t.field({ type: [FeatureRef], resolve: (project, _args, ctx) => ctx.readModels.features(project.id) }),
    releases: t.field({
      type: [ReleaseRef],
      args: { status: t.arg({ type: ReleaseStatusEnum }) },
      resolve: (project, args, ctx) => ctx.readModels.releases(project.id, args.status ?? undefined),
    }),
  }),
});

export const CreateProjectInput = builder.inputType("CreateProjectInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    environments: t.stringList({ required: true }),
    segments: t.field({ type: [SegmentInput] }),
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
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => visibleProject(ctx, args.id),
  }),
}));

builder.mutationField("createProject", (t) =>
  t.field({
    type: ProjectRef,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateProjectInput, required: true }) },
    resolve: (_root, args, ctx) => ctx.project.createProject(callerOf(ctx), args.input),
  }),
);

export const FreezeRef = builder.objectRef<Freeze>("Freeze");

FreezeRef.implement({
  description: "Stop the line: while it lasts no phase of the project's releases rolls out (they show FROZEN).",
  fields: (t) => ({
    reason: t.exposeString("reason"),
    by: t.exposeString("by"),
    since: t.field({ type: "DateTime", resolve: (freeze) => freeze.since }),
    until: t.field({ type: "DateTime", nullable: true, resolve: (freeze) => freeze.until }),
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
      projectId: t.arg.id({ required: true }),
      reason: t.arg.string({ required: true }),
      until: t.arg({ type: "DateTime" }),
    },
    resolve: (_root, args, ctx) =>
      ctx.project.freezeProject(callerOf(ctx), { projectId: args.projectId, reason: args.reason, until: args.until }),
  }),
  unfreezeProject: t.field({
    type: ProjectRef,
    description:
      "APPROVER. Lift the freeze: the phases it held roll out. A project that is not frozen answers unchanged.",
    authScopes: { approver: true },
    args: { projectId: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: (_root, args, ctx) =>
      ctx.project.unfreezeProject(callerOf(ctx), { projectId: args.projectId, reason: args.reason }),
  }),
}));

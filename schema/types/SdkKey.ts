import type { SdkKey } from "../../services/sdk-key/sdk-key.ts";
import { callerOf, required } from "../access.ts";
import { builder } from "../builder.ts";
import { ProjectRef } from "./Project.ts";

export const SdkKeyRef = builder.objectRef<SdkKey>("SdkKey");

SdkKeyRef.implement({
  description: "A server-side SDK key: reads the flag configuration of one environment of one project, nothing else.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    project: t.field({
      type: ProjectRef,
      resolve: (key, _args, ctx) => required(ctx.readModels.project(key.projectId), "project", key.projectId),
    }),
    environment: t.exposeString("environment"),
    createdAt: t.field({ type: "DateTime", resolve: (key) => key.createdAt }),
    createdBy: t.exposeString("createdBy"),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (key) => key.revokedAt }),
  }),
});

export interface CreatedSdkKeyView {
  key: SdkKey;
  secret: string;
}

export const CreatedSdkKeyRef = builder.objectRef<CreatedSdkKeyView>("CreatedSdkKey");

CreatedSdkKeyRef.implement({
  description: "A new SDK key. The secret is shown once: only its SHA-256 hash is stored.",
  fields: (t) => ({
    key: t.field({ type: SdkKeyRef, resolve: (created) => created.key }),
    secret: t.exposeString("secret"),
  }),
});

builder.objectField(ProjectRef, "sdkKeys", (t) =>
  t.field({
    type: [SdkKeyRef],
    description: "ADMIN. The project's SDK keys, oldest first; revoked ones only with includeRevoked.",
    authScopes: { admin: true },
    args: { includeRevoked: t.arg.boolean({ defaultValue: false }) },
    resolve: (project, args, ctx) => ctx.readModels.sdkKeys(project.id, args.includeRevoked ?? false),
  }),
);

builder.mutationFields((t) => ({
  createSdkKey: t.field({
    type: CreatedSdkKeyRef,
    description: "ADMIN; the secret is shown once.",
    authScopes: { admin: true },
    args: {
      projectId: t.arg.id({ required: true }),
      environment: t.arg.string({ required: true }),
      name: t.arg.string({ required: true }),
    },
    resolve: (_root, args, ctx) => ctx.sdkKey.createSdkKey(callerOf(ctx), args),
  }),
  revokeSdkKey: t.field({
    type: SdkKeyRef,
    description: "ADMIN; the key is refused at once and its open streams close.",
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.sdkKey.revokeSdkKey(callerOf(ctx), args.id),
  }),
}));

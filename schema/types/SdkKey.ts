import type { SdkKey } from "../../services/sdk-key/sdk-key.ts";
import { callerOf, required } from "../access.ts";
import { builder } from "../builder.ts";
import { ProjectRef } from "./Project.ts";

export const SdkKeyRef = builder.objectRef<SdkKey>("SdkKey");

SdkKeyRef.implement({
  description: "A server-side SDK key: reads the flag configuration of one environment of one project, nothing else.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The key's id (not its secret): what revokeSdkKey takes." }),
    name: t.exposeString("name", { description: "A label for people, e.g. the service that uses the key." }),
    project: t.field({
      type: ProjectRef,
      description: "The project whose flags the key reads.",
      resolve: (key, _args, ctx) => required(ctx.readModels.project(key.projectId), "project", key.projectId),
    }),
    environment: t.exposeString("environment", {
      description: "The one environment whose configuration the key reads.",
    }),
    createdAt: t.field({ type: "DateTime", description: "When it was created.", resolve: (key) => key.createdAt }),
    createdBy: t.exposeString("createdBy", { description: "The API token that created it." }),
    revokedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was revoked (it answers 401 from then on); null while it works.",
      resolve: (key) => key.revokedAt,
    }),
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
    key: t.field({ type: SdkKeyRef, description: "The new key.", resolve: (created) => created.key }),
    secret: t.exposeString("secret", {
      description: "The secret an SDK sends as `Authorization: Bearer <secret>`; shown this once only.",
    }),
  }),
});

builder.objectField(ProjectRef, "sdkKeys", (t) =>
  t.field({
    type: [SdkKeyRef],
    description: "ADMIN. The project's SDK keys, oldest first; revoked ones only with includeRevoked.",
    authScopes: { admin: true },
    args: {
      includeRevoked: t.arg.boolean({ defaultValue: false, description: "Also list revoked keys." }),
    },
    resolve: (project, args, ctx) => ctx.readModels.sdkKeys(project.id, args.includeRevoked ?? false),
  }),
);

builder.mutationFields((t) => ({
  createSdkKey: t.field({
    type: CreatedSdkKeyRef,
    description: "ADMIN; the secret is shown once.",
    authScopes: { admin: true },
    args: {
      projectId: t.arg.id({ required: true, description: "The project whose flags the key reads." }),
      environment: t.arg.string({ required: true, description: "One of the project's environments." }),
      name: t.arg.string({ required: true, description: "A label for people, e.g. the service that uses it." }),
    },
    resolve: (_root, args, ctx) => ctx.sdkKey.createSdkKey(callerOf(ctx), args),
  }),
  revokeSdkKey: t.field({
    type: SdkKeyRef,
    description: "ADMIN; the key is refused at once and its open streams close.",
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true, description: "The SDK key's id." }) },
    resolve: (_root, args, ctx) => ctx.sdkKey.revokeSdkKey(callerOf(ctx), args.id),
  }),
}));

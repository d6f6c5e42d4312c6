import type { ApiToken } from "../../services/token/token.ts";
import { callerOf } from "../access.ts";
import { builder } from "../builder.ts";
import { RoleEnum } from "./enums.ts";

export interface CreatedApiTokenView {
  name: string;
  role: "VIEWER" | "EDITOR" | "APPROVER" | "ADMIN";
  projectId: string | null;
  secret: string;
}

export const CreatedApiTokenRef = builder.objectRef<CreatedApiTokenView>("CreatedApiToken");

CreatedApiTokenRef.implement({
  description: "A new token. The secret is shown once: only its SHA-256 hash is stored.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "Its name: who acts when it is used." }),
    role: t.field({ type: RoleEnum, description: "What it may do.", resolve: (token) => token.role }),
    projectId: t.exposeID("projectId", {
      nullable: true,
      description: "The project it is bound to; null for all projects.",
    }),
    secret: t.exposeString("secret", {
      description: "Send it as `Authorization: Bearer <secret>`. Shown only in this answer: store it now.",
    }),
  }),
});

export const ApiTokenRef = builder.objectRef<ApiToken>("ApiToken");

ApiTokenRef.implement({
  description: "An API token (never its secret). Revoked or expired tokens answer UNAUTHENTICATED everywhere.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The token's id (not its secret): what revokeApiToken takes." }),
    name: t.exposeString("name", { description: "Unique; the name its actions and approvals are recorded under." }),
    role: t.field({ type: RoleEnum, description: "What it may do.", resolve: (token) => token.role }),
    projectId: t.exposeID("projectId", {
      nullable: true,
      description: "The one project it is bound to; null for every project.",
    }),
    createdAt: t.field({ type: "DateTime", description: "When it was created.", resolve: (token) => token.createdAt }),
    createdBy: t.exposeString("createdBy", { description: "The token that created it (`unknown` for old tokens)." }),
    expiresAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it stops working by itself; null for never.",
      resolve: (token) => token.expiresAt,
    }),
    revokedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was revoked (UNAUTHENTICATED from then on); null while it works.",
      resolve: (token) => token.revokedAt,
    }),
  }),
});

export const CreateApiTokenInput = builder.inputType("CreateApiTokenInput", {
  description: "A new API token.",
  fields: (t) => ({
    name: t.string({
      required: true,
      description: "Unique; the name actions and approvals are recorded under (e.g. a person, or ci-deploy).",
    }),
    projectId: t.id({ description: "Bind it to this project (it sees nothing else); omit for every project." }),
    role: t.field({ type: RoleEnum, required: true, description: "What it may do." }),
    expiresAt: t.field({ type: "DateTime", description: "When it stops working by itself; omit for never." }),
  }),
});

builder.queryField("apiTokens", (t) =>
  t.field({
    type: [ApiTokenRef],
    description:
      "ADMIN; oldest first. A project-bound ADMIN sees its project's tokens. Revoked tokens only with includeRevoked.",
    authScopes: { admin: true },
    args: {
      projectId: t.arg.id({ description: "Only the tokens bound to this project." }),
      includeRevoked: t.arg.boolean({ defaultValue: false, description: "Also list revoked tokens." }),
    },
    resolve: (_root, args, ctx) => {
      const scope = ctx.auth?.projectId ?? null;
      return ctx.readModels
        .tokens()
        .filter(
          (token) =>
            (scope === null || token.projectId === scope) &&
            (args.projectId === null || args.projectId === undefined || token.projectId === args.projectId) &&
            (args.includeRevoked === true || token.revokedAt === null),
        );
    },
  }),
);

builder.mutationField("createApiToken", (t) =>
  t.field({
    type: CreatedApiTokenRef,
    description: "ADMIN: a new API token; its secret is shown once, in this answer.",
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiTokenInput, required: true, description: "The new token." }) },
    resolve: (_root, args, ctx) => ctx.token.createApiToken(callerOf(ctx), args.input),
  }),
);

builder.mutationField("revokeApiToken", (t) =>
  t.field({
    type: ApiTokenRef,
    description: "ADMIN; the token stops working at once, its open subscriptions end.",
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true, description: "The API token's id." }) },
    resolve: (_root, args, ctx) => ctx.token.revokeApiToken(callerOf(ctx), args.id),
  }),
);

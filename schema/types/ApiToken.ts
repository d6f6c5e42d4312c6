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
    name: t.exposeString("name"),
    role: t.field({ type: RoleEnum, resolve: (token) => token.role }),
    projectId: t.exposeID("projectId", { nullable: true }),
    secret: t.exposeString("secret"),
  }),
});

export const ApiTokenRef = builder.objectRef<ApiToken>("ApiToken");

ApiTokenRef.implement({
  description: "An API token (never its secret). Revoked or expired tokens answer UNAUTHENTICATED everywhere.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    role: t.field({ type: RoleEnum, resolve: (token) => token.role }),
    projectId: t.exposeID("projectId", { nullable: true }),
    createdAt: t.field({ type: "DateTime", resolve: (token) => token.createdAt }),
    createdBy: t.exposeString("createdBy"),
    expiresAt: t.field({ type: "DateTime", nullable: true, resolve: (token) => token.expiresAt }),
    revokedAt: t.field({ type: "DateTime", nullable: true, resolve: (token) => token.revokedAt }),
  }),
});

export const CreateApiTokenInput = builder.inputType("CreateApiTokenInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    projectId: t.id(),
    role: t.field({ type: RoleEnum, required: true }),
    expiresAt: t.field({ type: "DateTime" }),
  }),
});

builder.queryField("apiTokens", (t) =>
  t.field({
    type: [ApiTokenRef],
    description:
      "ADMIN; oldest first. A project-bound ADMIN sees its project's tokens. Revoked tokens only with includeRevoked.",
    authScopes: { admin: true },
    args: { projectId: t.arg.id(), includeRevoked: t.arg.boolean({ defaultValue: false }) },
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
    description: "ADMIN; the secret is shown once.",
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiTokenInput, required: true }) },
    resolve: (_root, args, ctx) => ctx.token.createApiToken(callerOf(ctx), args.input),
  }),
);

builder.mutationField("revokeApiToken", (t) =>
  t.field({
    type: ApiTokenRef,
    description: "ADMIN; the token stops working at once, its open subscriptions end.",
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.token.revokeApiToken(callerOf(ctx), args.id),
  }),
);

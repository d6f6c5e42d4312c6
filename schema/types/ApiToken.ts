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

export const CreateApiTokenInput = builder.inputType("CreateApiTokenInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    projectId: t.id(),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});

builder.mutationField("createApiToken", (t) =>
  t.field({
    type: CreatedApiTokenRef,
    description: "ADMIN; the secret is shown once.",
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiTokenInput, required: true }) },
    resolve: (_root, args, ctx) => ctx.token.createApiToken(callerOf(ctx), args.input),
  }),
);

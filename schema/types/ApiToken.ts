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

export const CreateApiTokenInput = builder.inputType("CreateApiTokenInput", {
  description: "A new API token.",
  fields: (t) => ({
    name: t.string({
      required: true,
      description: "Unique; the name actions and approvals are recorded under (e.g. a person, or ci-deploy).",
    }),
    projectId: t.id({ description: "Bind it to this project (it sees nothing else); omit for every project." }),
    role: t.field({ type: RoleEnum, required: true, description: "What it may do." }),
  }),
});

builder.mutationField("createApiToken", (t) =>
  t.field({
    type: CreatedApiTokenRef,
    description: "ADMIN: a new API token; its secret is shown once, in this answer.",
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiTokenInput, required: true, description: "The new token." }) },
    resolve: (_root, args, ctx) => ctx.token.createApiToken(callerOf(ctx), args.input),
  }),
);

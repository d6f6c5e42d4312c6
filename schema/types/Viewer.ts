import { builder } from "../builder.ts";
import type { AuthInfo } from "../context.ts";
import { RoleEnum } from "./enums.ts";

export const ViewerRef = builder.objectRef<AuthInfo>("Viewer");

ViewerRef.implement({
  description: "The caller's API token.",
  fields: (t) => ({
    tokenName: t.exposeString("name", {
      description: "The token's name: who you act as (actions and approvals are recorded under it).",
    }),
    projectId: t.exposeID("projectId", {
      nullable: true,
      description: "The project the token is bound to; null for a token that sees every project.",
    }),
    role: t.field({ type: RoleEnum, description: "What the token may do.", resolve: (auth) => auth.role }),
  }),
});

builder.queryField("viewer", (t) =>
  t.field({
    type: ViewerRef,
    description: "The token this request is made with: a quick way to check a token works.",
    authScopes: { viewer: true },
    resolve: (_root, _args, ctx) => {
      // authScopes guarantees a token; the check keeps the type honest.
      if (ctx.auth === null) throw new Error("viewer resolved without a token");
      return ctx.auth;
    },
  }),
);

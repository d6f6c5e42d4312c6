import { builder } from "../builder.ts";
import type { AuthInfo } from "../context.ts";
import { RoleEnum } from "./enums.ts";

export const ViewerRef = builder.objectRef<AuthInfo>("Viewer");

ViewerRef.implement({
  description: "The caller's API token.",
  fields: (t) => ({
    tokenName: t.exposeString("name"),
    projectId: t.exposeID("projectId", { nullable: true }),
    role: t.field({ type: RoleEnum, resolve: (auth) => auth.role }),
  }),
});

builder.queryField("viewer", (t) =>
  t.field({
    type: ViewerRef,
    authScopes: { viewer: true },
    resolve: (_root, _args, ctx) => {
      // authScopes guarantees a token; the check keeps the type honest.
      if (ctx.auth === null) throw new Error("viewer resolved without a token");
      return ctx.auth;
    },
  }),
);

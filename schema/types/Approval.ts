import type { Approval } from "../../services/release/release.ts";
import { builder } from "../builder.ts";

export const ApprovalRef = builder.objectRef<Approval>("Approval");

ApprovalRef.implement({
  fields: (t) => ({
    by: t.exposeString("by"),
    at: t.field({ type: "DateTime", resolve: (approval) => approval.at }),
    comment: t.exposeString("comment", { nullable: true }),
  }),
});

import type { Approval } from "../../services/release/release.ts";
import { builder } from "../builder.ts";

export const ApprovalRef = builder.objectRef<Approval>("Approval");

ApprovalRef.implement({
  description: "One person's approval of a phase.",
  fields: (t) => ({
    by: t.exposeString("by", { description: "The approving token's name." }),
    at: t.field({ type: "DateTime", description: "When it was recorded.", resolve: (approval) => approval.at }),
    comment: t.exposeString("comment", { nullable: true, description: "The comment given with it, if any." }),
  }),
});

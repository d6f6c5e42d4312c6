import type { Target } from "../../services/core/model.ts";
import { builder } from "../builder.ts";

export const TargetRef = builder.objectRef<Target>("Target");

TargetRef.implement({
  description: "An environment, optionally narrowed to a segment (e.g. production / region IN [us-west]).",
  fields: (t) => ({
    environment: t.exposeString("environment"),
    segment: t.exposeString("segment", { nullable: true }),
  }),
});

export const TargetInput = builder.inputType("TargetInput", {
  fields: (t) => ({
    environment: t.string({ required: true }),
    segment: t.string(),
  }),
});

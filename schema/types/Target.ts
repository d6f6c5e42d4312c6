import type { Target } from "../../services/core/model.ts";
import { builder } from "../builder.ts";

export const TargetRef = builder.objectRef<Target>("Target");

TargetRef.implement({
  description: "An environment, optionally narrowed to a segment (e.g. production / region IN [us-west]).",
  fields: (t) => ({
    environment: t.exposeString("environment", { description: "An environment of the project, e.g. production." }),
    segment: t.exposeString("segment", {
      nullable: true,
      description:
        "A segment key of the project (e.g. us-west) narrowing the environment to matching units; null = the whole environment.",
    }),
  }),
});

export const TargetInput = builder.inputType("TargetInput", {
  description: "Where a phase rolls out: an environment, optionally narrowed to one of the project's segments.",
  fields: (t) => ({
    environment: t.string({ required: true, description: "An environment of the project." }),
    segment: t.string({ description: "A segment key of the project; omit for the whole environment." }),
  }),
});

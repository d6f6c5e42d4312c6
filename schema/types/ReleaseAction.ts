import type { ReleaseAction } from "../../services/release/release.ts";
import { builder } from "../builder.ts";
import { ReleaseActionKindEnum } from "./enums.ts";

export const ReleaseActionRef = builder.objectRef<ReleaseAction>("ReleaseAction");

ReleaseActionRef.implement({
  description: "An action taken on a release (who, when, why).",
  fields: (t) => ({
    kind: t.field({ type: ReleaseActionKindEnum, resolve: (action) => action.kind }),
    by: t.exposeString("by"),
    at: t.field({ type: "DateTime", resolve: (action) => action.at }),
    reason: t.exposeString("reason", { nullable: true }),
    phaseIndex: t.exposeInt("phaseIndex", { nullable: true }),
  }),
});

import type { ReleaseAction } from "../../services/release/release.ts";
import { builder } from "../builder.ts";
import { ReleaseActionKindEnum } from "./enums.ts";

export const ReleaseActionRef = builder.objectRef<ReleaseAction>("ReleaseAction");

ReleaseActionRef.implement({
  description: "An action taken on a release (who, when, why).",
  fields: (t) => ({
    kind: t.field({ type: ReleaseActionKindEnum, description: "Which action.", resolve: (action) => action.kind }),
    by: t.exposeString("by", { description: 'The token name that took it ("system" for automatic ones).' }),
    at: t.field({ type: "DateTime", description: "When it was recorded.", resolve: (action) => action.at }),
    reason: t.exposeString("reason", {
      nullable: true,
      description: "The reason (or approval comment) given, if any.",
    }),
    phaseIndex: t.exposeInt("phaseIndex", {
      nullable: true,
      description: "The phase it applied to; null for release-wide actions (abort, full rollout).",
    }),
  }),
});

import { type ReleasePhaseState, remainingWaitMs } from "../../services/release/release.ts";
import { builder } from "../builder.ts";
import { ApprovalRef } from "./Approval.ts";
import { PhaseStatusEnum } from "./enums.ts";

export const ReleasePhaseRef = builder.objectRef<ReleasePhaseState>("ReleasePhase");

ReleasePhaseRef.implement({
  fields: (t) => ({
    index: t.exposeInt("index"),
    name: t.exposeString("name"),
    status: t.field({ type: PhaseStatusEnum, resolve: (phase) => phase.status }),
    waitStartedAt: t.field({ type: "DateTime", nullable: true, resolve: (phase) => phase.waitStartedAt }),
    waitEndsAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "null while PAUSED.",
      resolve: (phase) => phase.waitEndsAt,
    }),
    remainingWait: t.field({
      type: "Duration",
      nullable: true,
      description: "Set while WAITING or PAUSED; computed when read.",
      resolve: (phase, _args, ctx) => remainingWaitMs(phase, ctx.now().toISOString()),
    }),
    approvals: t.field({ type: [ApprovalRef], resolve: (phase) => phase.approvals }),
    rolledOutAt: t.field({ type: "DateTime", nullable: true, resolve: (phase) => phase.rolledOutAt }),
    heldUntil: t.field({
      type: "DateTime",
      nullable: true,
      description:
        "FROZEN: when the project's freeze ends by itself (null: until unfrozen); AWAITING_WINDOW: when the next promotion window opens.",
      resolve: (phase) => (phase.status === "FROZEN" || phase.status === "AWAITING_WINDOW" ? (phase.heldUntil ?? null) : null),
    }),
  }),
});

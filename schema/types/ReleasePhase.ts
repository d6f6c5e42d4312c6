import { type ReleasePhaseState, remainingWaitMs } from "../../services/release/release.ts";
import { builder } from "../builder.ts";
import { ApprovalRef } from "./Approval.ts";
import { PhaseStatusEnum } from "./enums.ts";

export const ReleasePhaseRef = builder.objectRef<ReleasePhaseState>("ReleasePhase");

ReleasePhaseRef.implement({
  description:
    "A phase of a running (or ended) release: its live state. The plan (targets, wait, approvals) is the pipeline's phase of the same index.",
  fields: (t) => ({
    index: t.exposeInt("index", { description: "Position in the pipeline, from 0." }),
    name: t.exposeString("name", { description: "The pipeline phase's name." }),
    status: t.field({
      type: PhaseStatusEnum,
      description: "Where the phase is now.",
      resolve: (phase) => phase.status,
    }),
    waitStartedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When its bake timer started; null if it has no wait or was not reached.",
      resolve: (phase) => phase.waitStartedAt,
    }),
    waitEndsAt: t.field({
      type: "DateTime",
      nullable: true,
      description:
        "When its bake timer ends (the countdown to show); null while PAUSED and when there is no running timer.",
      resolve: (phase) => phase.waitEndsAt,
    }),
    remainingWait: t.field({
      type: "Duration",
      nullable: true,
      description: "Bake time left; set while WAITING or PAUSED, computed when read.",
      resolve: (phase, _args, ctx) => remainingWaitMs(phase, ctx.now().toISOString()),
    }),
    approvals: t.field({
      type: [ApprovalRef],
      description: "Approvals recorded so far, oldest first (distinct approvers).",
      resolve: (phase) => phase.approvals,
    }),
    rolledOutAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When its targets started serving the change; null until then.",
      resolve: (phase) => phase.rolledOutAt,
    }),
    heldUntil: t.field({
      type: "DateTime",
      nullable: true,
      description:
        "FROZEN: when the project's freeze ends by itself (null: until unfrozen); AWAITING_WINDOW: when the next promotion window opens.",
      resolve: (phase) =>
        phase.status === "FROZEN" || phase.status === "AWAITING_WINDOW" ? (phase.heldUntil ?? null) : null,
    }),
  }),
});

import {
  type GuardrailState,
  type ReleasePhaseState,
  remainingWaitMs,
  rolloutPercentageOf,
} from "../../services/release/release.ts";
import { builder } from "../builder.ts";
import { ApprovalRef } from "./Approval.ts";
import { PhaseStatusEnum } from "./enums.ts";

export const ReleasePhaseRef = builder.objectRef<ReleasePhaseState>("ReleasePhase");

const GuardrailStateRef = builder.objectRef<GuardrailState>("GuardrailState");
GuardrailStateRef.implement({
  description:
    "A guardrail of the phase as its checks left it. Stored on state changes only (the first check, each failure, the pass after failures), so lastCheckedAt is the last change, not the last passing check.",
  fields: (t) => ({
    name: t.exposeString("name"),
    consecutiveFailures: t.exposeInt("consecutiveFailures"),
    lastCheckedAt: t.field({ type: "DateTime", nullable: true, resolve: (g) => g.lastCheckedAt }),
    lastResult: t.exposeString("lastResult", { nullable: true }),
  }),
});

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
    rolloutPercentage: t.float({
      description: "The share of units served the new definition while the phase ramps (100 once rolled out).",
      resolve: (phase) => rolloutPercentageOf(phase),
    }),
    guardrails: t.field({ type: [GuardrailStateRef], resolve: (phase) => phase.guardrails ?? [] }),
  }),
});

import type { Phase } from "../../services/core/model.ts";
import { builder } from "../builder.ts";
import { PhaseActionEnum } from "./enums.ts";
import { TargetInput, TargetRef } from "./Target.ts";

/** A pipeline's phase with its position. */
export interface PhaseView extends Phase {
  index: number;
}

export const phaseViews = (phases: readonly Phase[]): PhaseView[] =>
  phases.map((phase, index) => ({ ...phase, index }));

export const PhaseRef = builder.objectRef<PhaseView>("Phase");

PhaseRef.implement({
  description:
    "A pipeline phase: first its own wait (bake), then its approval if required, then it rolls the change out to its targets. The next phase starts after this one rolled out.",
  fields: (t) => ({
    index: t.exposeInt("index", { description: "Position in the pipeline, from 0." }),
    name: t.exposeString("name", { description: "Shown in timelines and the audit log." }),
    waitFor: t.field({
      type: "Duration",
      nullable: true,
      description: "Bake time before this phase rolls out (after the previous one did); null = no wait.",
      resolve: (phase) => phase.waitFor,
    }),
    requiresApproval: t.exposeBoolean("requiresApproval", {
      description: "Whether the phase waits for approvals (after its wait) before rolling out.",
    }),
    approvalsRequired: t.exposeInt("approvalsRequired", {
      description: "How many distinct approvers are needed when `requiresApproval`.",
    }),
    action: t.field({
      type: PhaseActionEnum,
      description: "What rolling out does to the targets.",
      resolve: (phase) => phase.action,
    }),
    targets: t.field({ type: [TargetRef], description: "Where it rolls out.", resolve: (phase) => phase.targets }),
  }),
});

export const PhaseInput = builder.inputType("PhaseInput", {
  description:
    "One phase of a pipeline: its wait, then its approval, then its rollout to `targets` (in that order, for this phase).",
  fields: (t) => ({
    name: t.string({ required: true, description: "e.g. Staging, Production us-west." }),
    waitFor: t.field({
      type: "Duration",
      description:
        "Bake time before this phase rolls out, counted from when the previous phase rolled out; omit for none.",
    }),
    requiresApproval: t.boolean({
      defaultValue: false,
      description: "Wait (after `waitFor`) for approvals before rolling out.",
    }),
    approvalsRequired: t.int({
      defaultValue: 1,
      description: "Distinct approvers needed when `requiresApproval` (1 or more).",
    }),
    action: t.field({
      type: PhaseActionEnum,
      defaultValue: "APPLY_CHANGE",
      description: "What rolling out does to the targets.",
    }),
    targets: t.field({ type: [TargetInput], required: true, description: "Where the phase rolls out (at least one)." }),
  }),
});

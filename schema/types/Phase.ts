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
  description: "A phase: wait (bake), then approval if required, then roll the change out to its targets.",
  fields: (t) => ({
    index: t.exposeInt("index"),
    name: t.exposeString("name"),
    waitFor: t.field({
      type: "Duration",
      nullable: true,
      description: "Bake time before this phase rolls out; null = on enter.",
      resolve: (phase) => phase.waitFor,
    }),
    requiresApproval: t.exposeBoolean("requiresApproval"),
    approvalsRequired: t.exposeInt("approvalsRequired"),
    action: t.field({ type: PhaseActionEnum, resolve: (phase) => phase.action }),
    targets: t.field({ type: [TargetRef], resolve: (phase) => phase.targets }),
  }),
});

export const PhaseInput = builder.inputType("PhaseInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    waitFor: t.field({ type: "Duration" }),
    requiresApproval: t.boolean({ defaultValue: false }),
    approvalsRequired: t.int({ defaultValue: 1 }),
    action: t.field({ type: PhaseActionEnum, defaultValue: "APPLY_CHANGE" }),
    targets: t.field({ type: [TargetInput], required: true }),
  }),
});

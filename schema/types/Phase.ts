import type { Phase, Ramp } from "../../services/core/model.ts";
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

const RampRef = builder.objectRef<Ramp>("Ramp");
RampRef.implement({
  description:
    "Within a phase, roll out to a growing share of units: initialPercentage, then + increaseBy every `every`.",
  fields: (t) => ({
    initialPercentage: t.exposeFloat("initialPercentage"),
    increaseBy: t.exposeFloat("increaseBy"),
    every: t.field({ type: "Duration", resolve: (ramp) => ramp.every }),
  }),
});

const RampInput = builder.inputType("RampInput", {
  description:
    "Within a phase, roll out to a growing share of units: initialPercentage, then + increaseBy every `every`.",
  fields: (t) => ({
    initialPercentage: t.float({ required: true }),
    increaseBy: t.float({ required: true }),
    every: t.field({ type: "Duration", required: true }),
  }),
});

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
    ramp: t.field({
      type: RampRef,
      nullable: true,
      description: "A gradual rollout once the phase's wait and approvals are done; null = all at once.",
      resolve: (phase) => phase.ramp ?? null,
    }),
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
    ramp: t.field({ type: RampInput }),
  }),
});

import type { Guardrail, Phase, Ramp } from "../../services/core/model.ts";
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

const GuardrailKindEnum = builder.enumType("GuardrailKind", { values: ["HTTP_PROBE", "PROMETHEUS_QUERY"] as const });
const GuardrailOutcomeEnum = builder.enumType("GuardrailOutcome", { values: ["PAUSE", "ABORT"] as const });
const ComparatorEnum = builder.enumType("Comparator", { values: ["LT", "LTE", "GT", "GTE"] as const });

const GUARDRAIL_DESCRIPTION =
  "A health check run while a phase bakes or ramps, every `interval`. HTTP_PROBE fails on a non-2xx answer or a timeout; PROMETHEUS_QUERY fails when the query's value compared with `threshold` by `comparator` is false. `failuresToTrip` consecutive failures trip it; a check that cannot run (error, no data) counts as a failure but only ever pauses.";

const GuardrailRef = builder.objectRef<Guardrail>("Guardrail");
GuardrailRef.implement({
  description: GUARDRAIL_DESCRIPTION,
  fields: (t) => ({
    name: t.exposeString("name"),
    kind: t.field({ type: GuardrailKindEnum, resolve: (g) => g.kind }),
    url: t.exposeString("url"),
    query: t.exposeString("query", { nullable: true }),
    comparator: t.field({ type: ComparatorEnum, nullable: true, resolve: (g) => g.comparator }),
    threshold: t.exposeFloat("threshold", { nullable: true }),
    interval: t.field({ type: "Duration", resolve: (g) => g.interval }),
    failuresToTrip: t.exposeInt("failuresToTrip"),
    onFailure: t.field({ type: GuardrailOutcomeEnum, resolve: (g) => g.onFailure }),
  }),
});

const GuardrailInput = builder.inputType("GuardrailInput", {
  description: GUARDRAIL_DESCRIPTION,
  fields: (t) => ({
    name: t.string({ required: true }),
    kind: t.field({ type: GuardrailKindEnum, required: true }),
    url: t.string({ required: true }),
    query: t.string(),
    comparator: t.field({ type: ComparatorEnum }),
    threshold: t.float(),
    interval: t.field({ type: "Duration", required: true }),
    failuresToTrip: t.int({ defaultValue: 3 }),
    onFailure: t.field({ type: GuardrailOutcomeEnum, defaultValue: "PAUSE" }),
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
    guardrails: t.field({ type: [GuardrailRef], resolve: (phase) => phase.guardrails ?? [] }),
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
    guardrails: t.field({ type: [GuardrailInput] }),
  }),
});

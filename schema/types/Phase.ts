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
    initialPercentage: t.exposeFloat("initialPercentage", { description: "The share of units the ramp starts at." }),
    increaseBy: t.exposeFloat("increaseBy", { description: "Added at each step, up to 100." }),
    every: t.field({ type: "Duration", description: "Time between steps.", resolve: (ramp) => ramp.every }),
  }),
});

const GuardrailKindEnum = builder.enumType("GuardrailKind", {
  description:
    "HTTP_PROBE: GET `url`; a 2xx answer passes. PROMETHEUS_QUERY: an instant query (`query`) on the Prometheus HTTP API at `url`, compared with `threshold`.",
  values: ["HTTP_PROBE", "PROMETHEUS_QUERY"] as const,
});
const GuardrailOutcomeEnum = builder.enumType("GuardrailOutcome", {
  description:
    "What a tripped guardrail does, as actor `system`: PAUSE the release, or ABORT it (a check that could not run only ever pauses).",
  values: ["PAUSE", "ABORT"] as const,
});
const ComparatorEnum = builder.enumType("Comparator", {
  description:
    "How a query's value is compared with the threshold for the check to pass: LT (<), LTE (<=), GT (>), GTE (>=).",
  values: ["LT", "LTE", "GT", "GTE"] as const,
});

const GUARDRAIL_DESCRIPTION =
  "A health check run while a phase bakes or ramps, every `interval`. HTTP_PROBE fails on a non-2xx answer or a timeout; PROMETHEUS_QUERY fails when the query's value compared with `threshold` by `comparator` is false. `failuresToTrip` consecutive failures trip it; a check that cannot run (error, no data) counts as a failure but only ever pauses.";

const GuardrailRef = builder.objectRef<Guardrail>("Guardrail");
GuardrailRef.implement({
  description: GUARDRAIL_DESCRIPTION,
  fields: (t) => ({
    name: t.exposeString("name", { description: "Unique in its phase; named in the reason when it trips." }),
    kind: t.field({ type: GuardrailKindEnum, description: "What is checked.", resolve: (g) => g.kind }),
    url: t.exposeString("url", { description: "The probed URL, or the Prometheus server's base URL." }),
    query: t.exposeString("query", { nullable: true, description: "PROMETHEUS_QUERY: the PromQL instant query." }),
    comparator: t.field({
      type: ComparatorEnum,
      nullable: true,
      description: "PROMETHEUS_QUERY: how the value must compare with `threshold` to pass.",
      resolve: (g) => g.comparator,
    }),
    threshold: t.exposeFloat("threshold", { nullable: true, description: "PROMETHEUS_QUERY: the bound." }),
    interval: t.field({ type: "Duration", description: "Time between checks.", resolve: (g) => g.interval }),
    failuresToTrip: t.exposeInt("failuresToTrip", { description: "Consecutive failures that trip it." }),
    onFailure: t.field({ type: GuardrailOutcomeEnum, description: "What tripping does.", resolve: (g) => g.onFailure }),
  }),
});

const GuardrailInput = builder.inputType("GuardrailInput", {
  description: GUARDRAIL_DESCRIPTION,
  fields: (t) => ({
    name: t.string({ required: true, description: "Unique in its phase (case-insensitive), at most 200 characters." }),
    kind: t.field({ type: GuardrailKindEnum, required: true, description: "What is checked." }),
    url: t.string({ required: true, description: "http(s), without credentials, at most 2,000 characters." }),
    query: t.string({ description: "PROMETHEUS_QUERY (required): a PromQL instant query, at most 2,000 characters." }),
    comparator: t.field({ type: ComparatorEnum, description: "PROMETHEUS_QUERY (required)." }),
    threshold: t.float({ description: "PROMETHEUS_QUERY (required): a finite number." }),
    interval: t.field({ type: "Duration", required: true, description: "Time between checks: 1 second to 1 day." }),
    failuresToTrip: t.int({ defaultValue: 3, description: "Consecutive failures that trip it: 1 to 100." }),
    onFailure: t.field({ type: GuardrailOutcomeEnum, defaultValue: "PAUSE", description: "What tripping does." }),
  }),
});

const RampInput = builder.inputType("RampInput", {
  description:
    "Within a phase, roll out to a growing share of units: initialPercentage, then + increaseBy every `every`.",
  fields: (t) => ({
    initialPercentage: t.float({ required: true, description: "Within (0, 100]; 100 rolls out at once." }),
    increaseBy: t.float({ required: true, description: "Within (0, 100]." }),
    every: t.field({ type: "Duration", required: true, description: "Time between steps: 1 second to 1 day." }),
  }),
});

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
    ramp: t.field({
      type: RampRef,
      nullable: true,
      description: "A gradual rollout once the phase's wait and approvals are done; null = all at once.",
      resolve: (phase) => phase.ramp ?? null,
    }),
    guardrails: t.field({
      type: [GuardrailRef],
      description: "Health checks run while the phase bakes or ramps.",
      resolve: (phase) => phase.guardrails ?? [],
    }),
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
    ramp: t.field({ type: RampInput, description: "Roll out gradually once the wait and approvals are done." }),
    guardrails: t.field({
      type: [GuardrailInput],
      description: "Health checks run while the phase bakes or ramps (at most 10).",
    }),
  }),
});

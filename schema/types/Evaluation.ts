import { validation } from "../../services/core/errors.ts";
import { toReleaseView } from "../../services/release/release.ts";
import { evaluate } from "../../services/serving/evaluate.ts";
import { notFound, visibleProject } from "../access.ts";
import { builder } from "../builder.ts";

export interface EvaluationView {
  featureKey: string;
  environment: string;
  enabled: boolean;
  value: unknown;
  reason: string;
}

export const EvaluationRef = builder.objectRef<EvaluationView>("Evaluation");

EvaluationRef.implement({
  description: "What a unit is served, and why.",
  fields: (t) => ({
    featureKey: t.exposeString("featureKey", { description: "The feature evaluated." }),
    environment: t.exposeString("environment", { description: "The environment evaluated in." }),
    enabled: t.exposeBoolean("enabled", { description: "The gate's answer for this unit." }),
    value: t.field({
      type: "JSON",
      nullable: true,
      description: "The dynamic config's value for this unit.",
      resolve: (evaluation) => evaluation.value ?? null,
    }),
    reason: t.exposeString("reason", {
      description:
        "Why: DEFAULT, RULE:<segment>, RELEASE:<releaseId>:PHASE:<index> (with :RAMP:<percentage> while that phase ramps), or NOT_FOUND.",
    }),
  }),
});

export const UnitInput = builder.inputType("UnitInput", {
  description: "The unit (user, device, request …) to evaluate for.",
  fields: (t) => ({
    id: t.string({ required: true, description: "Its stable id (percentage rollouts bucket by it)." }),
    attributes: t.field({
      type: "JSON",
      description: 'A JSON object of attributes segments test, e.g. { "region": "us-west" }.',
    }),
  }),
});

builder.queryField("evaluate", (t) =>
  t.field({
    type: EvaluationRef,
    description: "What an SDK in `environment` serves this unit right now.",
    authScopes: { viewer: true },
    args: {
      projectId: t.arg.id({ required: true, description: "The project." }),
      featureKey: t.arg.string({ required: true, description: "The feature's key." }),
      environment: t.arg.string({ required: true, description: "An environment of the project." }),
      unit: t.arg({ type: UnitInput, required: true, description: "Who is asking." }),
    },
    resolve: (_root, args, ctx) => {
      const project = visibleProject(ctx, args.projectId);
      if (project === null) throw notFound("project", args.projectId);
      if (!project.environments.includes(args.environment)) {
        throw validation(
          "environment",
          `unknown environment "${args.environment}" (project environments: ${project.environments.join(", ")})`,
        );
      }
      const attributes = args.unit.attributes ?? null;
      if (attributes !== null && (typeof attributes !== "object" || Array.isArray(attributes))) {
        throw validation("unit.attributes", "must be a JSON object of attribute names to values");
      }
      const feature = ctx.readModels.featureByKey(project.id, args.featureKey);
      const active = feature?.activeReleaseId ? ctx.readModels.release(feature.activeReleaseId) : null;
      const served = evaluate({
        feature,
        release: active === null ? null : toReleaseView(active),
        segments: project.segments,
        environment: args.environment,
        unit: { id: args.unit.id, attributes: attributes as Record<string, unknown> | null },
      });
      return { featureKey: args.featureKey, environment: args.environment, ...served };
    },
  }),
);

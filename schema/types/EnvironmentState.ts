import type { Definition, EnvironmentDefinition, Target } from "../../services/core/model.ts";
import type { Release } from "../../services/release/release.ts";
import { builder } from "../builder.ts";
import { DefinitionRef } from "./Definition.ts";
import { TargetRef } from "./Target.ts";

export interface EnvironmentStateView {
  environment: string;
  definition: Definition;
  rolledOutTargets: Target[];
}

/**
 * The feature's definitions, each with the segment targets of that environment on which the active
 * release has already rolled out (whole environments are already in the stored definition).
 */
export function environmentStates(
  feature: { environments: EnvironmentDefinition[] },
  activeRelease: Release | null,
): EnvironmentStateView[] {
  const live = activeRelease !== null && activeRelease.status === "IN_PROGRESS" ? activeRelease : null;
  return feature.environments.map(({ environment, definition }) => ({
    environment,
    definition,
    // A segment in two phases (say ENABLE, then APPLY_CHANGE) is one rolled-out target: listed once.
    rolledOutTargets: [
      ...new Map(
        (live?.rolledOut ?? [])
          .flatMap((phase) => phase.targets)
          .filter((target) => target.environment === environment && target.segment !== null)
          .map((target) => [target.segment, target] as const),
      ).values(),
    ],
  }));
}

export const EnvironmentStateRef = builder.objectRef<EnvironmentStateView>("EnvironmentState");

EnvironmentStateRef.implement({
  description: "A feature in one environment now: its stored definition, and where an active release has reached.",
  fields: (t) => ({
    environment: t.exposeString("environment", { description: "An environment of the project." }),
    definition: t.field({
      type: DefinitionRef,
      description: "Its stored definition (what units outside `rolledOutTargets` get).",
      resolve: (state) => state.definition,
    }),
    rolledOutTargets: t.field({
      type: [TargetRef],
      description:
        "Segment targets of this environment on which the active release has already rolled out (units matching them are served the new definition while the rest still get `definition`).",
      resolve: (state) => state.rolledOutTargets,
    }),
  }),
});

// How a release's stored events reach its feature: the feature decider's commands for the effects of
// one release event (featureEffects), decided in order as one command, so they are appended together.
// Used by the workflow's applyFeatureEffects activity and by the simulation.

import type { Decider } from "../core/decider.ts";
import { DomainError } from "../core/errors.ts";
import type { FeatureEvent } from "../feature/events.ts";
import { type FeatureCommand, type FeatureState, featureDecider } from "../feature/feature.ts";
import type { FeatureEffect } from "./release.ts";

const toFeatureCommand = (effect: FeatureEffect, releaseId: string, actor: string, at: string): FeatureCommand => {
  // The release workflow acts for the system; the person (if any) is kept as the actor's name.
  const systemActor = { name: actor, role: "ADMIN" as const };
  switch (effect.type) {
    case "ApplyReleaseDefinitions":
      return {
        type: "ApplyReleaseDefinitions",
        data: { releaseId, environments: effect.environments, cause: effect.cause, phaseIndex: effect.phaseIndex },
        actor: systemActor,
        now: at,
      };
    case "EndRelease":
      return { type: "EndRelease", data: { releaseId, status: effect.status }, actor: systemActor, now: at };
    default: {
      const unknown: never = effect;
      throw new DomainError("INTERNAL", `unknown feature effect ${JSON.stringify(unknown)}`);
    }
  }
};

/** The feature decider over a list of commands, applied in order. */
export const featureEffectsDecider: Decider<FeatureState, FeatureCommand[], FeatureEvent> = {
  initialState: featureDecider.initialState,
  evolve: featureDecider.evolve,
  decide: (commands, state) => {
    const events: FeatureEvent[] = [];
    let current = state;
    for (const command of commands) {
      for (const event of featureDecider.decide(command, current)) {
        events.push(event);
        current = featureDecider.evolve(current, event);
      }
    }
    return events;
  },
};

/** The feature commands for one release event's effects, by `actor` (a person's name, or "system"), at `at`. */
export const featureEffectCommands = (
  effects: readonly FeatureEffect[],
  releaseId: string,
  actor: string,
  at: string,
): FeatureCommand[] => effects.map((effect) => toFeatureCommand(effect, releaseId, actor, at));

// Definition (enabled, value, rules), its rules, and a definition per environment; with their inputs.

import type { Definition, EnvironmentDefinition, Rule } from "../../services/core/model.ts";
import { builder } from "../builder.ts";

export const RuleRef = builder.objectRef<Rule>("Rule");

RuleRef.implement({
  description: "Units in `segment` get `enabled` / `value` (for `rolloutPercentage` of them).",
  fields: (t) => ({
    segment: t.exposeString("segment", { description: "A segment key of the project." }),
    enabled: t.exposeBoolean("enabled", { description: "What a matching unit gets for a gate." }),
    value: t.field({
      type: "JSON",
      nullable: true,
      description: "What a matching unit gets for a dynamic config.",
      resolve: (rule) => rule.value ?? null,
    }),
    rolloutPercentage: t.exposeFloat("rolloutPercentage", {
      description: "The share of matching units (stable per unit id) the rule applies to, 0–100.",
    }),
  }),
});

export const DefinitionRef = builder.objectRef<Definition>("Definition");

DefinitionRef.implement({
  description:
    "A gate uses `enabled`; a dynamic config uses `value`. Rules are tried in order; the first matching one wins.",
  fields: (t) => ({
    enabled: t.exposeBoolean("enabled", { description: "On or off when no rule matches (a gate's answer)." }),
    value: t.field({
      type: "JSON",
      nullable: true,
      description: "The value when no rule matches (a dynamic config's answer).",
      resolve: (definition) => definition.value ?? null,
    }),
    rules: t.field({
      type: [RuleRef],
      description: "Segment rules, tried in order.",
      resolve: (definition) => definition.rules,
    }),
  }),
});

export const EnvironmentDefinitionRef = builder.objectRef<EnvironmentDefinition>("EnvironmentDefinition");

EnvironmentDefinitionRef.implement({
  description: "One environment's definition.",
  fields: (t) => ({
    environment: t.exposeString("environment", { description: "An environment of the project." }),
    definition: t.field({
      type: DefinitionRef,
      description: "What it serves there.",
      resolve: (entry) => entry.definition,
    }),
  }),
});

export const RuleInput = builder.inputType("RuleInput", {
  description: "A segment rule: units in `segment` get `enabled` / `value`.",
  fields: (t) => ({
    segment: t.string({ required: true, description: "A segment key of the project." }),
    enabled: t.boolean({ required: true, description: "What a matching unit gets for a gate." }),
    value: t.field({ type: "JSON", description: "What a matching unit gets for a dynamic config." }),
    rolloutPercentage: t.float({ defaultValue: 100, description: "The share of matching units it applies to, 0–100." }),
  }),
});

export const DefinitionInput = builder.inputType("DefinitionInput", {
  description: "What an environment serves: `enabled` (gates), `value` (dynamic configs), and rules tried first.",
  fields: (t) => ({
    enabled: t.boolean({ required: true, description: "On or off when no rule matches." }),
    value: t.field({ type: "JSON", description: "The value when no rule matches (dynamic configs)." }),
    rules: t.field({ type: [RuleInput], description: "Segment rules, tried in order; the first match wins." }),
  }),
});

export const EnvironmentDefinitionInput = builder.inputType("EnvironmentDefinitionInput", {
  description: "One environment's definition.",
  fields: (t) => ({
    environment: t.string({ required: true, description: "An environment of the project." }),
    definition: t.field({ type: DefinitionInput, required: true, description: "What it should serve." }),
  }),
});

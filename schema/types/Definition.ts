// Definition (enabled, value, rules), its rules, and a definition per environment; with their inputs.

import type { Definition, EnvironmentDefinition, Rule } from "../../services/core/model.ts";
import { builder } from "../builder.ts";

export const RuleRef = builder.objectRef<Rule>("Rule");

RuleRef.implement({
  fields: (t) => ({
    segment: t.exposeString("segment"),
    enabled: t.exposeBoolean("enabled"),
    value: t.field({ type: "JSON", nullable: true, resolve: (rule) => rule.value ?? null }),
    rolloutPercentage: t.exposeFloat("rolloutPercentage"),
  }),
});

export const DefinitionRef = builder.objectRef<Definition>("Definition");

DefinitionRef.implement({
  description:
    "A gate uses `enabled`; a dynamic config uses `value`. Rules are tried in order; the first matching one wins.",
  fields: (t) => ({
    enabled: t.exposeBoolean("enabled"),
    value: t.field({ type: "JSON", nullable: true, resolve: (definition) => definition.value ?? null }),
    rules: t.field({ type: [RuleRef], resolve: (definition) => definition.rules }),
  }),
});

export const EnvironmentDefinitionRef = builder.objectRef<EnvironmentDefinition>("EnvironmentDefinition");

EnvironmentDefinitionRef.implement({
  fields: (t) => ({
    environment: t.exposeString("environment"),
    definition: t.field({ type: DefinitionRef, resolve: (entry) => entry.definition }),
  }),
});

export const RuleInput = builder.inputType("RuleInput", {
  fields: (t) => ({
    segment: t.string({ required: true }),
    enabled: t.boolean({ required: true }),
    value: t.field({ type: "JSON" }),
    rolloutPercentage: t.float({ defaultValue: 100 }),
  }),
});

export const DefinitionInput = builder.inputType("DefinitionInput", {
  fields: (t) => ({
    enabled: t.boolean({ required: true }),
    value: t.field({ type: "JSON" }),
    rules: t.field({ type: [RuleInput] }),
  }),
});

export const EnvironmentDefinitionInput = builder.inputType("EnvironmentDefinitionInput", {
  fields: (t) => ({
    environment: t.string({ required: true }),
    definition: t.field({ type: DefinitionInput, required: true }),
  }),
});

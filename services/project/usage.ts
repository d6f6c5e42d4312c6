// What uses a project's environment or segment, named as people know it, for removeEnvironment and
// deleteSegment (the project decider refuses while the list is not empty). Read from the read models:
// features (archived ones too: unarchiving gives them back their definitions; deleted ones no more),
// pipelines that are not deleted, and releases in progress (their phases and change were snapshotted at
// start). See docs/decisions/0024-project-edits.md for the race this leaves.

import {
  type Definition,
  disabledDefinition,
  type EnvironmentDefinition,
  jsonEqual,
  type Phase,
  type ReleaseStatus,
} from "../core/model.ts";

// What the usage lists read of features, pipelines and releases: structural, so this slice imports none
// of theirs (no folder import cycle).
interface FeatureUse {
  key: string;
  archivedAt: string | null;
  environments: readonly EnvironmentDefinition[];
}
interface PipelineUse {
  name: string;
  phases: readonly Phase[];
}
interface ReleaseUse {
  id: string;
  phaseSpecs: readonly Phase[];
  before: readonly EnvironmentDefinition[];
  change: readonly EnvironmentDefinition[];
  after: readonly EnvironmentDefinition[];
}

/** What the usage lists read (the read models). */
export interface UsageViews {
  features(projectId: string, includeArchived?: boolean): readonly FeatureUse[];
  pipelines(projectId: string): readonly PipelineUse[];
  releases(projectId: string, status?: ReleaseStatus | null): readonly ReleaseUse[];
}

const label = (feature: { key: string; archivedAt: string | null }): string =>
  `feature ${feature.key}${feature.archivedAt === null ? "" : " (archived)"}`;

const targets = (phases: readonly Phase[], match: (t: { environment: string; segment: string | null }) => boolean) =>
  phases.some((phase) => phase.targets.some(match));

const isDefault = (definition: Definition | undefined): boolean =>
  definition === undefined || jsonEqual(definition, disabledDefinition());

export function environmentUsers(readModels: UsageViews, projectId: string, environment: string): string[] {
  const users: string[] = [];
  for (const feature of readModels.features(projectId, true)) {
    const stored = feature.environments.find((d) => d.environment === environment)?.definition;
    if (!isDefault(stored)) users.push(`${label(feature)} (a definition there)`);
  }
  for (const pipeline of readModels.pipelines(projectId)) {
    if (targets(pipeline.phases, (t) => t.environment === environment)) users.push(`pipeline "${pipeline.name}"`);
  }
  for (const release of readModels.releases(projectId, "IN_PROGRESS")) {
    const changes = [...release.before, ...release.change].some(
      (d) => d.environment === environment && !isDefault(d.definition),
    );
    if (changes || targets(release.phaseSpecs, (t) => t.environment === environment)) {
      users.push(`release ${release.id} (in progress)`);
    }
  }
  return users;
}

export function segmentUsers(readModels: UsageViews, projectId: string, key: string): string[] {
  const users: string[] = [];
  for (const feature of readModels.features(projectId, true)) {
    const where = feature.environments
      .filter((d) => d.definition.rules.some((rule) => rule.segment === key))
      .map((d) => d.environment);
    if (where.length > 0) users.push(`${label(feature)} (a rule in ${where.join(", ")})`);
  }
  for (const pipeline of readModels.pipelines(projectId)) {
    if (targets(pipeline.phases, (t) => t.segment === key)) users.push(`pipeline "${pipeline.name}"`);
  }
  for (const release of readModels.releases(projectId, "IN_PROGRESS")) {
    const rules = [...release.change, ...release.after].some((d) => d.definition.rules.some((r) => r.segment === key));
    if (rules || targets(release.phaseSpecs, (t) => t.segment === key))
      users.push(`release ${release.id} (in progress)`);
  }
  return users;
}

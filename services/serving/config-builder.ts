// The SDK configuration document's entries, built from read-model states (pure): what of a feature
// and of the release that locks it serves in one environment. services/api/served-configs.ts assembles
// them into documents; the SDK evaluates them through ./config-document.ts and ./evaluate.ts.

import type { Definition } from "../core/model.ts";
import type { Feature } from "../feature/feature.ts";
import { type Release, toReleaseView } from "../release/release.ts";
import type { ConfigFeature, ConfigRelease } from "./config-document.ts";

/** The release part of a feature's entry in `environment` (see ConfigRelease). */
export function configRelease(release: Release, environment: string): ConfigRelease {
  const view = toReleaseView(release);
  const rolledOut: ConfigRelease["rolledOut"] = [];
  if (view.status === "IN_PROGRESS") {
    for (const phase of [...view.rolledOut].sort((a, b) => a.phaseIndex - b.phaseIndex)) {
      const segments = phase.targets.filter((t) => t.environment === environment).map((t) => t.segment);
      const definition = phase.definitions.find((d) => d.environment === environment)?.definition;
      if (segments.length > 0 && definition !== undefined) {
        const { percentage } = phase;
        const ramping = percentage !== undefined && percentage < 100;
        rolledOut.push({ phaseIndex: phase.phaseIndex, segments, definition, ...(ramping && { percentage }) });
      }
    }
  }
  const outcome: Definition | null = view.outcome?.find((d) => d.environment === environment)?.definition ?? null;
  return { id: view.id, status: view.status, rolledOut, outcome };
}

/** A feature's entry in `environment`; null when the feature has no definition there. */
export function configFeature(feature: Feature, release: Release | null, environment: string): ConfigFeature | null {
  const definition = feature.environments.find((d) => d.environment === environment)?.definition;
  if (definition === undefined) return null;
  return {
    key: feature.key,
    kind: feature.kind,
    definition,
    release: release === null ? null : configRelease(release, environment),
  };
}

// Stores what the API stores before it starts a release's workflow: the feature (FeatureCreated), its
// lock (FeatureReleaseStarted) and ReleaseStarted from `decideStart`. For the workflow tests, the bench
// and workflows/record-histories.ts, which run releases without the API.

import { randomUUID } from "node:crypto";
import { formatDuration } from "../../services/core/duration.ts";
import { streams } from "../../services/core/event.ts";
import type {
  Actor,
  Definition,
  EnvironmentDefinition,
  Phase,
  PhaseAction,
  SelfApproval,
} from "../../services/core/model.ts";
import type { EventMetadata, EventStore } from "../../services/event-store/port.ts";
import type { FeatureEvent } from "../../services/feature/events.ts";
import { decideStart } from "../../services/release/release.ts";

export interface SeedPhase {
  name?: string;
  environment: string;
  segment?: string | null;
  waitMs?: number | null;
  /** Distinct approvals needed; 0 or unset = no approval. */
  approvals?: number;
  action?: PhaseAction;
}

export interface SeedReleaseOptions {
  phases: SeedPhase[];
  releaseId?: string;
  featureId?: string;
  projectId?: string;
  /** Who starts the release (default "starter"). */
  startedBy?: string;
  selfApproval?: SelfApproval;
  /** When ReleaseStarted takes effect (default: now). */
  now?: string;
}

export interface SeededRelease {
  releaseId: string;
  featureId: string;
  projectId: string;
  environments: string[];
  before: EnvironmentDefinition[];
  change: EnvironmentDefinition[];
}

export const BEFORE: Definition = { enabled: false, value: { version: 1 }, rules: [] };
export const CHANGE: Definition = { enabled: true, value: { version: 2 }, rules: [] };

export async function seedRelease(store: EventStore, options: SeedReleaseOptions): Promise<SeededRelease> {
  const releaseId = options.releaseId ?? randomUUID();
  const featureId = options.featureId ?? randomUUID();
  const projectId = options.projectId ?? "project-1";
  const startedBy = options.startedBy ?? "starter";
  const now = options.now ?? new Date().toISOString();
  const environments = [...new Set(options.phases.map((phase) => phase.environment))];
  const before = environments.map((environment) => ({ environment, definition: BEFORE }));
  const change = environments.map((environment) => ({ environment, definition: CHANGE }));
  const phases: Phase[] = options.phases.map((phase, index) => ({
    name: phase.name ?? `phase-${index}`,
    waitFor: phase.waitMs ? formatDuration(phase.waitMs) : null,
    waitForMs: phase.waitMs ?? null,
    requiresApproval: (phase.approvals ?? 0) > 0,
    approvalsRequired: Math.max(1, phase.approvals ?? 0),
    action: phase.action ?? "APPLY_CHANGE",
    targets: [{ environment: phase.environment, segment: phase.segment ?? null }],
  }));

  const metadata = (actor: string): EventMetadata => ({
    actor,
    occurredAt: now,
    correlationId: releaseId,
    causationId: null,
    schemaVersion: 1,
    projectId,
  });
  const featureEvents: FeatureEvent[] = [
    {
      type: "FeatureCreated",
      data: {
        featureId,
        projectId,
        key: `feature-${featureId.slice(0, 8)}`,
        kind: "GATE",
        description: null,
        pipelineId: "pipeline-1",
        environments: before,
        at: now,
      },
    },
    {
      type: "FeatureReleaseStarted",
      data: { featureId, releaseId, pipelineId: "pipeline-1", pipelineVersion: 1, at: now },
    },
  ];
  await store.append(
    `feature-${featureId}`,
    featureEvents.map((event) => ({
      id: randomUUID(),
      type: event.type,
      data: event.data,
      metadata: metadata(startedBy),
    })),
    "no_stream",
  );

  const started = decideStart(
    {
      type: "StartRelease",
      data: {
        releaseId,
        featureId,
        featureKey: `feature-${featureId.slice(0, 8)}`,
        projectId,
        pipelineId: "pipeline-1",
        pipelineVersion: 1,
        pipelineName: "seeded pipeline",
        phases,
        selfApproval: options.selfApproval ?? "ALLOWED",
        environments,
        before,
        change,
        trigger: "UPDATE",
        reason: null,
      },
      actor: { name: startedBy, role: "EDITOR" },
      now,
    },
    null,
  );
  await store.append(
    `release-${releaseId}`,
    started.map((event) => ({ id: randomUUID(), type: event.type, data: event.data, metadata: metadata(startedBy) })),
    "no_stream",
  );
  return { releaseId, featureId, projectId, environments, before, change };
}

export interface SeedTokenOptions {
  name: string;
  role: Actor["role"];
  /** The project the token is bound to; null: every project (default "project-1", seedRelease's). */
  projectId?: string | null;
  revoked?: boolean;
}

/**
 * Stores an API token as the API would (ApiTokenCreated, then ApiTokenRevoked when `revoked`), so that
 * signals naming it pass the workflow's actor check. Its secret is nobody's: only a hash is stored.
 */
export async function seedToken(store: EventStore, options: SeedTokenOptions): Promise<{ tokenId: string }> {
  const tokenId = randomUUID();
  const at = new Date().toISOString();
  const metadata: EventMetadata = {
    actor: "admin",
    occurredAt: at,
    correlationId: tokenId,
    causationId: null,
    schemaVersion: 1,
    projectId: options.projectId === undefined ? "project-1" : options.projectId,
  };
  const events = [
    {
      id: randomUUID(),
      type: "ApiTokenCreated",
      data: {
        tokenId,
        name: options.name,
        role: options.role,
        projectId: options.projectId === undefined ? "project-1" : options.projectId,
        secretHash: "0".repeat(64),
        at,
      },
      metadata,
    },
  ];
  if (options.revoked) {
    events.push({ id: randomUUID(), type: "ApiTokenRevoked", data: { tokenId, by: "admin", at } as never, metadata });
  }
  await store.append(streams.token(tokenId), events, "no_stream");
  return { tokenId };
}

// Stores what the API stores before it starts a release's workflow: the feature (FeatureCreated, through
// the feature decider) and the release's start through services/release/start.ts — the feature's lock and
// ReleaseStarted, with production's release id `<featureId>.1`. For the workflow tests, the bench and
// workflows/record-histories.ts, which run releases without the API. The project and the pipeline are
// built in memory (the workflow never reads their streams).

import { randomUUID } from "node:crypto";
import { formatDuration } from "../../services/core/duration.ts";
import type {
  Actor,
  Definition,
  EnvironmentDefinition,
  Guardrail,
  Phase,
  PhaseAction,
  Ramp,
  SelfApproval,
} from "../../services/core/model.ts";
import { streams } from "../../services/core/streams.ts";
import { storeExecutor } from "../../services/event-store/command-handler.ts";
import type { EventMetadata, EventStore } from "../../services/event-store/port.ts";
import { type Feature, featureDecider } from "../../services/feature/feature.ts";
import type { Pipeline } from "../../services/pipeline/pipeline.ts";
import type { PromotionWindow } from "../../services/pipeline/windows.ts";
import type { Project } from "../../services/project/project.ts";
import { startRelease } from "../../services/release/start.ts";

export interface SeedPhase {
  name?: string;
  environment: string;
  segment?: string | null;
  waitMs?: number | null;
  /** Distinct approvals needed; 0 or unset = no approval. */
  approvals?: number;
  action?: PhaseAction;
  /** A ramp once the phase's wait and approvals are done. */
  ramp?: Ramp;
  guardrails?: Guardrail[];
}

export interface SeedReleaseOptions {
  phases: SeedPhase[];
  projectId?: string;
  /** Who starts the release (default "starter"). */
  startedBy?: string;
  selfApproval?: SelfApproval;
  /** When ReleaseStarted takes effect (default: now). */
  now?: string;
  /** The pipeline's promotion windows (default none). */
  windows?: PromotionWindow[];
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
  const featureId = randomUUID();
  const projectId = options.projectId ?? "project-1";
  const startedBy = { name: options.startedBy ?? "starter", role: "EDITOR" as const };
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
    ...(phase.ramp && { ramp: phase.ramp }),
    ...(phase.guardrails && { guardrails: phase.guardrails }),
  }));
  const segments = [...new Set(options.phases.flatMap((phase) => (phase.segment ? [phase.segment] : [])))];
  const project: Project = {
    id: projectId,
    name: "seeded project",
    environments,
    segments: segments.map((key) => ({ key, attribute: "segment", operator: "IN", values: [key] })),
    createdAt: now,
    version: 1,
  };
  const pipeline: Pipeline = {
    id: "pipeline-1",
    projectId,
    name: "seeded pipeline",
    description: null,
    status: "PUBLISHED",
    version: 1,
    selfApproval: options.selfApproval ?? "ALLOWED",
    phases,
    createdAt: now,
    publishedAt: now,
    deletedAt: null,
    clonedFrom: null,
    attachedFeatureIds: [],
    ...(options.windows !== undefined && { windows: options.windows }),
  };
  const executor = storeExecutor(store);
  const metadata = { actor: startedBy.name, correlationId: randomUUID(), causationId: null, projectId };
  const created = await executor.execute(
    featureDecider,
    streams.feature(featureId),
    {
      type: "CreateFeature",
      data: {
        featureId,
        project,
        key: `feature-${featureId.slice(0, 8)}`,
        kind: "DYNAMIC_CONFIG",
        description: null,
        pipeline,
        environments: before,
      },
      actor: startedBy,
      now,
    },
    { ...metadata, occurredAt: now },
  );
  const { release } = await startRelease(executor, {
    feature: created.state as Feature,
    project,
    pipeline,
    trigger: "UPDATE",
    inputs: change,
    reason: null,
    actor: startedBy,
    now,
    metadata,
  });
  return { releaseId: release.id, featureId, projectId, environments, before, change };
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

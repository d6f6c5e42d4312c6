// What a webhook is told: which stored events are webhook events, which deliveries they make, and the
// JSON body of one. Pure; the worker's dispatcher (workflows/webhook-dispatch.ts) follows the log with
// these, and the delivery activity (workflows/webhook-activities.ts) builds the body it signs.

import { idFromText } from "../core/ids.ts";
import type { Release } from "../release/release.ts";
import type { WebhookEventKind } from "./events.ts";

/** Stored event type → the webhook event it is. */
export const WEBHOOK_EVENT_OF_TYPE: Readonly<Record<string, WebhookEventKind>> = {
  ReleaseApprovalRequested: "APPROVAL_REQUESTED",
  ReleasePhaseRolledOut: "PHASE_ROLLED_OUT",
  ReleasePaused: "RELEASE_PAUSED",
  ReleaseCompleted: "RELEASE_COMPLETED",
  ReleaseAborted: "RELEASE_ABORTED",
  ReleaseGuardrailTripped: "GUARDRAIL_TRIPPED",
  ProjectFrozen: "FREEZE_CHANGED",
  ProjectUnfrozen: "FREEZE_CHANGED",
};

export const NOTIFYING_EVENT_TYPES: readonly string[] = Object.keys(WEBHOOK_EVENT_OF_TYPE);

/** One delivery per (webhook, stored event): the same pair always names the same delivery. */
export const deliveryIdFor = (webhookId: string, sourceEventId: string): string =>
  idFromText(`webhookdelivery\u0000${webhookId}\u0000${sourceEventId}`);

/** What the dispatcher hands the delivery workflow: enough to find everything else in the log. */
export interface DeliveryJob {
  deliveryId: string;
  webhookId: string;
  projectId: string;
  event: WebhookEventKind;
  /** The stored event the delivery tells about: its id, stream and type. */
  sourceEventId: string;
  sourceStream: string;
  sourceType: string;
  releaseId: string | null;
}

/** The body's shape; `version` changes if a field is ever removed or changes meaning. */
export interface WebhookBody {
  version: 1;
  /** The delivery's id: the same for every attempt, so a receiver can drop a duplicate. */
  id: string;
  event: WebhookEventKind;
  /** The stored event's type (ReleasePaused, ProjectFrozen …). */
  type: string;
  occurredAt: string;
  /** Who acted ("system" for automatic steps). */
  actor: string;
  reason: string | null;
  project: { id: string };
  release: {
    id: string;
    featureId: string;
    featureKey: string;
    pipelineName: string;
    status: string;
    /** The release's console page. */
    url: string;
  } | null;
  phase: { index: number; name: string; status: string } | null;
  /** The console page to act on: the release's, else the project's. */
  url: string;
}

export interface BodySource {
  job: DeliveryJob;
  data: Record<string, unknown>;
  actor: string;
  occurredAt: string;
  /** The release as it stood right after the event (null for a project's event). */
  release: Release | null;
  /** PUBLIC_URL without a trailing slash; unset: links are paths. */
  publicUrl?: string | undefined;
}

export function webhookBody({ job, data, actor, occurredAt, release, publicUrl }: BodySource): WebhookBody {
  const base = publicUrl ?? "";
  const releaseUrl = release === null ? null : `${base}/releases/${encodeURIComponent(release.id)}`;
  const phaseIndex = typeof data.phaseIndex === "number" ? data.phaseIndex : (release?.currentPhaseIndex ?? null);
  const phase = release !== null && phaseIndex !== null ? (release.phases[phaseIndex] ?? null) : null;
  return {
    version: 1,
    id: job.deliveryId,
    event: job.event,
    type: job.sourceType,
    occurredAt,
    actor,
    reason: typeof data.reason === "string" ? data.reason : null,
    project: { id: job.projectId },
    release:
      release === null || releaseUrl === null
        ? null
        : {
            id: release.id,
            featureId: release.featureId,
            featureKey: release.featureKey,
            pipelineName: release.pipelineName,
            status: release.status,
            url: releaseUrl,
          },
    phase: phase === null ? null : { index: phase.index, name: phase.name, status: phase.status },
    url: releaseUrl ?? `${base}/projects/${encodeURIComponent(job.projectId)}`,
  };
}

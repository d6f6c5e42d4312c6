// The delivery workflow's I/O (workflows/webhooks.workflow.ts): build the body from the log, sign it, POST
// it, and store each attempt. Built by a factory over its dependencies; the workflow imports the type.
//
// The body is built from the log every attempt, the same bytes each time: the delivery's id and the
// stored event it tells about never change, and the release is folded up to that event only.

import { Context } from "@temporalio/activity";
import { ApplicationFailure } from "@temporalio/common";
import { streamId, streams } from "../services/core/streams.ts";
import { EVENT_SCHEMA_VERSION } from "../services/core/upcasters.ts";
import { loadStream } from "../services/event-store/command-handler.ts";
import type { EventStore, EventToAppend } from "../services/event-store/port.ts";
import type { Logger } from "../services/platform/logger.ts";
import type { ReleaseEvent } from "../services/release/events.ts";
import { evolve as evolveRelease, type Release, type ReleaseState } from "../services/release/release.ts";
import type { DeliveryEvent } from "../services/webhook/events.ts";
import { type DeliveryJob, webhookBody } from "../services/webhook/notification.ts";
import { openSecret, signatureOf, type WebhookKey } from "../services/webhook/secrets.ts";
import { webhookDecider } from "../services/webhook/webhook.ts";
import { deriveEventId } from "./activities.ts";

/** How long a receiver has to answer one attempt. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

export type AttemptResult = { status: "DELIVERED"; statusCode: number } | { status: "CANCELLED"; reason: string };

export interface WebhookActivities {
  /** One attempt: DELIVERED on a 2xx; CANCELLED when the webhook is gone; throws (retried) otherwise. */
  deliverWebhook(job: DeliveryJob): Promise<AttemptResult>;
  recordDeliveryFailed(job: DeliveryJob, reason: string): Promise<void>;
}

export interface WebhookActivityDeps {
  store: EventStore;
  /** Opens the sealed signing secrets (the key the API sealed them with). */
  webhookKey: () => WebhookKey;
  /** PUBLIC_URL, for the console links in bodies. */
  publicUrl?: string | undefined;
  logger?: Logger;
  /** The attempt number, 1-based (default: Temporal's activity attempt). */
  attemptOf?: () => number;
  now?: () => Date;
}

/** The release folded up to and including the event `eventId` of its stream, and that event. */
async function releaseAt(
  store: EventStore,
  stream: string,
  eventId: string,
): Promise<{ release: Release | null; event: { data: unknown; actor: string; occurredAt: string } | null }> {
  const events = await store.readStream(stream);
  const isRelease = streamId(stream, "release") !== null;
  let state: ReleaseState = null;
  for (const event of events) {
    if (isRelease) state = evolveRelease(state, event as unknown as ReleaseEvent);
    if (event.id === eventId) {
      return {
        release: state,
        event: { data: event.data, actor: event.metadata.actor, occurredAt: event.metadata.occurredAt },
      };
    }
  }
  return { release: null, event: null };
}

export function createWebhookActivities(deps: WebhookActivityDeps): WebhookActivities {
  const { store } = deps;
  const log = deps.logger?.child({ component: "webhook-delivery" });
  const now = deps.now ?? (() => new Date());
  const attemptOf = deps.attemptOf ?? (() => Context.current().info.attempt);

  const record = async (job: DeliveryJob, event: DeliveryEvent, idName: string): Promise<void> => {
    const toAppend: EventToAppend = {
      // Derived: the same attempt stored twice (the activity ran again after a crash) is one event.
      id: deriveEventId(`${job.deliveryId}/${idName}`),
      type: event.type,
      data: event.data,
      metadata: {
        actor: "system",
        occurredAt: event.data.at,
        correlationId: job.sourceEventId,
        causationId: job.sourceEventId,
        schemaVersion: EVENT_SCHEMA_VERSION,
        projectId: job.projectId,
      },
    };
    // Only this delivery's workflow writes its stream, one attempt at a time: "any" is safe.
    await store.append(streams.delivery(job.deliveryId), [toAppend], "any");
  };

  const common = (job: DeliveryJob) => ({
    deliveryId: job.deliveryId,
    webhookId: job.webhookId,
    projectId: job.projectId,
    event: job.event,
    releaseId: job.releaseId,
    sourceEventId: job.sourceEventId,
  });

  return {
    async deliverWebhook(job) {
      const attempt = attemptOf();
      const { state: webhook } = await loadStream(store, webhookDecider, streams.webhook(job.webhookId));
      if (webhook === null || webhook.deletedAt !== null) {
        return { status: "CANCELLED", reason: "the webhook was deleted" };
      }
      const source = await releaseAt(store, job.sourceStream, job.sourceEventId);
      if (source.event === null) return { status: "CANCELLED", reason: "the event it tells about is not in the log" };
      let secret: string;
      try {
        secret = openSecret(deps.webhookKey(), webhook.secret);
      } catch (error) {
        log?.error({ err: error, webhookId: job.webhookId }, "cannot open the webhook's signing secret");
        // Retried: a worker with the right key may pick the next attempt up.
        throw ApplicationFailure.retryable("the signing secret cannot be opened by this worker", "WEBHOOK_KEY");
      }
      const body = JSON.stringify(
        webhookBody({
          job,
          data: (source.event.data ?? {}) as Record<string, unknown>,
          actor: source.event.actor,
          occurredAt: source.event.occurredAt,
          release: source.release,
          publicUrl: deps.publicUrl,
        }),
      );
      let statusCode: number | null = null;
      let error: string | null = null;
      try {
        const response = await fetch(webhook.url, {
          method: "POST",
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
          headers: {
            "content-type": "application/json",
            "user-agent": "release-pipelines-webhooks/1",
            "x-signature-256": signatureOf(secret, body),
            "x-webhook-id": job.webhookId,
            "x-webhook-delivery": job.deliveryId,
            "x-webhook-event": job.event,
            "x-webhook-attempt": String(attempt),
          },
        });
        statusCode = response.status;
        await response.body?.cancel().catch(() => {});
      } catch (cause) {
        error =
          cause instanceof Error && cause.name === "TimeoutError"
            ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
            : `no answer: ${cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause)}`;
      }
      const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
      await record(
        job,
        {
          type: "WebhookDeliveryAttempted",
          data: { ...common(job), attempt, statusCode, ok, error, at: now().toISOString() },
        },
        `attempt/${attempt}`,
      );
      if (ok) return { status: "DELIVERED", statusCode: statusCode as number };
      log?.info(
        { deliveryId: job.deliveryId, attempt, statusCode, error },
        "webhook attempt failed; retried with backoff",
      );
      throw ApplicationFailure.retryable(
        statusCode === null ? (error ?? "no answer") : `the receiver answered ${statusCode}`,
        "WEBHOOK_ATTEMPT_FAILED",
      );
    },

    async recordDeliveryFailed(job, reason) {
      await record(
        job,
        { type: "WebhookDeliveryFailed", data: { ...common(job), reason, at: now().toISOString() } },
        "failed",
      );
    },
  };
}

// The worker's webhook dispatcher: follows the event log and starts one delivery workflow per (webhook,
// stored event) the webhook asked for. The workflow id derives from both (`webhook-delivery-<id>`), so
// starting it again — after a worker restart, or from another worker following the same log — is a
// no-op while it runs (USE_EXISTING) and after it ended (REJECT_DUPLICATE). On start the dispatcher reads
// the log from the beginning (as the reconcile loop does) and starts only the deliveries that have not
// stored an attempt yet: a delivery's events come after the event it tells about, so by the time the
// subscription is live every delivery already under way or done has been crossed off.
//
// It never touches a release: releases go on whatever a receiver does, and a start that fails (Temporal
// unreachable) is tried again every `retryMs`.

import type { Client } from "@temporalio/client";
import { WorkflowExecutionAlreadyStartedError } from "@temporalio/common";
import { streamId, streams } from "../services/core/streams.ts";
import type { EventStore, RecordedEvent } from "../services/event-store/port.ts";
import type { Logger } from "../services/platform/logger.ts";
import type { WebhookEventKind } from "../services/webhook/events.ts";
import {
  type DeliveryJob,
  deliveryIdFor,
  NOTIFYING_EVENT_TYPES,
  WEBHOOK_EVENT_OF_TYPE,
} from "../services/webhook/notification.ts";
import type { webhookDeliveryWorkflow } from "./webhooks.workflow.ts";

export const WEBHOOK_TASK_QUEUE = "webhooks";
export const webhookDeliveryWorkflowId = (deliveryId: string): string => `webhook-delivery-${deliveryId}`;

/** Starts the delivery's workflow unless it runs or ran already. */
export async function startDeliveryWorkflow(client: Client, job: DeliveryJob, taskQueue: string): Promise<void> {
  try {
    await client.workflow.start<typeof webhookDeliveryWorkflow>("webhookDeliveryWorkflow", {
      workflowId: webhookDeliveryWorkflowId(job.deliveryId),
      taskQueue,
      args: [job],
      workflowIdConflictPolicy: "USE_EXISTING",
      workflowIdReusePolicy: "REJECT_DUPLICATE",
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export interface WebhookDispatcherOptions {
  /** The delivery workflows' task queue (default "webhooks"). */
  taskQueue?: string;
  logger?: Logger;
  /** How soon starts that failed are tried again (default 5 s). */
  retryMs?: number;
}

export interface WebhookDispatcher {
  /** Resolves once the log is read and the deliveries it still owes are started (or scheduled to be retried). */
  readonly ready: Promise<void>;
  /** Deliveries not started yet. */
  pending(): DeliveryJob[];
  close(): Promise<void>;
}

const WEBHOOK_PREFIX = streams.webhook("");
const DELIVERY_PREFIX = streams.delivery("");

export function startWebhookDispatcher(
  client: Client,
  store: EventStore,
  options: WebhookDispatcherOptions = {},
): WebhookDispatcher {
  const taskQueue = options.taskQueue ?? WEBHOOK_TASK_QUEUE;
  const retryMs = options.retryMs ?? 5_000;
  const log = options.logger?.child({ component: "webhook-dispatcher" });
  /** Live webhooks: id → project and events; project → its webhooks. */
  const webhooks = new Map<string, { projectId: string; events: readonly WebhookEventKind[] }>();
  const byProject = new Map<string, Set<string>>();
  const pending = new Map<string, DeliveryJob>();
  let live = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;

  const projectOf = (event: RecordedEvent): string | null => {
    const data = event.data as { projectId?: unknown } | null;
    const fromMetadata = event.metadata.projectId;
    if (typeof fromMetadata === "string" && fromMetadata !== "") return fromMetadata;
    if (typeof data?.projectId === "string") return data.projectId;
    return streamId(event.stream, "project");
  };

  const onEvent = (event: RecordedEvent): void => {
    const data = event.data as Record<string, unknown>;
    switch (event.type) {
      case "WebhookCreated": {
        const webhookId = String(data.webhookId);
        const projectId = String(data.projectId);
        webhooks.set(webhookId, { projectId, events: data.events as WebhookEventKind[] });
        const set = byProject.get(projectId) ?? new Set<string>();
        byProject.set(projectId, set);
        set.add(webhookId);
        return;
      }
      case "WebhookDeleted": {
        const webhookId = String(data.webhookId);
        const webhook = webhooks.get(webhookId);
        webhooks.delete(webhookId);
        if (webhook !== undefined) byProject.get(webhook.projectId)?.delete(webhookId);
        return;
      }
      case "WebhookDeliveryAttempted":
      case "WebhookDeliveryFailed":
        // Under way or done: nothing to start (this matters while reading history).
        pending.delete(String(data.deliveryId));
        return;
    }
    const kind = WEBHOOK_EVENT_OF_TYPE[event.type];
    if (kind === undefined) return;
    const projectId = projectOf(event);
    if (projectId === null) return;
    for (const webhookId of byProject.get(projectId) ?? []) {
      if (!webhooks.get(webhookId)?.events.includes(kind)) continue;
      const deliveryId = deliveryIdFor(webhookId, event.id);
      pending.set(deliveryId, {
        deliveryId,
        webhookId,
        projectId,
        event: kind,
        sourceEventId: event.id,
        sourceStream: event.stream,
        sourceType: event.type,
        releaseId: streamId(event.stream, "release"),
      });
    }
    if (live) kick();
  };

  const drain = async (): Promise<void> => {
    let failed = 0;
    for (const [deliveryId, job] of [...pending]) {
      if (closed) return;
      try {
        await startDeliveryWorkflow(client, job, taskQueue);
        pending.delete(deliveryId);
      } catch (error) {
        failed++;
        log?.warn({ err: error, deliveryId }, "could not start a webhook delivery; tried again shortly");
      }
    }
    if (failed > 0 && !closed && retryTimer === null) {
      retryTimer = setTimeout(() => {
        retryTimer = null;
        kick();
      }, retryMs);
      retryTimer.unref();
    }
  };

  /** One drain at a time; a kick during a drain runs another right after it. */
  function kick(): void {
    if (running !== null) {
      again = true;
      return;
    }
    running = drain()
      .catch((error: unknown) => log?.error({ err: error }, "webhook dispatch failed"))
      .finally(() => {
        running = null;
        if (again && !closed) {
          again = false;
          kick();
        }
      });
  }

  let caughtUp: () => void = () => {};
  let failedEarly: (error: Error) => void = () => {};
  const history = new Promise<void>((resolve, reject) => {
    caughtUp = resolve;
    failedEarly = reject;
  });
  const subscription = store.subscribeToAll({
    filter: {
      streamPrefixes: [WEBHOOK_PREFIX, DELIVERY_PREFIX, streams.release(""), streams.project("")],
      eventTypes: [
        "WebhookCreated",
        "WebhookDeleted",
        "WebhookDeliveryAttempted",
        "WebhookDeliveryFailed",
        ...NOTIFYING_EVENT_TYPES,
      ],
    },
    onEvent,
    onCaughtUp: () => {
      live = true;
      caughtUp();
    },
    onError: (error) => {
      log?.error(
        { err: error },
        "the webhook dispatcher's subscription stopped; deliveries resume at the next worker start",
      );
      failedEarly(error);
    },
  });

  const ready = history.then(async () => {
    kick();
    await running;
  });

  return {
    ready,
    pending: () => [...pending.values()],
    async close() {
      closed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      await subscription.close();
      await running;
    },
  };
}

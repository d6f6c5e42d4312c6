// One workflow per webhook delivery (id `webhook-delivery-<deliveryId>`, one per (webhook, stored event)):
// an activity POSTs the signed body; Temporal retries it with exponential backoff for over an hour
// (WEBHOOK_RETRY); each attempt is stored by the activity itself (WebhookDeliveryAttempted), and when the
// retries run out, or the webhook was deleted meanwhile, the delivery is stored as failed. Release
// workflows never wait for any of this: deliveries run on their own task queue, started by the worker's
// dispatcher that follows the log (workflows/webhook-dispatch.ts).

import { ActivityFailure, proxyActivities } from "@temporalio/workflow";
import type { DeliveryJob } from "../services/webhook/notification.ts";
import type { WebhookActivities } from "./webhook-activities.ts";

/**
 * 10 s, 20 s, 40 s … doubling up to 10 minutes between attempts, 12 attempts: the last one comes
 * 10+20+40+80+160+320+5×600 = 3,630 s after the first (test/webhooks/delivery.test.ts checks the sum).
 */
export const WEBHOOK_RETRY = {
  initialInterval: 10_000,
  backoffCoefficient: 2,
  maximumInterval: 600_000,
  maximumAttempts: 12,
} as const;

const { deliverWebhook } = proxyActivities<WebhookActivities>({
  // The POST itself times out after 10 s (WEBHOOK_TIMEOUT_MS); the rest is reading the log and storing the attempt.
  startToCloseTimeout: "30 seconds",
  retry: { ...WEBHOOK_RETRY, nonRetryableErrorTypes: ["WEBHOOK_UNUSABLE"] },
});

// Storing the outcome must get through store outages: retried until it works.
const { recordDeliveryFailed } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: "10 seconds",
  retry: { initialInterval: "1 second", backoffCoefficient: 2, maximumInterval: "1 minute" },
});

export type DeliveryOutcome = "DELIVERED" | "FAILED";

export async function webhookDeliveryWorkflow(job: DeliveryJob): Promise<DeliveryOutcome> {
  try {
    const result = await deliverWebhook(job);
    if (result.status === "DELIVERED") return "DELIVERED";
    await recordDeliveryFailed(job, result.reason);
    return "FAILED";
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    const cause = error.cause?.message ?? error.message;
    await recordDeliveryFailed(
      job,
      `gave up after ${WEBHOOK_RETRY.maximumAttempts} attempts or an unusable webhook: ${cause}`,
    );
    return "FAILED";
  }
}

import type { DomainEvent } from "../core/event.ts";

/** What a webhook can be told about (the contract's WebhookEvent). */
export const WEBHOOK_EVENT_KINDS = [
  "APPROVAL_REQUESTED",
  "PHASE_ROLLED_OUT",
  "RELEASE_PAUSED",
  "RELEASE_COMPLETED",
  "RELEASE_ABORTED",
  "GUARDRAIL_TRIPPED",
  "FREEZE_CHANGED",
] as const;
export type WebhookEventKind = (typeof WEBHOOK_EVENT_KINDS)[number];

/**
 * The signing secret, sealed (AES-256-GCM) under the installation's webhook key: the deliverer needs the
 * secret itself to compute an HMAC, so a hash would not do, and the log (read by the audit log) must not
 * hold it in the clear. See docs/decisions/0036-webhook-signing-secrets.md.
 */
export interface SealedSecret {
  /** Which key sealed it: the first 16 hex digits of the key's SHA-256. */
  keyId: string;
  /** base64url of iv (12 bytes) ‖ ciphertext ‖ tag (16 bytes). */
  sealed: string;
}

export type WebhookCreated = DomainEvent<
  "WebhookCreated",
  {
    webhookId: string;
    projectId: string;
    url: string;
    events: WebhookEventKind[];
    secret: SealedSecret;
    by: string;
    at: string;
  }
>;

export type WebhookDeleted = DomainEvent<"WebhookDeleted", { webhookId: string; by: string; at: string }>;

export type WebhookEvent = WebhookCreated | WebhookDeleted;

/**
 * One attempt to deliver one event to one webhook (stream `webhookdelivery-<deliveryId>`). `statusCode`
 * is the receiver's answer (null: no answer — refused, timed out); `ok` a 2xx.
 */
export type WebhookDeliveryAttempted = DomainEvent<
  "WebhookDeliveryAttempted",
  {
    deliveryId: string;
    webhookId: string;
    projectId: string;
    event: WebhookEventKind;
    releaseId: string | null;
    /** The id of the stored event the delivery tells about. */
    sourceEventId: string;
    attempt: number;
    statusCode: number | null;
    ok: boolean;
    error: string | null;
    at: string;
  }
>;

/** No more attempts: every one failed for as long as the retry policy allows, or the webhook was deleted. */
export type WebhookDeliveryFailed = DomainEvent<
  "WebhookDeliveryFailed",
  {
    deliveryId: string;
    webhookId: string;
    projectId: string;
    event: WebhookEventKind;
    releaseId: string | null;
    sourceEventId: string;
    reason: string;
    at: string;
  }
>;

export type DeliveryEvent = WebhookDeliveryAttempted | WebhookDeliveryFailed;

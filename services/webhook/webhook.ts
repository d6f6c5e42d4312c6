// Webhook: a project's subscription of an http(s) URL to some events of its releases (and freezes). The
// decider holds the rules of creating and deleting one; a delivery's attempts have their own stream and
// evolve (`evolveDelivery`), written by the worker's delivery workflow (workflows/webhooks.workflow.ts).

import { BOUNDS } from "../core/bounds.ts";
import type { Command, Decider } from "../core/decider.ts";
import { DomainError, validation } from "../core/errors.ts";
import { requireHttpUrl } from "../core/urls.ts";
import {
  type DeliveryEvent,
  type SealedSecret,
  WEBHOOK_EVENT_KINDS,
  type WebhookCreated,
  type WebhookDeleted,
  type WebhookEvent,
  type WebhookEventKind,
} from "./events.ts";

export interface Webhook {
  id: string;
  projectId: string;
  url: string;
  events: WebhookEventKind[];
  secret: SealedSecret;
  createdAt: string;
  createdBy: string;
  deletedAt: string | null;
  deletedBy: string | null;
}

export type WebhookState = Webhook | null;

export type CreateWebhook = Command<
  "CreateWebhook",
  {
    webhookId: string;
    projectId: string;
    url: string;
    events: WebhookEventKind[];
    secret: SealedSecret;
    /** Looked up by the caller: whether the project exists, and how many live webhooks it has. */
    projectExists: boolean;
    webhooksInProject: number;
  }
>;
export type DeleteWebhook = Command<"DeleteWebhook", { webhookId: string }>;
export type WebhookCommand = CreateWebhook | DeleteWebhook;

/** The distinct kinds, in the contract's order; VALIDATION for an empty list or an unknown kind. */
export function requireEventKinds(field: string, value: unknown): WebhookEventKind[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw validation(field, `must name at least one of ${WEBHOOK_EVENT_KINDS.join(", ")}`);
  }
  for (const kind of value) {
    if (!WEBHOOK_EVENT_KINDS.includes(kind as WebhookEventKind)) {
      throw validation(field, `must be among ${WEBHOOK_EVENT_KINDS.join(", ")} (got ${String(kind)})`);
    }
  }
  return WEBHOOK_EVENT_KINDS.filter((kind) => value.includes(kind));
}

function createWebhook(command: CreateWebhook, state: WebhookState): WebhookCreated[] {
  if (state !== null) throw new DomainError("CONFLICT", `webhook ${state.id} already exists`);
  const { webhookId, projectId, secret, projectExists, webhooksInProject } = command.data;
  if (!projectExists) throw new DomainError("NOT_FOUND", `project ${projectId} not found`);
  const url = requireHttpUrl("url", command.data.url);
  const events = requireEventKinds("events", command.data.events);
  if (webhooksInProject >= BOUNDS.webhooksPerProject) {
    throw validation("projectId", `a project has at most ${BOUNDS.webhooksPerProject} webhooks`);
  }
  // Not user input: a guard that only a sealed secret reaches the event store.
  if (typeof secret?.sealed !== "string" || !/^[0-9a-f]{16}$/.test(secret.keyId)) {
    throw new DomainError("INTERNAL", "a webhook's secret must be sealed");
  }
  return [
    {
      type: "WebhookCreated",
      data: { webhookId, projectId, url, events, secret, by: command.actor.name, at: command.now },
    },
  ];
}

function deleteWebhook(command: DeleteWebhook, state: WebhookState): WebhookDeleted[] {
  if (state === null) throw new DomainError("NOT_FOUND", `webhook ${command.data.webhookId} not found`);
  // Deleting twice changes nothing: the answer is the deleted webhook either way.
  if (state.deletedAt !== null) return [];
  return [{ type: "WebhookDeleted", data: { webhookId: state.id, by: command.actor.name, at: command.now } }];
}

export function decideWebhook(command: WebhookCommand, state: WebhookState): WebhookEvent[] {
  switch (command.type) {
    case "CreateWebhook":
      return createWebhook(command, state);
    case "DeleteWebhook":
      return deleteWebhook(command, state);
    default: {
      const unknown: never = command;
      throw new DomainError("INTERNAL", `unknown webhook command ${String((unknown as { type: unknown }).type)}`);
    }
  }
}

export function evolveWebhook(state: WebhookState, event: WebhookEvent): WebhookState {
  switch (event.type) {
    case "WebhookCreated": {
      const { webhookId, projectId, url, events, secret, by, at } = event.data;
      return {
        id: webhookId,
        projectId,
        url,
        events,
        secret,
        createdAt: at,
        createdBy: by,
        deletedAt: null,
        deletedBy: null,
      };
    }
    case "WebhookDeleted":
      return state === null ? null : { ...state, deletedAt: event.data.at, deletedBy: event.data.by };
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
}

export const webhookDecider: Decider<WebhookState, WebhookCommand, WebhookEvent> = {
  initialState: () => null,
  evolve: evolveWebhook,
  decide: decideWebhook,
};

// ---- deliveries -------------------------------------------------------------------------------------

export type DeliveryStatus = "PENDING" | "DELIVERED" | "FAILED";

export interface Delivery {
  id: string;
  webhookId: string;
  projectId: string;
  event: WebhookEventKind;
  releaseId: string | null;
  sourceEventId: string;
  /** Attempts made so far (the highest attempt number recorded). */
  attempts: number;
  status: DeliveryStatus;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  /** When its first event was stored. */
  firstAt: string;
}

export type DeliveryState = Delivery | null;

/**
 * A delivery from its attempts. An attempt recorded twice (an activity that ran again after a crash) or
 * late counts once: attempts is the highest number seen, and a DELIVERED or FAILED delivery stays so.
 */
export function evolveDelivery(state: DeliveryState, event: DeliveryEvent): DeliveryState {
  const base: Delivery = state ?? {
    id: event.data.deliveryId,
    webhookId: event.data.webhookId,
    projectId: event.data.projectId,
    event: event.data.event,
    releaseId: event.data.releaseId,
    sourceEventId: event.data.sourceEventId,
    attempts: 0,
    status: "PENDING",
    lastStatusCode: null,
    lastError: null,
    lastAttemptAt: null,
    firstAt: event.data.at,
  };
  switch (event.type) {
    case "WebhookDeliveryAttempted": {
      const { attempt, statusCode, ok, error, at } = event.data;
      const settled = base.status !== "PENDING";
      return {
        ...base,
        attempts: Math.max(base.attempts, attempt),
        status: base.status === "DELIVERED" || ok ? "DELIVERED" : base.status,
        lastStatusCode: settled && !ok ? base.lastStatusCode : statusCode,
        lastError: settled && !ok ? base.lastError : error,
        lastAttemptAt: settled && !ok ? base.lastAttemptAt : at,
      };
    }
    case "WebhookDeliveryFailed":
      return base.status === "DELIVERED" ? base : { ...base, status: "FAILED", lastError: event.data.reason };
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
}

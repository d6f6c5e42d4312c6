import { validation } from "../../services/core/errors.ts";
import { WEBHOOK_EVENT_KINDS } from "../../services/webhook/events.ts";
import type { Delivery, Webhook } from "../../services/webhook/webhook.ts";
import { callerOf, required } from "../access.ts";
import { builder } from "../builder.ts";
import { ProjectRef } from "./Project.ts";

export const WebhookEventEnum = builder.enumType("WebhookEvent", {
  description:
    "What a webhook is told about: APPROVAL_REQUESTED (a phase awaits approval), PHASE_ROLLED_OUT, RELEASE_PAUSED, RELEASE_COMPLETED, RELEASE_ABORTED, GUARDRAIL_TRIPPED, FREEZE_CHANGED (the project was frozen or unfrozen, or its freeze ended).",
  values: WEBHOOK_EVENT_KINDS,
});

/** The most deliveries one `Webhook.deliveries` answers. */
const MAX_DELIVERIES_PAGE = 100;

export const WebhookDeliveryRef = builder.objectRef<Delivery>("WebhookDelivery");

WebhookDeliveryRef.implement({
  description: "One event delivered (or being delivered) to one webhook, with its attempts so far.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The delivery's id: the body's `id`, the same for every attempt." }),
    event: t.field({
      type: WebhookEventEnum,
      description: "What it tells about.",
      resolve: (delivery) => delivery.event,
    }),
    releaseId: t.exposeID("releaseId", { nullable: true, description: "The release it is about (null for a freeze)." }),
    attempts: t.exposeInt("attempts", { description: "Attempts made so far." }),
    status: t.exposeString("status", {
      description:
        "PENDING (retrying with backoff), DELIVERED (a 2xx answer) or FAILED (gave up, or the webhook was deleted).",
    }),
    lastStatusCode: t.exposeInt("lastStatusCode", {
      nullable: true,
      description: "The receiver's HTTP status at the last attempt; null when it did not answer.",
    }),
    lastAttemptAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the last attempt was made.",
      resolve: (delivery) => delivery.lastAttemptAt,
    }),
    lastError: t.exposeString("lastError", {
      nullable: true,
      description: "Why the last attempt failed when there was no answer (refused, timed out), or why it gave up.",
    }),
  }),
});

export const WebhookRef = builder.objectRef<Webhook>("Webhook");

WebhookRef.implement({
  description:
    "JSON deliveries of a project's events to a URL, signed `X-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The webhook's id (the `X-Webhook-Id` header)." }),
    project: t.field({
      type: ProjectRef,
      description: "The project whose events it receives.",
      resolve: (webhook, _args, ctx) =>
        required(ctx.readModels.project(webhook.projectId), "project", webhook.projectId),
    }),
    url: t.exposeString("url", { description: "Where deliveries are POSTed (http or https)." }),
    events: t.field({
      type: [WebhookEventEnum],
      description: "The events it receives.",
      resolve: (webhook) => webhook.events,
    }),
    createdAt: t.field({
      type: "DateTime",
      description: "When it was created.",
      resolve: (webhook) => webhook.createdAt,
    }),
    deliveries: t.field({
      type: [WebhookDeliveryRef],
      description: "Newest first.",
      args: { first: t.arg.int({ defaultValue: 20, description: "How many, newest first (1 to 100)." }) },
      resolve: (webhook, args, ctx) => {
        const first = args.first ?? 20;
        if (first < 1 || first > MAX_DELIVERIES_PAGE) {
          throw validation("first", `must be from 1 to ${MAX_DELIVERIES_PAGE} (got ${first})`);
        }
        return ctx.readModels.deliveries(webhook.id, first);
      },
    }),
  }),
});

export interface CreatedWebhookView {
  webhook: Webhook;
  secret: string;
}

export const CreatedWebhookRef = builder.objectRef<CreatedWebhookView>("CreatedWebhook");

CreatedWebhookRef.implement({
  description: "A new webhook and its HMAC-SHA256 signing secret, shown once.",
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef, description: "The webhook.", resolve: (created) => created.webhook }),
    secret: t.exposeString("secret", {
      description: "The HMAC-SHA256 signing secret, shown once: `X-Signature-256: sha256=<hex HMAC of the body>`.",
    }),
  }),
});

builder.objectField(ProjectRef, "webhooks", (t) =>
  t.field({
    type: [WebhookRef],
    description: "ADMIN; oldest first.",
    authScopes: { admin: true },
    resolve: (project, _args, ctx) => ctx.readModels.webhooks(project.id),
  }),
);

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: CreatedWebhookRef,
    description: "ADMIN; an http(s) URL without credentials; the signing secret is shown once.",
    authScopes: { admin: true },
    args: {
      projectId: t.arg.id({ required: true, description: "The project whose events it receives." }),
      url: t.arg.string({
        required: true,
        description: "An http(s) URL without credentials, at most 2,000 characters.",
      }),
      events: t.arg({
        type: [WebhookEventEnum],
        required: true,
        description: "The events it receives (at least one).",
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.webhook.createWebhook(callerOf(ctx), { projectId: args.projectId, url: args.url, events: args.events }),
  }),
  deleteWebhook: t.field({
    type: WebhookRef,
    description: "ADMIN; no delivery starts from then on, and those retrying stop.",
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true, description: "The webhook." }) },
    resolve: (_root, args, ctx) => ctx.webhook.deleteWebhook(callerOf(ctx), args.id),
  }),
}));

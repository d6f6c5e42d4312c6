import { validation } from "../../services/core/errors.ts";
import { WEBHOOK_EVENT_KINDS } from "../../services/webhook/events.ts";
import type { Delivery, Webhook } from "../../services/webhook/webhook.ts";
import { callerOf, required } from "../access.ts";
import { builder } from "../builder.ts";
import { ProjectRef } from "./Project.ts";

export const WebhookEventEnum = builder.enumType("WebhookEvent", { values: WEBHOOK_EVENT_KINDS });

/** The most deliveries one `Webhook.deliveries` answers. */
const MAX_DELIVERIES_PAGE = 100;

export const WebhookDeliveryRef = builder.objectRef<Delivery>("WebhookDelivery");

WebhookDeliveryRef.implement({
  description: "One event delivered (or being delivered) to one webhook, with its attempts so far.",
  fields: (t) => ({
    id: t.exposeID("id"),
    event: t.field({ type: WebhookEventEnum, resolve: (delivery) => delivery.event }),
    releaseId: t.exposeID("releaseId", { nullable: true }),
    attempts: t.exposeInt("attempts"),
    status: t.exposeString("status", {
      description:
        "PENDING (retrying with backoff), DELIVERED (a 2xx answer) or FAILED (gave up, or the webhook was deleted).",
    }),
    lastStatusCode: t.exposeInt("lastStatusCode", { nullable: true }),
    lastAttemptAt: t.field({ type: "DateTime", nullable: true, resolve: (delivery) => delivery.lastAttemptAt }),
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
    id: t.exposeID("id"),
    project: t.field({
      type: ProjectRef,
      resolve: (webhook, _args, ctx) =>
        required(ctx.readModels.project(webhook.projectId), "project", webhook.projectId),
    }),
    url: t.exposeString("url"),
    events: t.field({ type: [WebhookEventEnum], resolve: (webhook) => webhook.events }),
    createdAt: t.field({ type: "DateTime", resolve: (webhook) => webhook.createdAt }),
    deliveries: t.field({
      type: [WebhookDeliveryRef],
      description: "Newest first.",
      args: { first: t.arg.int({ defaultValue: 20 }) },
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
    webhook: t.field({ type: WebhookRef, resolve: (created) => created.webhook }),
    secret: t.exposeString("secret"),
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
      projectId: t.arg.id({ required: true }),
      url: t.arg.string({ required: true }),
      events: t.arg({ type: [WebhookEventEnum], required: true }),
    },
    resolve: (_root, args, ctx) =>
      ctx.webhook.createWebhook(callerOf(ctx), { projectId: args.projectId, url: args.url, events: args.events }),
  }),
  deleteWebhook: t.field({
    type: WebhookRef,
    description: "ADMIN; no delivery starts from then on, and those retrying stop.",
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.webhook.deleteWebhook(callerOf(ctx), args.id),
  }),
}));

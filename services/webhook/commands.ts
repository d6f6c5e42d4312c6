// The webhook slice's command handlers: load → decide (webhookDecider) → append → read your write.

import { actorOf, type Caller, canSeeProject } from "../core/caller.ts";
import { DomainError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { streams } from "../core/streams.ts";
import { loadStream } from "../event-store/command-handler.ts";
import { type CommandDeps, fromView, runCommand } from "../event-store/command-support.ts";
import { projectDecider } from "../project/project.ts";
import type { WebhookEventKind } from "./events.ts";
import { newWebhookSecret, sealSecret, type WebhookKey } from "./secrets.ts";
import { type Webhook, webhookDecider } from "./webhook.ts";

export interface CreateWebhookInput {
  projectId: string;
  url: string;
  events: WebhookEventKind[];
}

export interface CreatedWebhook {
  webhook: Webhook;
  /** The HMAC-SHA256 signing secret, shown once. */
  secret: string;
}

export interface WebhookCommands {
  createWebhook(caller: Caller, input: CreateWebhookInput): Promise<CreatedWebhook>;
  /** No more deliveries start; those under way stop before their next attempt. Deleting twice answers it unchanged. */
  deleteWebhook(caller: Caller, id: string): Promise<Webhook>;
}

export interface WebhookCommandDeps extends CommandDeps {
  views: {
    webhook(id: string): Webhook | null;
    webhooks(projectId: string): readonly Webhook[];
  };
  /** The installation's key that seals signing secrets (services/webhook/secrets.ts). */
  webhookKey: () => WebhookKey;
}

export function createWebhookCommands(deps: WebhookCommandDeps): WebhookCommands {
  const { store, views } = deps;
  return {
    async createWebhook(caller, input) {
      const { projectId } = input;
      const visible = canSeeProject(caller.auth, projectId);
      const projectExists =
        visible && (await loadStream(store, projectDecider, streams.project(projectId))).state !== null;
      const webhookId = newId();
      const secret = newWebhookSecret();
      await runCommand(
        deps,
        webhookDecider,
        caller,
        { stream: streams.webhook(webhookId), projectId },
        {
          type: "CreateWebhook",
          data: {
            webhookId,
            projectId,
            url: input.url,
            events: input.events,
            secret: sealSecret(deps.webhookKey(), secret),
            projectExists,
            webhooksInProject: projectExists ? views.webhooks(projectId).length : 0,
          },
          actor: actorOf(caller),
          now: deps.now().toISOString(),
        },
      );
      return { webhook: fromView(views.webhook(webhookId), "webhook", webhookId), secret };
    },

    async deleteWebhook(caller, id) {
      const current = views.webhook(id);
      // Another project's webhook answers as a missing one.
      if (current === null || !canSeeProject(caller.auth, current.projectId)) {
        throw new DomainError("NOT_FOUND", `webhook ${id} not found`);
      }
      await runCommand(
        deps,
        webhookDecider,
        caller,
        { stream: streams.webhook(id), projectId: current.projectId },
        { type: "DeleteWebhook", data: { webhookId: id }, actor: actorOf(caller), now: deps.now().toISOString() },
      );
      return fromView(views.webhook(id), "webhook", id);
    },
  };
}

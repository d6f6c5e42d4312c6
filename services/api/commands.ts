// The composition root of the write side: each slice's command handlers, wired to the event store, the
// read models (for read-your-writes), and — for releases — the Temporal workflows. The GraphQL
// resolvers call `ctx.<slice>.<command>(caller, …)`.

import type { Client } from "@temporalio/client";
import { runReleaseAction, startReleaseWorkflow } from "../../workflows/client.ts";
import { newId } from "../core/ids.ts";
import type { EventStore } from "../event-store/port.ts";
import { createFeatureCommands, type FeatureCommands } from "../feature/commands.ts";
import { createPipelineCommands, type PipelineCommands } from "../pipeline/commands.ts";
import type { Logger } from "../platform/logger.ts";
import { createProjectCommands, type ProjectCommands } from "../project/commands.ts";
import type { ReadModels } from "../projections/read-models.ts";
import type { ProjectionRunner } from "../projections/runner.ts";
import { createReleaseCommands, type ReleaseCommands } from "../release/commands.ts";
import type { Release } from "../release/release.ts";
import { createSdkKeyCommands, type SdkKeyCommands } from "../sdk-key/commands.ts";
import { createTokenCommands, type TokenCommands } from "../token/commands.ts";
import { createWebhookCommands, type WebhookCommands } from "../webhook/commands.ts";
import type { WebhookKey } from "../webhook/secrets.ts";
import { webhookKeyFrom } from "../webhook/secrets.ts";
import { createIdempotencyGuard } from "./idempotency.ts";

export interface Commands {
  project: ProjectCommands;
  token: TokenCommands;
  pipeline: PipelineCommands;
  feature: FeatureCommands<Release>;
  release: ReleaseCommands;
  webhook: WebhookCommands;
  sdkKey: SdkKeyCommands;
}

export interface CommandsDeps {
  store: EventStore;
  readModels: ReadModels;
  runner: Pick<ProjectionRunner, "waitFor" | "onEvent">;
  temporal: { client: Client; taskQueue?: string };
  logger: Logger;
  now?: () => Date;
  /**
   * Seals webhook signing secrets; the worker that delivers must have the same (services/webhook/secrets.ts).
   * Unset (tests that deliver nothing): a key of this process's own.
   */
  webhookKey?: WebhookKey;
  /** How long a release start waits for the workflow's first step to show (default 5 s). */
  releaseStartWaitMs?: number;
  /** How long an action waits for the read model to reach the Update's version (default 10 s). */
  actionWaitMs?: number;
  /** Replaces some slices' handlers (tests inject failures). */
  overrides?: Partial<Commands>;
}

export function createCommands(deps: CommandsDeps): Commands {
  const { store, readModels: views, logger } = deps;
  const base = { store, projections: deps.runner, now: deps.now ?? (() => new Date()) };
  const { client, taskQueue } = deps.temporal;
  let webhookKey = deps.webhookKey;
  const release =
    deps.overrides?.release ??
    createReleaseCommands({
      ...base,
      views,
      logger,
      workflows: {
        start: async (releaseId) => {
          await startReleaseWorkflow(client, releaseId, { taskQueue });
        },
        act: (releaseId, action, input, updateId) => runReleaseAction(client, releaseId, action, input, { updateId }),
      },
      idempotency: createIdempotencyGuard(),
      ...(deps.releaseStartWaitMs !== undefined && { startWaitMs: deps.releaseStartWaitMs }),
      ...(deps.actionWaitMs !== undefined && { actionWaitMs: deps.actionWaitMs }),
    });
  return {
    project: deps.overrides?.project ?? createProjectCommands({ ...base, views }),
    token: deps.overrides?.token ?? createTokenCommands({ ...base, views }),
    pipeline: deps.overrides?.pipeline ?? createPipelineCommands({ ...base, views }),
    feature: deps.overrides?.feature ?? createFeatureCommands({ ...base, views, releases: release, logger }),
    release,
    webhook:
      deps.overrides?.webhook ??
      createWebhookCommands({ ...base, views, webhookKey: () => (webhookKey ??= webhookKeyFrom(newId())) }),
    sdkKey: deps.overrides?.sdkKey ?? createSdkKeyCommands({ ...base, views }),
  };
}

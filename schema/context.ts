// The GraphQL context: who is calling, and the application's ports. Built per request (HTTP/SSE) or per
// subscription (graphql-ws) by services/api/app.ts.

import type { AuditIndex } from "../services/audit/audit-index.ts";
import type { AuthInfo, RequestInfo } from "../services/core/caller.ts";
import type { EventStore } from "../services/event-store/port.ts";
import type { FeatureCommands } from "../services/feature/commands.ts";
import type { LiveFeed } from "../services/live/feed.ts";
import type { PipelineCommands } from "../services/pipeline/commands.ts";
import type { ProjectCommands } from "../services/project/commands.ts";
import type { ReadModels } from "../services/projections/read-models.ts";
import type { ReleaseCommands } from "../services/release/commands.ts";
import type { Release } from "../services/release/release.ts";
import type { SdkKeyCommands } from "../services/sdk-key/commands.ts";
import type { TokenCommands } from "../services/token/commands.ts";
import type { WebhookCommands } from "../services/webhook/commands.ts";
import type { AsOfLoader } from "./as-of.ts";

export type { AuthInfo, RequestInfo } from "../services/core/caller.ts";

/**
 * Mutations: `ctx.<slice>.<command>(caller, …)`, each slice's command handlers (wired by
 * services/api/commands.ts, whose `Commands` has these same members).
 */
export interface ApiContext {
  project: ProjectCommands;
  token: TokenCommands;
  pipeline: PipelineCommands;
  feature: FeatureCommands<Release>;
  release: ReleaseCommands;
  webhook: WebhookCommands;
  sdkKey: SdkKeyCommands;
  auth: AuthInfo | null;
  request: RequestInfo;
  readModels: ReadModels;
  audit: AuditIndex;
  store: EventStore;
  /** Audit replay: entities as of a point, folded once per request (see schema/as-of.ts). */
  asOf: AsOfLoader;
  /** Subscriptions: live changes from the projection runner. */
  live: LiveFeed;
  /** Wall-clock time (an input, so tests can fix it). */
  now: () => Date;
}

// The GraphQL context: who is calling, and the application's ports. Built per request (HTTP/SSE) or per
// subscription (graphql-ws) by services/api/app.ts.

import type { ApiApplication } from "../services/api/application/application.ts";
import type { LiveFeed } from "../services/api/live.ts";
import type { AuditIndex } from "../services/audit/audit-index.ts";
import type { Role } from "../services/core/model.ts";
import type { EventStore } from "../services/event-store/port.ts";
import type { ReadModels } from "../services/projections/read-models.ts";
import type { SdkKeyCommands } from "../services/sdk-key/commands.ts";
import type { AsOfLoader } from "./as-of.ts";

/** The caller's API token (its secret never leaves the auth step). */
export interface AuthInfo {
  tokenId: string;
  name: string;
  role: Role;
  /** A token bound to a project sees only that project. */
  projectId: string | null;
}

/** What a mutation carries into the events it stores and into Temporal Update ids. */
export interface RequestInfo {
  /** Correlation id of every event the request stores (a fresh uuid, or `X-Request-Id`). */
  correlationId: string;
  /** `Idempotency-Key` header, when given: a retried request with the same key is applied once. */
  idempotencyKey: string | null;
  /**
   * `X-Request-Id` header, when given: without an Idempotency-Key, a release action retried with the same
   * request id is applied once too (decision 0009).
   */
  requestId: string | null;
}

export interface ApiContext {
  auth: AuthInfo | null;
  request: RequestInfo;
  readModels: ReadModels;
  audit: AuditIndex;
  store: EventStore;
  /** Audit replay: entities as of a point, folded once per request (see schema/as-of.ts). */
  asOf: AsOfLoader;
  /** Mutations: the application services (command handlers and workflow Updates). */
  commands: ApiApplication;
  /** SDK keys' commands (their slice's own module). */
  sdkKeys: SdkKeyCommands;
  /** Subscriptions: live changes from the projection runner. */
  live: LiveFeed;
  /** Wall-clock time (an input, so tests can fix it). */
  now: () => Date;
}

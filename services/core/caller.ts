// Who a command is by: the caller's API token and the request's ids. A services type: the API builds it
// from the request (services/api/app.ts); the slices' command handlers take it as their first argument.

import type { Actor, Role } from "./model.ts";

/** The caller's API token (its secret never leaves the auth step). */
export interface AuthInfo {
  tokenId: string;
  name: string;
  role: Role;
  /** A token bound to a project sees only that project. */
  projectId: string | null;
  /** When the token stops working (its subscriptions end then too); null or missing: never. */
  expiresAt?: string | null;
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

/** Who a mutation is by. */
export interface Caller {
  auth: AuthInfo;
  request: RequestInfo;
}

/**
 * Visibility: a token bound to a project sees only that project; anything else answers NOT_FOUND, the
 * same as a missing entity, so a scoped token cannot even learn that another project's ids exist.
 */
export const canSeeProject = (auth: AuthInfo | null, projectId: string | null): boolean =>
  auth !== null && (auth.projectId === null || auth.projectId === projectId);

/** The actor a command is decided for: the token's name and role. */
export const actorOf = (caller: Caller): Actor => ({ name: caller.auth.name, role: caller.auth.role });

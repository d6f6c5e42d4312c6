import type { DomainEvent } from "../core/event.ts";
import type { Role } from "../core/model.ts";

/**
 * The secret itself is never stored: only its SHA-256 hash (hex). `createdBy` and `expiresAt` were added
 * later: events stored before them read as unknown creator and no expiry.
 */
export type ApiTokenCreated = DomainEvent<
  "ApiTokenCreated",
  {
    tokenId: string;
    name: string;
    role: Role;
    projectId: string | null;
    secretHash: string;
    at: string;
    createdBy?: string;
    expiresAt?: string | null;
  }
>;

/** The token stops working at once; its open subscriptions end. */
export type ApiTokenRevoked = DomainEvent<"ApiTokenRevoked", { tokenId: string; by: string; at: string }>;

/**
 * The bootstrap ADMIN token's secret was replaced (ADMIN_TOKEN set to a new value on an existing
 * installation): the old secret stops working. Only the new secret's hash is stored.
 */
export type ApiTokenSecretRotated = DomainEvent<
  "ApiTokenSecretRotated",
  { tokenId: string; secretHash: string; at: string }
>;

export type TokenEvent = ApiTokenCreated | ApiTokenRevoked | ApiTokenSecretRotated;

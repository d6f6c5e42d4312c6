import type { DomainEvent } from "../core/event.ts";
import type { Role } from "../core/model.ts";

/** The secret itself is never stored: only its SHA-256 hash (hex). */
export type ApiTokenCreated = DomainEvent<
  "ApiTokenCreated",
  { tokenId: string; name: string; role: Role; projectId: string | null; secretHash: string; at: string }
>;

export type TokenEvent = ApiTokenCreated;

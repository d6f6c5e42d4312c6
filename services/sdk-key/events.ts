import type { DomainEvent } from "../core/event.ts";

/** The secret itself is never stored: only its SHA-256 hash (hex). */
export type SdkKeyCreated = DomainEvent<
  "SdkKeyCreated",
  { keyId: string; projectId: string; environment: string; name: string; secretHash: string; at: string; by: string }
>;

export type SdkKeyRevoked = DomainEvent<"SdkKeyRevoked", { keyId: string; at: string; by: string }>;

export type SdkKeyEvent = SdkKeyCreated | SdkKeyRevoked;

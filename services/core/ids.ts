// Ids and secrets made at the edge (the domain takes them as inputs).

import { createHash, randomBytes, randomUUID } from "node:crypto";
import { normalizeTokenName } from "./names.ts";

export const newId = (): string => randomUUID();

/** A UUID-shaped id derived from text (SHA-256), so the same input always names the same stream. */
export function idFromText(text: string): string {
  const hex = createHash("sha256").update(text).digest("hex");
  // Version 8 (custom) and the RFC 4122 variant, so it is a well-formed UUID.
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A feature's id is derived from (project, key): two concurrent creations of one key append to the same
 * `feature-<id>` stream, and the store's no_stream check turns the second into CONFLICT atomically.
 */
export const featureIdFor = (projectId: string, key: string, generation = 0): string =>
  idFromText(
    generation === 0
      ? `feature\u0000${projectId}\u0000${key}`
      : `feature\u0000${projectId}\u0000${key}\u0000${generation}`,
  );

/**
 * A release's id is derived from its feature and its ordinal: `<featureId>.<n>`, n = the number of
 * releases the feature had when the release was decided, plus one. Two racing starts of one feature
 * decide the same id, so besides the feature stream's lock (its expected revision) the `release-<id>`
 * stream's no_stream check and Temporal's workflow id refuse the second: one running release per feature
 * holds even if one guard were bypassed.
 */
export const releaseIdFor = (featureId: string, ordinal: number): string => `${featureId}.${ordinal}`;

/**
 * An API token's id is derived from its name: token names are unique across the installation (a name is
 * the actor of the token's events and the identity an approval counts), and two concurrent creations of
 * one name append to the same `apitoken-<id>` stream, where the store's no_stream check turns the second
 * into CONFLICT atomically. Derived from the normalised name, so "Amy" and "amy" meet on one stream.
 */
export const tokenIdFor = (name: string): string => idFromText(`apitoken\u0000${normalizeTokenName(name)}`);

/** A new API token secret: 32 random bytes, base64url, with a recognizable prefix. */
export const newTokenSecret = (): string => `rp_${randomBytes(32).toString("base64url")}`;

/** What is stored of a secret: its SHA-256, lowercase hex. */
export const hashSecret = (secret: string): string => createHash("sha256").update(secret, "utf8").digest("hex");

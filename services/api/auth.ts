// Bearer tokens: the secret is hashed (SHA-256) and looked up in the read models; it is never stored or
// logged. A fresh installation gets an ADMIN token, printed once (or taken from ADMIN_TOKEN).

import type { AuthInfo } from "../core/caller.ts";
import { isDomainError } from "../core/errors.ts";
import { hashSecret, newTokenSecret, tokenIdFor } from "../core/ids.ts";
import { streams } from "../core/streams.ts";
import { handleCommand } from "../event-store/command-handler.ts";
import type { EventStore } from "../event-store/port.ts";
import type { Logger } from "../platform/logger.ts";
import type { ReadModels } from "../projections/read-models.ts";
import type { ProjectionRunner } from "../projections/runner.ts";
import { tokenDecider } from "../token/token.ts";

/** The secret of `Authorization: Bearer <secret>`, or null. */
export function bearerSecret(header: string | null | undefined): string | null {
  if (typeof header !== "string") return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** graphql-ws connection params: `{ authorization: "Bearer …" }` or `{ token: "…" }`. */
export function secretFromConnectionParams(
  params: Readonly<Record<string, unknown>> | undefined | null,
): string | null {
  if (!params) return null;
  const authorization = params.authorization ?? params.Authorization;
  if (typeof authorization === "string") return bearerSecret(authorization);
  return typeof params.token === "string" && params.token.trim() !== "" ? params.token.trim() : null;
}

export function authenticate(readModels: ReadModels, secret: string | null): AuthInfo | null {
  if (secret === null) return null;
  const token = readModels.tokenByHash(hashSecret(secret));
  return token === null ? null : { tokenId: token.id, name: token.name, role: token.role, projectId: token.projectId };
}

export interface EnsureAdminTokenOptions {
  store: EventStore;
  readModels: ReadModels;
  runner: Pick<ProjectionRunner, "waitFor" | "ready">;
  /** ADMIN_TOKEN, when set. */
  adminToken?: string | undefined;
  logger?: Logger;
  /** Where the generated secret is shown once (default: stdout). */
  print?: (line: string) => void;
  now?: () => Date;
}

export interface EnsureAdminTokenResult {
  /** Whether this call stored a new token. */
  created: boolean;
  /** The generated secret, when one was generated (already printed). */
  secret: string | null;
}

/** The bootstrap token's name. */
const ADMIN_NAME = "admin";

/**
 * First start (no token at all): an ADMIN token named "admin", its secret from ADMIN_TOKEN or random (then
 * printed once). With ADMIN_TOKEN set and no token of that secret: that token is added, named "admin", or
 * `admin-<first 12 hex of its hash>` when "admin" is taken (token names are unique). Token ids derive from
 * names, so API processes starting together on one store create it once: the second append meets
 * `no_stream` and CONFLICT, and is ignored.
 */
export async function ensureAdminToken(options: EnsureAdminTokenOptions): Promise<EnsureAdminTokenResult> {
  const { store, readModels, runner } = options;
  await runner.ready;
  const given = options.adminToken;
  if (given !== undefined) {
    if (readModels.tokenByHash(hashSecret(given)) !== null) return { created: false, secret: null };
  } else if (readModels.tokenCount() > 0) {
    return { created: false, secret: null };
  }
  const secret = given ?? newTokenSecret();
  const secretHash = hashSecret(secret);
  const names = given === undefined ? [ADMIN_NAME] : [ADMIN_NAME, `${ADMIN_NAME}-${secretHash.slice(0, 12)}`];
  for (const name of names) {
    const tokenId = tokenIdFor(name);
    const at = (options.now?.() ?? new Date()).toISOString();
    try {
      const result = await handleCommand(store, tokenDecider, {
        stream: streams.token(tokenId),
        command: {
          type: "CreateApiToken",
          data: { tokenId, name, role: "ADMIN", projectId: null, secretHash, projectExists: false },
          actor: { name: "system", role: "ADMIN" },
          now: at,
        },
        metadata: { actor: "system", occurredAt: at, correlationId: tokenId, projectId: null },
      });
      if (result.position !== null) await runner.waitFor(result.position);
    } catch (error) {
      if (!(isDomainError(error) && error.code === "CONFLICT")) throw error;
      // The name is taken. By another process starting with the same secret (it printed it, if generated)?
      if (given === undefined) return { created: false, secret: null };
      const head = await store.headPosition();
      if (head !== null) await runner.waitFor(head);
      if (readModels.tokenByHash(secretHash) !== null) return { created: false, secret: null };
      continue;
    }
    if (given === undefined) {
      (options.print ?? ((line) => process.stdout.write(`${line}\n`)))(`ADMIN token (shown once): ${secret}`);
      return { created: true, secret };
    }
    options.logger?.info({ name }, "created the ADMIN token given by ADMIN_TOKEN");
    return { created: true, secret: null };
  }
  throw new Error(`could not create the ADMIN_TOKEN token: the names ${names.join(", ")} are taken`);
}

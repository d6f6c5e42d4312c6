// Bearer tokens: the secret is hashed (SHA-256) and looked up in the read models; it is never stored or
// logged. A fresh installation gets an ADMIN token, printed once in a banner and saved under DATA_DIR (or
// taken from ADMIN_TOKEN, which on an existing installation rotates that token's secret).

import { chmodSync, existsSync, mkdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AuthInfo } from "../core/caller.ts";
import { isDomainError } from "../core/errors.ts";
import { hashSecret, newTokenSecret, tokenIdFor } from "../core/ids.ts";
import { streams } from "../core/streams.ts";
import { handleCommand } from "../event-store/command-handler.ts";
import type { EventStore } from "../event-store/port.ts";
import type { Logger } from "../platform/logger.ts";
import type { ReadModels } from "../projections/read-models.ts";
import type { ProjectionRunner } from "../projections/runner.ts";
import { isTokenActive, tokenDecider } from "../token/token.ts";

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

/** The caller of `secret`: null for no secret, an unknown one, or a revoked or expired token's. */
export function authenticate(readModels: ReadModels, secret: string | null, now: Date = new Date()): AuthInfo | null {
  if (secret === null || secret.length > MAX_SECRET_CHARS) return null;
  const token = readModels.tokenByHash(hashSecret(secret));
  if (token === null || !isTokenActive(token, now)) return null;
  return {
    tokenId: token.id,
    name: token.name,
    role: token.role,
    projectId: token.projectId,
    expiresAt: token.expiresAt,
  };
}

/** Longer bearer values are no secret of ours (ours are ~46 characters): not even hashed. */
const MAX_SECRET_CHARS = 512;

export interface EnsureAdminTokenOptions {
  store: EventStore;
  readModels: ReadModels;
  runner: Pick<ProjectionRunner, "waitFor" | "ready">;
  /** ADMIN_TOKEN, when set. */
  adminToken?: string | undefined;
  /** DATA_DIR: a generated secret is also written to `<dataDir>/admin-token` (mode 0600). */
  dataDir?: string | undefined;
  logger?: Logger;
  /** Where the banner with a generated secret is shown once (default: stderr, outside the JSON logs). */
  print?: (banner: string) => void;
  now?: () => Date;
}

export interface EnsureAdminTokenResult {
  /** Whether this call stored a new token. */
  created: boolean;
  /** Whether this call replaced the bootstrap ADMIN token's secret with ADMIN_TOKEN. */
  rotated: boolean;
  /** The generated secret, when one was generated (already printed). */
  secret: string | null;
  /** The file the generated secret was written to, when it was. */
  file: string | null;
}

/** The bootstrap token's name. */
export const ADMIN_NAME = "admin";
/** The file under DATA_DIR that holds a generated bootstrap ADMIN secret. */
export const ADMIN_TOKEN_FILE = "admin-token";
/** The banner's line that carries the secret (tests and scripts look for it). */
export const ADMIN_BANNER_PREFIX = "ADMIN token (shown once): ";

const nothing: EnsureAdminTokenResult = { created: false, rotated: false, secret: null, file: null };

/** The banner a person sees on the terminal, outside the JSON log lines. */
export function adminTokenBanner(secret: string, file: string | null): string {
  const rule = "=".repeat(72);
  const lines = [rule, `${ADMIN_BANNER_PREFIX}${secret}`];
  if (file !== null) {
    lines.push(`Saved to ${file} (readable only by this user).`);
    lines.push(`Use it as the header  Authorization: Bearer <token>  or for the CLI:`);
    lines.push(`  export RP_TOKEN="$(cat ${file})"`);
  } else {
    lines.push("Use it as the header  Authorization: Bearer <token>  (it is not stored anywhere).");
  }
  lines.push(rule);
  return `\n${lines.join("\n")}\n`;
}

/** Writes the generated secret to `<dataDir>/admin-token`, readable by the owner only. */
function saveSecret(dataDir: string, secret: string, logger: Logger | undefined): string | null {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  try {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    chmodSync(file, 0o600); // `mode` applies only when the file is created
    return file;
  } catch (error) {
    logger?.warn({ err: error, file }, "could not save the ADMIN token to a file; it is printed once only");
    return null;
  }
}

/** A saved generated secret that no longer works (rotated) is removed, so the file never lies. */
function forgetSavedSecret(dataDir: string | undefined, logger: Logger | undefined): void {
  if (dataDir === undefined) return;
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  if (!existsSync(file)) return;
  try {
    unlinkSync(file);
    logger?.info({ file }, "removed the saved ADMIN token: its secret was rotated");
  } catch (error) {
    logger?.warn({ err: error, file }, "could not remove the saved ADMIN token, whose secret no longer works");
  }
}

/**
 * The bootstrap ADMIN token, named "admin" (docs/decisions/0028-admin-token-rotation.md):
 * - first start without ADMIN_TOKEN: a random secret, shown once in a banner on stderr and saved to
 *   `<DATA_DIR>/admin-token` (mode 0600);
 * - first start with ADMIN_TOKEN: that secret;
 * - a later start with ADMIN_TOKEN set to a secret no token has: the "admin" token's secret is ROTATED to
 *   it (the old secret stops working; an event `ApiTokenSecretRotated` records it). It never adds a second
 *   ADMIN. This is also how a lost ADMIN secret is recovered;
 * - ADMIN_TOKEN equal to another token's secret: nothing changes, with a warning.
 * Token ids derive from names, so API processes starting together on one store create it once (the second
 * append meets `no_stream`: CONFLICT, ignored) and rotate it once (the decider answers no event when the
 * secret is already the given one).
 */
export async function ensureAdminToken(options: EnsureAdminTokenOptions): Promise<EnsureAdminTokenResult> {
  const { store, readModels, runner, logger, dataDir } = options;
  await runner.ready;
  const given = options.adminToken;
  const tokenId = tokenIdFor(ADMIN_NAME);
  const at = (): string => (options.now?.() ?? new Date()).toISOString();
  const metadata = (occurredAt: string) => ({
    actor: "system",
    occurredAt,
    correlationId: tokenId,
    projectId: null,
  });

  if (given !== undefined) {
    const secretHash = hashSecret(given);
    const holder = readModels.tokenByHash(secretHash);
    if (holder !== null) {
      if (holder.id !== tokenId) {
        logger?.warn(
          { tokenName: holder.name, role: holder.role },
          `ADMIN_TOKEN is the secret of the token "${holder.name}" (${holder.role}), not of the bootstrap ADMIN token "admin": nothing changed`,
        );
      }
      return nothing;
    }
    if (readModels.token(tokenId) !== null) {
      const now = at();
      try {
        const result = await handleCommand(store, tokenDecider, {
          stream: streams.token(tokenId),
          command: {
            type: "RotateApiTokenSecret",
            data: { tokenId, secretHash },
            actor: { name: "system", role: "ADMIN" },
            now,
          },
          metadata: metadata(now),
        });
        if (result.position !== null) await runner.waitFor(result.position);
      } catch (error) {
        if (!(isDomainError(error) && error.code === "CONFLICT")) throw error;
        // Another API process rotated it at the same moment: fine if to the same secret.
        const head = await store.headPosition();
        if (head !== null) await runner.waitFor(head);
        if (readModels.tokenByHash(secretHash)?.id !== tokenId) throw error;
        return nothing;
      }
      forgetSavedSecret(dataDir, logger);
      logger?.warn(
        { tokenName: ADMIN_NAME },
        'ADMIN_TOKEN differs from the bootstrap ADMIN token\'s secret: the "admin" token now has the ADMIN_TOKEN secret; the old secret no longer works',
      );
      return { created: false, rotated: true, secret: null, file: null };
    }
  } else if (readModels.tokenCount() > 0) {
    return nothing;
  }

  const secret = given ?? newTokenSecret();
  const secretHash = hashSecret(secret);
  const now = at();
  try {
    const result = await handleCommand(store, tokenDecider, {
      stream: streams.token(tokenId),
      command: {
        type: "CreateApiToken",
        data: { tokenId, name: ADMIN_NAME, role: "ADMIN", projectId: null, secretHash, projectExists: false },
        actor: { name: "system", role: "ADMIN" },
        now,
      },
      metadata: metadata(now),
    });
    if (result.position !== null) await runner.waitFor(result.position);
  } catch (error) {
    if (!(isDomainError(error) && error.code === "CONFLICT")) throw error;
    // Another process starting at the same moment created it (and printed it, if generated).
    if (given === undefined) return nothing;
    const head = await store.headPosition();
    if (head !== null) await runner.waitFor(head);
    if (readModels.tokenByHash(secretHash) !== null) return nothing;
    // It was created with another secret: rotate to ours.
    return ensureAdminToken(options);
  }
  if (given !== undefined) {
    logger?.info({ tokenName: ADMIN_NAME }, "created the ADMIN token given by ADMIN_TOKEN");
    return { created: true, rotated: false, secret: null, file: null };
  }
  const file = dataDir === undefined ? null : saveSecret(dataDir, secret, logger);
  (options.print ?? ((banner) => process.stderr.write(banner)))(adminTokenBanner(secret, file));
  logger?.info(
    { tokenName: ADMIN_NAME, file },
    file === null
      ? "created the ADMIN token (its secret was printed once on stderr)"
      : `created the ADMIN token; its secret is in ${file}`,
  );
  return { created: true, rotated: false, secret, file };
}

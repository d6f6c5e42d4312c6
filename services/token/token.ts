// API token: a name, a role, optionally bound to one project, optionally expiring, revocable. Only the
// secret's SHA-256 hash is stored; the secret is made and hashed at the edge and shown once.
//
// A token's name is who acted and who approved, so names are compared as people read them: trimmed,
// Unicode NFKC-normalised and case-insensitive ("Amy", "amy" and "ａｍｙ" are one name). `system` and
// `unknown` are reserved: they name the service's own actions and events without a known actor.

import type { Command, Decider } from "../core/decider.ts";
import { DomainError, validation } from "../core/errors.ts";
import { ROLES, type Role } from "../core/model.ts";
import { normalizeTokenName } from "../core/names.ts";
import { requireName } from "../project/project.ts";
import type { ApiTokenCreated, ApiTokenRevoked, ApiTokenSecretRotated, TokenEvent } from "./events.ts";

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  projectId: string | null;
  secretHash: string;
  createdAt: string;
  /** Token name of the ADMIN who created it; "unknown" for tokens stored before it was recorded. */
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
}

export type TokenState = ApiToken | null;

export type CreateApiToken = Command<
  "CreateApiToken",
  {
    tokenId: string;
    name: string;
    role: Role;
    projectId: string | null;
    /** SHA-256 of the secret, lowercase hex. */
    secretHash: string;
    /** Whether `projectId` names an existing project (looked up by the caller). */
    projectExists: boolean;
    /** ISO instant; must be in the future. */
    expiresAt?: string | null;
  }
>;

export type RevokeApiToken = Command<"RevokeApiToken", { tokenId: string }>;

/** Names no token may take: the actor of the service's own transitions, and of events without one. */
export const RESERVED_TOKEN_NAMES: readonly string[] = ["system", "unknown"];

export { normalizeTokenName, sameActor } from "../core/names.ts";

/** A token is active until it is revoked or its expiry passes. */
export const isTokenActive = (token: ApiToken, now: Date): boolean =>
  token.revokedAt === null && (token.expiresAt === null || Date.parse(token.expiresAt) > now.getTime());

/**
 * The active token named `name` (compared normalised), or null: unknown, revoked and expired tokens are
 * no one. `lookup` is the read models' index by normalised name. For the API's auth and for workflow
 * signals, whose actor must be an existing, unrevoked token with the role the action needs.
 */
export function activeTokenNamed(
  lookup: { tokenByName(normalizedName: string): ApiToken | null },
  name: string,
  now: Date,
): ApiToken | null {
  if (typeof name !== "string") return null;
  const token = lookup.tokenByName(normalizeTokenName(name));
  return token !== null && isTokenActive(token, now) ? token : null;
}

/** Replace a token's secret (the bootstrap ADMIN token's, from ADMIN_TOKEN): the old one stops working. */
export type RotateApiTokenSecret = Command<"RotateApiTokenSecret", { tokenId: string; secretHash: string }>;

export type TokenCommand = CreateApiToken | RevokeApiToken | RotateApiTokenSecret;

const SHA256_HEX = /^[0-9a-f]{64}$/;

function createApiToken(command: CreateApiToken, state: TokenState): ApiTokenCreated[] {
  if (state !== null) throw new DomainError("CONFLICT", `API token ${state.id} already exists`);
  const { tokenId, name, role, projectId, secretHash, projectExists } = command.data;
  const trimmed = requireName("name", typeof name === "string" ? name.normalize("NFKC") : name);
  if (RESERVED_TOKEN_NAMES.includes(normalizeTokenName(trimmed))) {
    throw validation("name", `"${trimmed}" is reserved (${RESERVED_TOKEN_NAMES.join(", ")} name the service itself)`);
  }
  if (!ROLES.includes(role)) throw validation("role", `must be one of ${ROLES.join(", ")} (got ${String(role)})`);
  const expiresAt = command.data.expiresAt ?? null;
  if (expiresAt !== null && !(Date.parse(expiresAt) > Date.parse(command.now))) {
    throw validation("expiresAt", `must be in the future (got ${expiresAt}, now ${command.now})`);
  }
  if (projectId !== null && !projectExists) throw new DomainError("NOT_FOUND", `project ${projectId} not found`);
  // Not user input: a guard that a raw secret never reaches the event store.
  if (!SHA256_HEX.test(secretHash)) throw new DomainError("INTERNAL", "secretHash must be a SHA-256 hex digest");
  return [
    {
      type: "ApiTokenCreated",
      data: {
        tokenId,
        name: trimmed,
        role,
        projectId,
        secretHash,
        at: command.now,
        createdBy: command.actor.name,
        expiresAt,
      },
    },
  ];
}

function revokeApiToken(command: RevokeApiToken, state: TokenState): ApiTokenRevoked[] {
  if (state === null) throw new DomainError("NOT_FOUND", `API token ${command.data.tokenId} not found`);
  // Revoking twice changes nothing: the answer is the revoked token either way.
  if (state.revokedAt !== null) return [];
  return [{ type: "ApiTokenRevoked", data: { tokenId: state.id, by: command.actor.name, at: command.now } }];
}

function rotateApiTokenSecret(command: RotateApiTokenSecret, state: TokenState): ApiTokenSecretRotated[] {
  const { tokenId, secretHash } = command.data;
  if (state === null) throw new DomainError("NOT_FOUND", `API token ${tokenId} not found`);
  if (!SHA256_HEX.test(secretHash)) throw new DomainError("INTERNAL", "secretHash must be a SHA-256 hex digest");
  // Already this secret (another API process rotated it first): nothing to do.
  if (state.secretHash === secretHash) return [];
  return [{ type: "ApiTokenSecretRotated", data: { tokenId, secretHash, at: command.now } }];
}

export function decideToken(command: TokenCommand, state: TokenState): TokenEvent[] {
  switch (command.type) {
    case "CreateApiToken":
      return createApiToken(command, state);
    case "RevokeApiToken":
      return revokeApiToken(command, state);
    case "RotateApiTokenSecret":
      return rotateApiTokenSecret(command, state);
    default: {
      const unknown: never = command;
      throw new DomainError("INTERNAL", `unknown token command ${String((unknown as { type: unknown }).type)}`);
    }
  }
}

export function evolveToken(state: TokenState, event: TokenEvent): TokenState {
  switch (event.type) {
    case "ApiTokenCreated": {
      const { tokenId, name, role, projectId, secretHash, at } = event.data;
      return {
        id: tokenId,
        name,
        role,
        projectId,
        secretHash,
        createdAt: at,
        createdBy: event.data.createdBy ?? "unknown",
        expiresAt: event.data.expiresAt ?? null,
        revokedAt: null,
        revokedBy: null,
      };
    }
    case "ApiTokenRevoked":
      return state === null ? null : { ...state, revokedAt: event.data.at, revokedBy: event.data.by };
    case "ApiTokenSecretRotated":
      return state === null ? state : { ...state, secretHash: event.data.secretHash };
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
}

export const tokenDecider: Decider<TokenState, TokenCommand, TokenEvent> = {
  initialState: () => null,
  evolve: evolveToken,
  decide: decideToken,
};

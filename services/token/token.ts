// API token: a name, a role, optionally bound to one project. Only the secret's SHA-256 hash is
// stored; the secret is made and hashed at the edge and shown once.

import type { Command, Decider } from "../core/decider.ts";
import { DomainError, validation } from "../core/errors.ts";
import { ROLES, type Role } from "../core/model.ts";
import { requireName } from "../project/project.ts";
import type { ApiTokenCreated, TokenEvent } from "./events.ts";

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  projectId: string | null;
  secretHash: string;
  createdAt: string;
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
  }
>;

export type TokenCommand = CreateApiToken;

const SHA256_HEX = /^[0-9a-f]{64}$/;

function createApiToken(command: CreateApiToken, state: TokenState): ApiTokenCreated[] {
  if (state !== null) throw new DomainError("CONFLICT", `API token ${state.id} already exists`);
  const { tokenId, name, role, projectId, secretHash, projectExists } = command.data;
  const trimmed = requireName("name", name);
  if (!ROLES.includes(role)) throw validation("role", `must be one of ${ROLES.join(", ")} (got ${String(role)})`);
  if (projectId !== null && !projectExists) throw new DomainError("NOT_FOUND", `project ${projectId} not found`);
  // Not user input: a guard that a raw secret never reaches the event store.
  if (!SHA256_HEX.test(secretHash)) throw new DomainError("INTERNAL", "secretHash must be a SHA-256 hex digest");
  return [
    {
      type: "ApiTokenCreated",
      data: { tokenId, name: trimmed, role, projectId, secretHash, at: command.now },
    },
  ];
}

export function decideToken(command: TokenCommand, state: TokenState): TokenEvent[] {
  switch (command.type) {
    case "CreateApiToken":
      return createApiToken(command, state);
    default: {
      const unknown: never = command.type;
      throw new DomainError("INTERNAL", `unknown token command ${String(unknown)}`);
    }
  }
}

export function evolveToken(state: TokenState, event: TokenEvent): TokenState {
  switch (event.type) {
    case "ApiTokenCreated": {
      const { tokenId, name, role, projectId, secretHash, at } = event.data;
      return { id: tokenId, name, role, projectId, secretHash, createdAt: at };
    }
    default: {
      const _exhaustive: never = event.type;
      return state;
    }
  }
}

export const tokenDecider: Decider<TokenState, TokenCommand, TokenEvent> = {
  initialState: () => null,
  evolve: evolveToken,
  decide: decideToken,
};

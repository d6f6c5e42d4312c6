// The token slice's command handlers: load → decide (tokenDecider) → append → read your write.

import { actorOf, type Caller } from "../core/caller.ts";
import { DomainError, isDomainError } from "../core/errors.ts";
import { hashSecret, newTokenSecret, tokenIdFor } from "../core/ids.ts";
import type { Role } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import { handleCommand, loadStream } from "../event-store/command-handler.ts";
import { type CommandDeps, caughtUp, commandMetadata, fromView } from "../event-store/command-support.ts";
import { projectDecider } from "../project/project.ts";
import { type ApiToken, normalizeTokenName, tokenDecider } from "./token.ts";

export interface CreateApiTokenInput {
  name: string;
  projectId?: string | null;
  role: Role;
  /** ISO instant in the future; null or missing: never expires. */
  expiresAt?: string | null;
}

export interface CreatedApiToken {
  name: string;
  role: Role;
  projectId: string | null;
  secret: string;
}

export interface TokenCommands {
  createApiToken(caller: Caller, input: CreateApiTokenInput): Promise<CreatedApiToken>;
  /** The token stops working at once (its subscriptions end); revoking a revoked token answers it unchanged. */
  revokeApiToken(caller: Caller, id: string): Promise<ApiToken>;
}

export interface TokenCommandDeps extends CommandDeps {
  views: {
    token(id: string): ApiToken | null;
    /** By normalised name (normalizeTokenName). */
    tokenByName(normalizedName: string): ApiToken | null;
  };
}

export function createTokenCommands(deps: TokenCommandDeps): TokenCommands {
  const { store, views } = deps;
  return {
    async createApiToken(caller, input) {
      const scope = caller.auth.projectId;
      const projectId = input.projectId ?? scope;
      if (scope !== null && projectId !== scope) throw new DomainError("NOT_FOUND", `project ${projectId} not found`);
      const projectExists =
        projectId === null
          ? false
          : (await loadStream(store, projectDecider, streams.project(projectId))).state !== null;
      const taken = (name: string): DomainError =>
        new DomainError(
          "CONFLICT",
          `an API token named "${name}" already exists: token names are unique, compared case-insensitively (a name is who acted and who approved)`,
        );
      // Tokens stored before names were normalised have ids derived from their names as typed: the index
      // by normalised name catches those; for the rest the stream id below does, atomically.
      const existing = typeof input.name === "string" ? views.tokenByName(normalizeTokenName(input.name)) : null;
      if (existing !== null) throw taken(existing.name);
      const secret = newTokenSecret();
      // The id derives from the normalised name: a taken name meets the existing stream (CONFLICT, nothing written).
      const tokenId = tokenIdFor(typeof input.name === "string" ? input.name : "");
      const at = deps.now().toISOString();
      const result = await handleCommand(store, tokenDecider, {
        stream: streams.token(tokenId),
        command: {
          type: "CreateApiToken",
          data: {
            tokenId,
            name: input.name,
            role: input.role,
            projectId,
            secretHash: hashSecret(secret),
            projectExists,
            expiresAt: input.expiresAt ?? null,
          },
          actor: actorOf(caller),
          now: at,
        },
        metadata: commandMetadata(caller, projectId, at),
      }).catch((error: unknown) => {
        if (isDomainError(error) && error.code === "CONFLICT") throw taken(input.name.trim());
        throw error;
      });
      await caughtUp(deps, result.position);
      const token = fromView(views.token(tokenId), "token", tokenId);
      return { name: token.name, role: token.role, projectId: token.projectId, secret };
    },

    async revokeApiToken(caller, id) {
      const current = views.token(id);
      // A project-bound ADMIN sees only its project's tokens: any other answers as a missing one.
      if (current === null || (caller.auth.projectId !== null && current.projectId !== caller.auth.projectId)) {
        throw new DomainError("NOT_FOUND", `API token ${id} not found`);
      }
      const at = deps.now().toISOString();
      const result = await handleCommand(store, tokenDecider, {
        stream: streams.token(id),
        command: { type: "RevokeApiToken", data: { tokenId: id }, actor: actorOf(caller), now: at },
        metadata: commandMetadata(caller, current.projectId, at),
      });
      await caughtUp(deps, result.position);
      return fromView(views.token(id), "token", id);
    },
  };
}

// The token slice's command handlers: load → decide (tokenDecider) → append → read your write.

import { actorOf, type Caller } from "../core/caller.ts";
import { DomainError, isDomainError } from "../core/errors.ts";
import { hashSecret, newTokenSecret, tokenIdFor } from "../core/ids.ts";
import type { Role } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import { handleCommand, loadStream } from "../event-store/command-handler.ts";
import { type CommandDeps, caughtUp, commandMetadata, fromView } from "../event-store/command-support.ts";
import { projectDecider } from "../project/project.ts";
import { type ApiToken, tokenDecider } from "./token.ts";

export interface CreateApiTokenInput {
  name: string;
  projectId?: string | null;
  role: Role;
}

export interface CreatedApiToken {
  name: string;
  role: Role;
  projectId: string | null;
  secret: string;
}

export interface TokenCommands {
  createApiToken(caller: Caller, input: CreateApiTokenInput): Promise<CreatedApiToken>;
}

export interface TokenCommandDeps extends CommandDeps {
  views: { token(id: string): ApiToken | null };
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
      const secret = newTokenSecret();
      // The id derives from the name: a taken name meets the existing stream (CONFLICT, nothing written).
      const tokenId = tokenIdFor(input.name);
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
          },
          actor: actorOf(caller),
          now: at,
        },
        metadata: commandMetadata(caller, projectId, at),
      }).catch((error: unknown) => {
        if (isDomainError(error) && error.code === "CONFLICT") {
          throw new DomainError(
            "CONFLICT",
            `an API token named "${input.name.trim()}" already exists: token names are unique (a name is who acted and who approved)`,
          );
        }
        throw error;
      });
      await caughtUp(deps, result.position);
      const token = fromView(views.token(tokenId), "token", tokenId);
      return { name: token.name, role: token.role, projectId: token.projectId, secret };
    },
  };
}

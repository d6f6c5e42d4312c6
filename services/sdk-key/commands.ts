// The SDK key slice's command handlers: load → decide (sdkKeyDecider) → append → read your write. Once
// revokeSdkKey has answered, this process refuses the key (its read model has the revocation) and has
// closed the key's streams; every other API process does as soon as it projects the event.

import { randomBytes, randomUUID } from "node:crypto";
import { actorOf, type Caller, canSeeProject } from "../core/caller.ts";
import { DomainError } from "../core/errors.ts";
import { hashSecret } from "../core/ids.ts";
import { streams } from "../core/streams.ts";
import { handleCommand, loadStream } from "../event-store/command-handler.ts";
import { type CommandDeps, caughtUp, commandMetadata, fromView, loadVisible } from "../event-store/command-support.ts";
import { projectDecider } from "../project/project.ts";
import { type SdkKey, sdkKeyDecider } from "./sdk-key.ts";

export interface CreateSdkKeyInput {
  projectId: string;
  environment: string;
  name: string;
}

export interface CreatedSdkKey {
  key: SdkKey;
  /** Shown once; only its SHA-256 is stored. */
  secret: string;
}

export interface SdkKeyCommands {
  createSdkKey(caller: Caller, input: CreateSdkKeyInput): Promise<CreatedSdkKey>;
  revokeSdkKey(caller: Caller, id: string): Promise<SdkKey>;
}

export interface SdkKeyCommandDeps extends CommandDeps {
  views: { sdkKey(id: string): SdkKey | null };
}

/** A new SDK key secret: 32 random bytes, base64url, prefixed so it is told apart from API tokens at a glance. */
export const newSdkKeySecret = (): string => `rp_sdk_${randomBytes(32).toString("base64url")}`;

export function createSdkKeyCommands(deps: SdkKeyCommandDeps): SdkKeyCommands {
  const { store, views } = deps;
  return {
    async createSdkKey(caller, input) {
      const project = canSeeProject(caller.auth, input.projectId)
        ? (await loadStream(store, projectDecider, streams.project(input.projectId))).state
        : null;
      if (project === null) throw new DomainError("NOT_FOUND", `project ${input.projectId} not found`);
      const keyId = randomUUID();
      const secret = newSdkKeySecret();
      const at = deps.now().toISOString();
      const result = await handleCommand(store, sdkKeyDecider, {
        stream: streams.sdkKey(keyId),
        command: {
          type: "CreateSdkKey",
          data: {
            keyId,
            projectId: project.id,
            environment: input.environment,
            name: input.name,
            secretHash: hashSecret(secret),
            projectEnvironments: project.environments,
          },
          actor: actorOf(caller),
          now: at,
        },
        metadata: commandMetadata(caller, project.id, at),
      });
      await caughtUp(deps, result.position);
      return { key: fromView(views.sdkKey(keyId), "SDK key", keyId), secret };
    },

    async revokeSdkKey(caller, id) {
      const key = await loadVisible(
        store,
        caller,
        sdkKeyDecider,
        streams.sdkKey(id),
        (k) => k.projectId,
        `SDK key ${id}`,
      );
      const at = deps.now().toISOString();
      const result = await handleCommand(store, sdkKeyDecider, {
        stream: streams.sdkKey(id),
        command: { type: "RevokeSdkKey", data: {}, actor: actorOf(caller), now: at },
        metadata: commandMetadata(caller, key.projectId, at),
      });
      await caughtUp(deps, result.position);
      return fromView(views.sdkKey(id), "SDK key", id);
    },
  };
}

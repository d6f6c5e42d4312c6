// The SDK key commands behind createSdkKey / revokeSdkKey: load → decide → append through the command
// handler, then wait for the read models (read-your-writes) and answer from them. Once revokeSdkKey has
// answered, this process refuses the key (its read model has the revocation) and has closed its streams.

import { createHash, randomBytes, randomUUID } from "node:crypto";
import { DomainError } from "../core/errors.ts";
import { streams } from "../core/event.ts";
import { type CommandMetadata, handleCommand, loadStream } from "../event-store/command-handler.ts";
import type { EventStore } from "../event-store/port.ts";
import { projectDecider } from "../project/project.ts";
import type { ReadModels } from "../projections/read-models.ts";
import type { ProjectionRunner } from "../projections/runner.ts";
import { type SdkKey, sdkKeyDecider } from "./sdk-key.ts";

/** Who a command is by (the API token's identity and the request's ids). */
export interface SdkKeyCaller {
  auth: { name: string; role: "VIEWER" | "EDITOR" | "APPROVER" | "ADMIN"; projectId: string | null };
  request: { correlationId: string };
}

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
  createSdkKey(caller: SdkKeyCaller, input: CreateSdkKeyInput): Promise<CreatedSdkKey>;
  revokeSdkKey(caller: SdkKeyCaller, id: string): Promise<SdkKey>;
}

export interface SdkKeyCommandDeps {
  store: EventStore;
  readModels: ReadModels;
  runner: Pick<ProjectionRunner, "waitFor">;
  now?: () => Date;
}

/** A new SDK key secret: 32 random bytes, base64url, prefixed so it is told apart from API tokens at a glance. */
export const newSdkKeySecret = (): string => `rp_sdk_${randomBytes(32).toString("base64url")}`;

/** What is stored of a secret: its SHA-256, lowercase hex (the same digest as API tokens). */
export const hashSdkKeySecret = (secret: string): string => createHash("sha256").update(secret, "utf8").digest("hex");

export function createSdkKeyCommands(deps: SdkKeyCommandDeps): SdkKeyCommands {
  const { store, readModels, runner } = deps;
  const now = deps.now ?? (() => new Date());
  const canSee = (caller: SdkKeyCaller, projectId: string | null): boolean =>
    caller.auth.projectId === null || caller.auth.projectId === projectId;
  const metadata = (caller: SdkKeyCaller, projectId: string, at: string): CommandMetadata => ({
    actor: caller.auth.name,
    occurredAt: at,
    correlationId: caller.request.correlationId,
    causationId: null,
    projectId,
  });
  const actorOf = (caller: SdkKeyCaller) => ({ name: caller.auth.name, role: caller.auth.role });

  function fromReadModel(id: string): SdkKey {
    const key = readModels.sdkKey(id);
    if (key === null) throw new DomainError("INTERNAL", `SDK key ${id} is missing from the read models`);
    return key;
  }

  return {
    async createSdkKey(caller, input) {
      const project = canSee(caller, input.projectId)
        ? (await loadStream(store, projectDecider, streams.project(input.projectId))).state
        : null;
      if (project === null) throw new DomainError("NOT_FOUND", `project ${input.projectId} not found`);
      const keyId = randomUUID();
      const secret = newSdkKeySecret();
      const at = now().toISOString();
      const result = await handleCommand(store, sdkKeyDecider, {
        stream: streams.sdkKey(keyId),
        command: {
          type: "CreateSdkKey",
          data: {
            keyId,
            projectId: project.id,
            environment: input.environment,
            name: input.name,
            secretHash: hashSdkKeySecret(secret),
            projectEnvironments: project.environments,
          },
          actor: actorOf(caller),
          now: at,
        },
        metadata: metadata(caller, project.id, at),
      });
      if (result.position !== null) await runner.waitFor(result.position);
      return { key: fromReadModel(keyId), secret };
    },

    async revokeSdkKey(caller, id) {
      const { state } = await loadStream(store, sdkKeyDecider, streams.sdkKey(id));
      if (state === null || !canSee(caller, state.projectId))
        throw new DomainError("NOT_FOUND", `SDK key ${id} not found`);
      const at = now().toISOString();
      const result = await handleCommand(store, sdkKeyDecider, {
        stream: streams.sdkKey(id),
        command: { type: "RevokeSdkKey", data: {}, actor: actorOf(caller), now: at },
        metadata: metadata(caller, state.projectId, at),
      });
      if (result.position !== null) await runner.waitFor(result.position);
      return fromReadModel(id);
    },
  };
}

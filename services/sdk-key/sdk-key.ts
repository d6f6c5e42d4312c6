// SDK key: reads the flag configuration of one environment of one project (PRODUCT.md, "Serving"), and
// nothing else — it is not an API token and opens no GraphQL operation. Only the secret's SHA-256 hash
// is stored; the secret is made at the edge and shown once. Revocation is final.

import type { Command, Decider } from "../core/decider.ts";
import { DomainError, validation } from "../core/errors.ts";
import { requireName } from "../project/project.ts";
import type { SdkKeyCreated, SdkKeyEvent, SdkKeyRevoked } from "./events.ts";

export interface SdkKey {
  id: string;
  projectId: string;
  environment: string;
  name: string;
  secretHash: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

export type SdkKeyState = SdkKey | null;

export type CreateSdkKey = Command<
  "CreateSdkKey",
  {
    keyId: string;
    projectId: string;
    environment: string;
    name: string;
    /** SHA-256 of the secret, lowercase hex. */
    secretHash: string;
    /** The project's environments (looked up by the caller; the project exists). */
    projectEnvironments: readonly string[];
  }
>;

export type RevokeSdkKey = Command<"RevokeSdkKey", Record<string, never>>;

export type SdkKeyCommand = CreateSdkKey | RevokeSdkKey;

const SHA256_HEX = /^[0-9a-f]{64}$/;

function createSdkKey(command: CreateSdkKey, state: SdkKeyState): SdkKeyCreated[] {
  if (state !== null) throw new DomainError("CONFLICT", `SDK key ${state.id} already exists`);
  const { keyId, projectId, environment, name, secretHash, projectEnvironments } = command.data;
  const trimmed = requireName("name", name);
  if (!projectEnvironments.includes(environment)) {
    throw validation(
      "environment",
      `unknown environment "${String(environment)}" (project environments: ${projectEnvironments.join(", ")})`,
    );
  }
  // Not user input: a guard that a raw secret never reaches the event store.
  if (!SHA256_HEX.test(secretHash)) throw new DomainError("INTERNAL", "secretHash must be a SHA-256 hex digest");
  return [
    {
      type: "SdkKeyCreated",
      data: { keyId, projectId, environment, name: trimmed, secretHash, at: command.now, by: command.actor.name },
    },
  ];
}

function revokeSdkKey(command: RevokeSdkKey, state: SdkKeyState): SdkKeyRevoked[] {
  if (state === null) throw new DomainError("NOT_FOUND", "SDK key not found");
  if (state.revokedAt !== null) {
    throw new DomainError(
      "INVALID_STATE",
      `SDK key "${state.name}" is already revoked (at ${state.revokedAt} by ${state.revokedBy ?? "unknown"})`,
    );
  }
  return [{ type: "SdkKeyRevoked", data: { keyId: state.id, at: command.now, by: command.actor.name } }];
}

export function decideSdkKey(command: SdkKeyCommand, state: SdkKeyState): SdkKeyEvent[] {
  switch (command.type) {
    case "CreateSdkKey":
      return createSdkKey(command, state);
    case "RevokeSdkKey":
      return revokeSdkKey(command, state);
    default: {
      const unknown: never = command;
      throw new DomainError("INTERNAL", `unknown SDK key command ${String((unknown as { type: string }).type)}`);
    }
  }
}

export function evolveSdkKey(state: SdkKeyState, event: SdkKeyEvent): SdkKeyState {
  switch (event.type) {
    case "SdkKeyCreated": {
      const { keyId, projectId, environment, name, secretHash, at, by } = event.data;
      return {
        id: keyId,
        projectId,
        environment,
        name,
        secretHash,
        createdAt: at,
        createdBy: by,
        revokedAt: null,
        revokedBy: null,
      };
    }
    case "SdkKeyRevoked":
      return state === null ? null : { ...state, revokedAt: event.data.at, revokedBy: event.data.by };
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
}

export const sdkKeyDecider: Decider<SdkKeyState, SdkKeyCommand, SdkKeyEvent> = {
  initialState: () => null,
  evolve: evolveSdkKey,
  decide: decideSdkKey,
};

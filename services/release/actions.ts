// The release actions a person or an integration takes (PRODUCT.md, Actions): their names, their
// payload, its checks, and the release decider's command for each. Pure: the workflow (bundled,
// deterministic), its client helpers and the release slice's command handlers share it.

import { DomainError, validation } from "../core/errors.ts";
import type { Actor, ReleaseActionKind } from "../core/model.ts";
import { ROLES } from "../core/model.ts";
import type { ReleaseActionCommand } from "./release.ts";

export const RELEASE_ACTIONS = [
  "approve",
  "pause",
  "unpause",
  "skip",
  "abort",
  "fullRollout",
  "rollbackToPhase",
  "breakGlass",
] as const;
export type ReleaseActionName = (typeof RELEASE_ACTIONS)[number];

/** What a person (through the API) or an integration (through a signal) sends with an action. */
export interface ReleaseActionInput {
  actor: Actor;
  /** The phase the caller believes is current (Statsig's API names one): refused when stale. */
  phaseIndex?: number | null;
  /** approve: the approval's comment. */
  comment?: string | null;
  /** pause, unpause, skip, abort, fullRollout: why. */
  reason?: string | null;
  /** Carried into the stored events' metadata; defaults to the release id. */
  correlationId?: string | null;
}

/** The kind recorded in `Release.actions` (and in a rejected signal's `action`). */
export const ACTION_KINDS: Record<ReleaseActionName, ReleaseActionKind> = {
  approve: "APPROVE",
  pause: "PAUSE",
  unpause: "UNPAUSE",
  skip: "SKIP",
  abort: "ABORT",
  fullRollout: "FULL_ROLLOUT",
  rollbackToPhase: "ROLLBACK_TO_PHASE",
  breakGlass: "BREAK_GLASS",
};

const MAX_TEXT = 2000;

const optionalText = (value: unknown, field: string): string | null => {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw validation(field, "must be a string");
  if (value.length > MAX_TEXT) throw validation(field, `must be at most ${MAX_TEXT} characters`);
  return value;
};

/**
 * Checks an action's payload: it arrives as JSON from the API or from anyone holding the Temporal CLI,
 * so nothing about its shape is taken on trust. Throws DomainError VALIDATION.
 */
export function parseActionInput(raw: unknown): ReleaseActionInput {
  if (typeof raw !== "object" || raw === null) throw validation("input", "must be an object");
  const input = raw as Record<string, unknown>;
  const actor = input.actor as Record<string, unknown> | undefined;
  if (typeof actor !== "object" || actor === null) throw validation("actor", "must be { name, role }");
  if (typeof actor.name !== "string" || actor.name.trim() === "") {
    throw validation("actor.name", "must be a non-empty string");
  }
  const role = ROLES.find((r) => r === actor.role);
  if (!role) throw validation("actor.role", `must be one of ${ROLES.join(", ")}`);
  const phaseIndex = input.phaseIndex;
  if (
    phaseIndex !== undefined &&
    phaseIndex !== null &&
    (typeof phaseIndex !== "number" || !Number.isInteger(phaseIndex) || phaseIndex < 0)
  ) {
    throw validation("phaseIndex", "must be a non-negative integer");
  }
  return {
    actor: { name: actor.name, role },
    phaseIndex: typeof phaseIndex === "number" ? phaseIndex : null,
    comment: optionalText(input.comment, "comment"),
    reason: optionalText(input.reason, "reason"),
    correlationId: optionalText(input.correlationId, "correlationId"),
  };
}

/** The decider command for an action taking effect at `now`. */
export function toCommand(action: ReleaseActionName, input: ReleaseActionInput, now: string): ReleaseActionCommand {
  const { actor } = input;
  const phaseIndex = input.phaseIndex ?? null;
  const reason = input.reason ?? null;
  switch (action) {
    case "approve":
      return { type: "ApproveRelease", data: { phaseIndex, comment: input.comment ?? null }, actor, now };
    case "pause":
      return { type: "PauseRelease", data: { phaseIndex, reason }, actor, now };
    case "unpause":
      return { type: "UnpauseRelease", data: { phaseIndex, reason }, actor, now };
    case "skip":
      return { type: "SkipPhase", data: { phaseIndex, reason }, actor, now };
    case "abort":
      return { type: "AbortRelease", data: { reason }, actor, now };
    case "fullRollout":
      return { type: "FullRollout", data: { reason }, actor, now };
    case "rollbackToPhase":
      // Here `phaseIndex` is the rolled-out phase to go back to, not a guard on the current one.
      return { type: "RollbackToPhase", data: { phaseIndex, reason }, actor, now };
    case "breakGlass":
      return { type: "BreakGlass", data: { phaseIndex, reason }, actor, now };
    default: {
      const unknown: never = action;
      throw new DomainError("VALIDATION", `unknown release action ${String(unknown)}`);
    }
  }
}

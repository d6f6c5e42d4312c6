// Event schema evolution: the one registry of upcasters. Stored events are never rewritten; an old shape
// is turned into the current one when it is read — by the command handler (which applies this registry
// unless its caller passes another), hence by every API command, workflow activity and `loadStream`, by
// the read models, and by as-of reconstruction, so they all fold the same data.
//
// Pure functions (no I/O, no clock): an upcaster gets the stored data and the schemaVersion from the
// event's metadata and returns data in the shape today's `evolve` expects. They key on the shape, not
// only the version: the first events of this service were written without a schemaVersion, which the
// command handler reads as 1.

import { formatDuration } from "./duration.ts";
import type { Phase, PhaseAction, SelfApproval, Target } from "./model.ts";

/** The schemaVersion every writer puts into a new event's metadata (the command handler, activities, the simulation). */
export const EVENT_SCHEMA_VERSION = 1;

/** Per event type: turns data written under `schemaVersion` into the shape current code expects. */
export type Upcasters = Readonly<Record<string, (data: unknown, schemaVersion: number) => unknown>>;

/** No upcaster at all: for a caller that wants events exactly as stored. */
export const NO_UPCASTERS: Upcasters = Object.freeze({});

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const ACTIONS: readonly PhaseAction[] = ["APPLY_CHANGE", "ENABLE", "DISABLE"];

/**
 * A phase in today's shape. The first schema stored the bake time as `wait` (whole seconds, 0 = none) and
 * left approval, action and segment out when they had their default.
 */
export function upcastPhase(phase: unknown): Phase {
  if (!isObject(phase)) return phase as Phase;
  const hasCurrentShape =
    "waitForMs" in phase && "requiresApproval" in phase && "approvalsRequired" in phase && "action" in phase;
  if (hasCurrentShape && Array.isArray(phase.targets) && phase.targets.every((t) => isObject(t) && "segment" in t)) {
    return phase as unknown as Phase;
  }
  let waitForMs: number | null = typeof phase.waitForMs === "number" ? phase.waitForMs : null;
  if (waitForMs === null && typeof phase.wait === "number" && phase.wait > 0) waitForMs = Math.round(phase.wait * 1000);
  const requiresApproval = phase.requiresApproval === true;
  return {
    name: String(phase.name ?? ""),
    waitFor: typeof phase.waitFor === "string" ? phase.waitFor : waitForMs === null ? null : formatDuration(waitForMs),
    waitForMs,
    requiresApproval,
    approvalsRequired: typeof phase.approvalsRequired === "number" ? phase.approvalsRequired : 1,
    action: ACTIONS.includes(phase.action as PhaseAction) ? (phase.action as PhaseAction) : "APPLY_CHANGE",
    targets: Array.isArray(phase.targets)
      ? phase.targets.map(
          (target): Target => ({
            environment: String((target as Json).environment),
            segment: typeof (target as Json).segment === "string" ? ((target as Json).segment as string) : null,
          }),
        )
      : [],
  };
}

const upcastPhases = (phases: unknown): unknown => (Array.isArray(phases) ? phases.map(upcastPhase) : phases);

/** PipelineCreated before `selfApproval` existed (then: always allowed) and with phases in the first shape. */
export function upcastPipelineCreated(data: unknown): unknown {
  if (!isObject(data)) return data;
  const selfApproval: SelfApproval = data.selfApproval === "FORBIDDEN" ? "FORBIDDEN" : "ALLOWED";
  return {
    ...data,
    description: data.description ?? null,
    selfApproval,
    phases: upcastPhases(data.phases),
    clonedFrom: data.clonedFrom ?? null,
  };
}

export function upcastPipelineUpdated(data: unknown): unknown {
  if (!isObject(data) || data.phases === undefined) return data;
  return { ...data, phases: upcastPhases(data.phases) };
}

/** ReleaseStarted snapshots the pipeline's phases: the same phase upcast applies. */
export function upcastReleaseStarted(data: unknown): unknown {
  if (!isObject(data) || !Array.isArray(data.phases)) return data;
  if (data.phases.every((phase) => upcastPhase(phase) === phase) && "selfApproval" in data) return data;
  return {
    ...data,
    selfApproval: data.selfApproval === "FORBIDDEN" ? "FORBIDDEN" : "ALLOWED",
    phases: upcastPhases(data.phases),
  };
}

/** Every upcaster, by event type: what `handleCommand` and `loadStream` apply when given none. */
export const UPCASTERS: Upcasters = Object.freeze({
  PipelineCreated: (data: unknown) => upcastPipelineCreated(data),
  PipelineUpdated: (data: unknown) => upcastPipelineUpdated(data),
  ReleaseStarted: (data: unknown) => upcastReleaseStarted(data),
});

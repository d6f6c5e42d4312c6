// The release workflow's I/O: load the release stream, append to it, and apply the release's effects to
// the feature's stream. Built by a factory over the event store; the workflow imports only the type.
//
// Every activity may run more than once (a worker dies after the write but before Temporal hears back),
// so each write is idempotent: release events carry ids chosen by the workflow (a retried append of the
// same ids at the same place is a no-op in the store), and feature events get ids derived from a seed the
// workflow chose, on top of a feature decider that stores nothing for a change already applied.

import { createHash } from "node:crypto";
import { ApplicationFailure } from "@temporalio/common";
import { isDomainError } from "../services/core/errors.ts";
import type { Guardrail } from "../services/core/model.ts";
import { streams } from "../services/core/streams.ts";
import { EVENT_SCHEMA_VERSION } from "../services/core/upcasters.ts";
import { handleCommand, loadStream } from "../services/event-store/command-handler.ts";
import type { EventStore, EventToAppend } from "../services/event-store/port.ts";
import type { Logger } from "../services/platform/logger.ts";
import { projectDecider } from "../services/project/project.ts";
import { featureEffectCommands, featureEffectsDecider } from "../services/release/effects.ts";
import type { ReleaseEvent } from "../services/release/events.ts";
import { type FeatureEffect, type Release, type ReleaseGates, releaseDecider } from "../services/release/release.ts";
import { createTokenDirectory, type ResolvedActor, type TokenDirectory } from "./actors.ts";
import { type GuardrailCheckResult, runGuardrailCheck } from "./guardrail-checks.ts";

export interface ReleaseEventToAppend {
  /** Chosen by the workflow (uuid4 from @temporalio/workflow: deterministic across replays). */
  id: string;
  type: ReleaseEvent["type"];
  data: unknown;
  /** A person's name, or "system" for automatic transitions (eventActor). */
  actor: string;
}

interface CausationInput {
  correlationId: string;
  /** The update (or signal) that caused the events; null for the bake timer and guardrail checks. */
  causationId: string | null;
  source: "timer" | "update" | "signal" | "guardrail";
}

export interface AppendReleaseEventsInput extends CausationInput {
  releaseId: string;
  projectId: string;
  /** Revision of the stream's last event before this append. */
  expectedRevision: number;
  events: ReleaseEventToAppend[];
}

export interface FeatureEffectBatch {
  effects: FeatureEffect[];
  /** The id of the release event that caused the effects: feature event ids derive from it. */
  eventIdSeed: string;
  /** Who the release event is attributed to. */
  actor: string;
  /** When the release event took effect. */
  at: string;
}

export interface ApplyFeatureEffectsInput extends FeatureEffectBatch, CausationInput {
  featureId: string;
  releaseId: string;
  projectId: string;
}

export interface LoadedRelease {
  state: Release | null;
  /** Revision of the stream's last event; -1 when the stream does not exist. */
  revision: number;
}

export interface CheckGuardrailInput {
  releaseId: string;
  phaseIndex: number;
  guardrail: Guardrail;
}

export interface ResolveActorInput {
  /** The name a signal's payload gives. */
  name: string;
  /** The release's project: a token bound to another project is no one here. */
  projectId: string;
  /** When the signal is handled (workflow time): an expired token is refused. */
  at: string;
}

export interface ReleaseActivities {
  loadRelease(releaseId: string): Promise<LoadedRelease>;
  /** The token a signal's actor names (its own spelling and role), or why the signal is refused. */
  resolveActor(input: ResolveActorInput): Promise<ResolvedActor>;
  /** `ids`: the stored ids of the events, in order (absent in histories recorded before they were returned). */
  appendReleaseEvents(input: AppendReleaseEventsInput): Promise<{ nextExpectedRevision: number; ids?: string[] }>;
  applyFeatureEffects(input: ApplyFeatureEffectsInput): Promise<{ appended: number }>;
  /** The project's freeze as stored (the release decider checks its `until`); null when not frozen. */
  loadFreeze(projectId: string): Promise<ReleaseGates["freeze"]>;
  /** One run of a guardrail's check (a regular activity: it waits on the network). Never throws. */
  checkGuardrail(input: CheckGuardrailInput): Promise<GuardrailCheckResult>;
}

export interface ActivityDependencies {
  store: EventStore;
  logger?: Logger;
  /** Where signal actors are checked (default: the token streams of `store`). */
  tokens?: TokenDirectory;
}

/**
 * A DomainError leaves an activity as an ApplicationFailure typed with its code; only CONFLICT (someone
 * else wrote first: load again and retry) is retryable. Anything else (the store is unreachable, a
 * timeout) is rethrown as is and retried by the activity's retry policy.
 */
export function toActivityFailure(error: unknown): unknown {
  if (!isDomainError(error)) return error;
  return ApplicationFailure.create({
    type: error.code,
    message: error.message,
    nonRetryable: error.code !== "CONFLICT",
    details: error.field === undefined ? undefined : [{ field: error.field }],
  });
}

/** A UUID (v8 layout: custom) derived from a name: the same name always gives the same id. */
export function deriveEventId(name: string): string {
  const hex = createHash("sha256").update(name).digest("hex").slice(0, 32).split("");
  hex[12] = "8";
  hex[16] = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function createActivities({ store, logger, tokens }: ActivityDependencies): ReleaseActivities {
  const log = logger?.child({ component: "release-activities" });
  const directory = tokens ?? createTokenDirectory(store);

  const guard = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      log?.warn({ activity: name, err: error }, "release activity failed");
      throw toActivityFailure(error);
    }
  };

  return {
    loadRelease: (releaseId) =>
      guard("loadRelease", async () => {
        const loaded = await loadStream(store, releaseDecider, streams.release(releaseId));
        const revision = loaded.revision === "no_stream" ? -1 : Number(loaded.revision);
        return { state: loaded.state, revision };
      }),

    loadFreeze: (projectId) =>
      guard("loadFreeze", async () => {
        const { state } = await loadStream(store, projectDecider, streams.project(projectId));
        const freeze = state?.freeze ?? null;
        return freeze === null ? null : { reason: freeze.reason, until: freeze.until };
      }),
    resolveActor: (input) => guard("resolveActor", () => directory.resolve(input.name, input.projectId, input.at)),

    appendReleaseEvents: (input) =>
      guard("appendReleaseEvents", async () => {
        // The stored id names the event's place in the stream and its content, not only the workflow's
        // uuid: a workflow task that died after this append is re-run with the same uuid sequence, and a
        // re-run may decide other events (a later time) or land them at other places. The same event at
        // the same place is the same id (a retry: a no-op in the store); anything else cannot collide.
        const events: EventToAppend[] = input.events.map((event, index) => ({
          id: deriveEventId(
            `${input.releaseId}@${input.expectedRevision + 1 + index}:${event.id}:${event.type}:${JSON.stringify(event.data)}`,
          ),
          type: event.type,
          data: event.data,
          metadata: {
            actor: event.actor,
            occurredAt: (event.data as { at: string }).at,
            correlationId: input.correlationId,
            causationId: input.causationId,
            schemaVersion: EVENT_SCHEMA_VERSION,
            projectId: input.projectId,
            source: input.source,
          },
        }));
        const expected = input.expectedRevision < 0 ? "no_stream" : BigInt(input.expectedRevision);
        let result: Awaited<ReturnType<EventStore["append"]>>;
        try {
          result = await store.append(streams.release(input.releaseId), events, expected);
        } catch (error) {
          // Only the release's workflow writes its stream after ReleaseStarted: a conflict means this run's
          // state is not the stream's (see STREAM_DIVERGED in release.workflow.ts). Retrying cannot help.
          if (isDomainError(error) && error.code === "CONFLICT") {
            throw ApplicationFailure.create({ type: "STREAM_DIVERGED", message: error.message, nonRetryable: true });
          }
          throw error;
        }
        log?.debug({ releaseId: input.releaseId, types: input.events.map((e) => e.type) }, "release events appended");
        return { nextExpectedRevision: Number(result.nextExpectedRevision), ids: events.map((event) => event.id) };
      }),

    applyFeatureEffects: (input) =>
      guard("applyFeatureEffects", async () => {
        let k = 0;
        // Every effect of one release event in one append: decided in order, each on the state the
        // previous ones left (load → decide all → append, retried on CONFLICT by the command handler).
        const result = await handleCommand(store, featureEffectsDecider, {
          stream: streams.feature(input.featureId),
          command: featureEffectCommands(input.effects, input.releaseId, input.actor, input.at),
          metadata: {
            actor: input.actor,
            occurredAt: input.at,
            correlationId: input.correlationId,
            causationId: input.causationId,
            projectId: input.projectId,
            extra: { source: "release", releaseId: input.releaseId, releaseEventId: input.eventIdSeed },
          },
          // Same seed, same ids: a retry that would store the same events again is refused by the store.
          newId: () => deriveEventId(`${input.eventIdSeed}/${k++}`),
          maxAttempts: 5,
        });
        return { appended: result.appended.length };
      }),

    checkGuardrail: async (input) => {
      const outcome = await runGuardrailCheck(input.guardrail);
      log?.debug({ releaseId: input.releaseId, guardrail: input.guardrail.name, ...outcome }, "guardrail checked");
      return outcome;
    },
  };
}

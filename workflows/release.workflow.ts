// One workflow per release (id `release-<releaseId>`): a thin, durable shell over the release decider
// (services/release/release.ts). It loads the release stream, then feeds the decider: a `Tick` on entry
// and whenever the bake timer (`nextWakeAt`) passes, and every person's action. What the decider returns
// is evolved into the in-memory state at once and appended to the stream through one serialized queue,
// so the stored order is exactly the order in which things took effect.
//
// Only ApplicationFailures leave this file: a DomainError becomes one whose `type` is the error code.

import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from "@temporalio/workflow";
import { DomainError, isDomainError } from "../services/core/errors.ts";
import type { Guardrail } from "../services/core/model.ts";
import { SYSTEM_ACTOR } from "../services/core/model.ts";
import type { ReleaseEvent } from "../services/release/events.ts";
import {
  activeGuardrails,
  decide,
  eventActor,
  evolve,
  featureEffects,
  NO_GATES,
  nextWakeAt,
  type Release,
  type ReleaseGates,
  type ReleaseState,
} from "../services/release/release.ts";
import type { FeatureEffectBatch, ReleaseActivities, ReleaseEventToAppend } from "./activities.ts";
import type { GuardrailCheckResult } from "./guardrail-checks.ts";
import {
  ACTION_KINDS,
  freezeChangedSignal,
  parseActionInput,
  RELEASE_ACTIONS,
  type ReleaseActionInput,
  type ReleaseActionName,
  releaseSignals,
  releaseState,
  releaseUpdates,
  toCommand,
} from "./release-messages.workflow.ts";

export interface ReleaseWorkflowOptions {
  /** Continue-as-new once this many events were appended by one run (default 1000). */
  continueAsNewAfterEvents?: number;
}

export interface ReleaseWorkflowInput {
  releaseId: string;
  /** Set by continue-as-new: the state the previous run had reached (the stream is not read again). */
  carried?: CarriedState;
  options?: ReleaseWorkflowOptions;
}

export interface CarriedState {
  state: Release;
  /** Revision of the last stored event of the release stream. */
  revision: number;
  /** Update ids already applied, so a retried update that lands on the new run is still applied once. */
  appliedUpdateIds: string[];
}

/**
 * Patches (docs/decisions/0004): histories recorded before them replay the old way.
 * - SIGNALS_CHECKED: a signal's actor must be an existing, unrevoked token seen by the release's project,
 *   and acts with the token's name and role (resolveActor); a rejected signal is stored after the timer
 *   steps due when it was judged, not before them.
 * - CARRIED_CHECKED: a run started by continue-as-new loads its state from the stream instead of trusting
 *   the `carried` input (anyone reaching Temporal can start a run with any input).
 */
export const SIGNALS_CHECKED_PATCH = "signals-checked-v1";
export const CARRIED_CHECKED_PATCH = "carried-checked-v1";

const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 1000;

/**
 * Governance (decision 0037): before each decision the workflow reads the project's freeze. Histories
 * recorded before it have no such reads; `patched` keeps them replaying as they ran.
 */
export const GOVERNANCE_PATCH = "governance-gates";
/** While a phase is FROZEN with no end, the freeze is read again this often (the worker's signal is faster). */
export const FREEZE_RECHECK_MS = 5 * 60_000;
const REMEMBERED_UPDATE_IDS = 500;

// Local activities: each store call is a few milliseconds, and a regular activity would cost two more
// round trips through the server (schedule, then complete) per append. Local activities run inside the
// workflow task and are recorded as markers when it completes; if the worker dies before that, they run
// again on replay, which is safe because every write is idempotent (workflow-chosen event ids, see
// activities.ts). An Update is answered in one workflow task instead of three.
// Loading and appending must get through store outages: retried for as long as it takes, with backoff
// (after localRetryThreshold the SDK backs off with a durable timer instead of holding the task open).
// DomainErrors other than CONFLICT arrive as non-retryable failures.
const { loadRelease, appendReleaseEvents, applyFeatureEffects, resolveActor, loadFreeze } =
  proxyLocalActivities<ReleaseActivities>({
    startToCloseTimeout: "10 seconds",
    localRetryThreshold: "10 seconds",
    retry: { initialInterval: "200 milliseconds", backoffCoefficient: 2, maximumInterval: "10 seconds" },
  });

// Guardrail checks wait on the network: a regular activity, tried once (the next interval checks again; an
// activity that fails or times out is a check that could not run).
const { checkGuardrail } = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: "30 seconds",
  retry: { maximumAttempts: 1 },
});

/** Workflow time (deterministic: the time of the current workflow task) as an ISO instant. */
const nowIso = (): string => new Date(Date.now()).toISOString();

/** Every failure that leaves the workflow: an ApplicationFailure typed with the contract's error code. */
export function toFailure(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) {
    const cause = error.cause;
    return ApplicationFailure.create({ type: cause.type ?? "INTERNAL", message: cause.message, nonRetryable: true });
  }
  if (isDomainError(error)) {
    return ApplicationFailure.create({
      type: error.code,
      message: error.message,
      nonRetryable: true,
      details: error.field === undefined ? undefined : [{ field: error.field }],
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return ApplicationFailure.create({ type: "INTERNAL", message, nonRetryable: true });
}

interface Decided {
  /** Automatic steps already due at `now` (a bake timer that ended): they took effect first. */
  due: ReleaseEvent[];
  /** The action's own events and the automatic steps that follow from it. */
  action: ReleaseEvent[];
}

interface Causation {
  causationId: string | null;
  correlationId: string;
  source: "timer" | "update" | "signal" | "guardrail";
}

/**
 * A run whose in-memory state no longer matches its stream (STREAM_DIVERGED: a workflow task died after its
 * writes and its re-run decided differently, e.g. at a later time) continues as a new run, which loads the
 * stream: the stream is the truth. Any other failure fails the run.
 */
async function failOrResync(failure: ApplicationFailure, input?: ReleaseWorkflowInput): Promise<never> {
  if (failure.type !== STREAM_DIVERGED || input === undefined) throw failure;
  log.warn("the release stream moved under this run; continuing as a new run from the stream", {
    releaseId: input.releaseId,
  });
  return continueAsNew<typeof releaseWorkflow>({ releaseId: input.releaseId, options: input.options });
}

export const STREAM_DIVERGED = "STREAM_DIVERGED";

export async function releaseWorkflow(input: ReleaseWorkflowInput): Promise<Release> {
  const { releaseId } = input;
  const continueAfter = input.options?.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;

  // Set once the run knows its state: from the stream, or (histories before carried-checked-v1) from the
  // carried input. Handlers wait for it, so none ever sees a carried state that is then dropped.
  let state: Release | null = null;
  let revision = -1;
  const appliedUpdateIds: string[] = [...(input.carried?.appliedUpdateIds ?? [])];
  /** Bumped whenever the in-memory state changes: the main loop re-arms its timer from nextWakeAt. */
  let changes = 0;
  let eventsThisRun = 0;
  let pendingAppends = 0;
  let appendQueue: Promise<void> = Promise.resolve();
  /** Set when an append failed for good: the in-memory state is ahead of the store, so the run ends. */
  let broken: ApplicationFailure | undefined;
  /** The project's freeze as last read (refreshGates); validators decide with it. */
  let gates: ReleaseGates = NO_GATES;

  /** Reads the project's freeze again (not in histories recorded before governance: see GOVERNANCE_PATCH). */
  async function refreshGates(): Promise<void> {
    if (!state || !patched(GOVERNANCE_PATCH)) return;
    try {
      gates = { freeze: await loadFreeze(state.projectId) };
    } catch (error) {
      throw toFailure(error);
    }
  }

  const current = (): Release => {
    if (!state)
      throw ApplicationFailure.create({ type: "INTERNAL", message: "release not loaded", nonRetryable: true });
    return state;
  };

  /**
   * Evolves the in-memory state with `events` now (synchronously, so the next message already sees it)
   * and queues their append behind every earlier one; resolves once they and their effects on the
   * feature are stored.
   */
  function record(events: ReleaseEvent[], causation: Causation): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const release = current();
    const toAppend: ReleaseEventToAppend[] = [];
    const effects: (FeatureEffectBatch & { index: number })[] = [];
    let next: ReleaseState = release;
    try {
      for (const [index, event] of events.entries()) {
        const id = uuid4();
        toAppend.push({ id, type: event.type, data: event.data, actor: eventActor(event) });
        if (next) {
          const fx = featureEffects(next, event);
          // Seeded, once appended, by the stored id of the release event (which names its place in the
          // stream: see appendReleaseEvents); histories from before it was returned use the uuid.
          if (fx.length > 0)
            effects.push({ effects: fx, eventIdSeed: id, index, actor: eventActor(event), at: event.data.at });
        }
        next = evolve(next, event);
      }
    } catch (error) {
      throw toFailure(error);
    }
    if (!next) throw ApplicationFailure.create({ type: "INTERNAL", message: "release state lost", nonRetryable: true });
    state = next;
    const expectedRevision = revision;
    revision += events.length;
    eventsThisRun += events.length;
    changes++;
    pendingAppends++;
    const { projectId, featureId } = release;
    const done = appendQueue.then(async () => {
      try {
        if (broken) throw broken;
        const appended = await appendReleaseEvents({
          releaseId,
          projectId,
          expectedRevision,
          events: toAppend,
          ...causation,
        });
        for (const { index, ...batch } of effects) {
          const eventIdSeed = appended.ids?.[index] ?? batch.eventIdSeed;
          await applyFeatureEffects({ featureId, releaseId, projectId, ...batch, eventIdSeed, ...causation });
        }
      } catch (error) {
        broken ??= toFailure(error);
        throw broken;
      } finally {
        pendingAppends--;
      }
    });
    // The queue goes on after a failure (later entries see `broken` and fail fast); callers get `done`.
    appendQueue = done.catch(() => undefined);
    return done;
  }

  /** The due automatic steps at `now`, then the action on top of them; throws DomainError when it does not apply. */
  function decideAction(action: ReleaseActionName, actionInput: ReleaseActionInput, now: string): Decided {
    const release = current();
    // Time is authoritative: a bake timer that has ended by `now` took effect before this action,
    // whether or not its timer task has been processed yet.
    const due = decide({ type: "Tick", data: {}, actor: SYSTEM_ACTOR, now }, release, gates);
    const ticked = due.reduce<ReleaseState>(evolve, release);
    return { due, action: decide(toCommand(action, actionInput, now), ticked, gates) };
  }

  /** The automatic steps due at `now` (none when the release cannot step). */
  function dueAt(now: string): ReleaseEvent[] {
    try {
      return decide({ type: "Tick", data: {}, actor: SYSTEM_ACTOR, now }, current(), gates);
    } catch {
      return [];
    }
  }

  async function tick(): Promise<void> {
    await refreshGates();
    let due: ReleaseEvent[];
    try {
      due = decide({ type: "Tick", data: {}, actor: SYSTEM_ACTOR, now: nowIso() }, current(), gates);
    } catch (error) {
      throw toFailure(error);
    }
    return record(due, { causationId: null, correlationId: releaseId, source: "timer" });
  }

  // Updates, not signals, for the API: the caller (a GraphQL mutation) must learn synchronously whether
  // the action applied and, if not, why (INVALID_STATE, FORBIDDEN, ...). The validator rejects an action
  // that does not apply before anything is written to history; the handler returns the release as it
  // stands once the action's events are stored. An update id derived from the request makes a retry
  // of the same request a no-op (Temporal deduplicates by update id within a run; `appliedUpdateIds`
  // across continue-as-new).
  for (const action of RELEASE_ACTIONS) {
    setHandler(
      releaseUpdates[action],
      async (raw: ReleaseActionInput): Promise<Release> => {
        const updateId = currentUpdateInfo()?.id ?? null;
        await condition(() => state !== null);
        if (updateId !== null && appliedUpdateIds.includes(updateId)) return current();
        await refreshGates();
        let decided: Decided;
        let actionInput: ReleaseActionInput;
        try {
          actionInput = parseActionInput(raw);
          decided = decideAction(action, actionInput, nowIso());
        } catch (error) {
          throw toFailure(error);
        }
        if (updateId !== null) {
          appliedUpdateIds.push(updateId);
          if (appliedUpdateIds.length > REMEMBERED_UPDATE_IDS) appliedUpdateIds.shift();
        }
        const correlationId = actionInput.correlationId ?? releaseId;
        const timer = record(decided.due, { causationId: null, correlationId: releaseId, source: "timer" });
        const applied = record(decided.action, { causationId: updateId, correlationId, source: "update" });
        await Promise.all([timer, applied]);
        return current();
      },
      {
        // Runs against the current state without changing it. Before the stream is loaded there is
        // nothing to check against: the handler waits for the load and decides then.
        validator: (raw: ReleaseActionInput): void => {
          if (!state) return;
          const updateId = currentUpdateInfo()?.id;
          if (updateId !== undefined && appliedUpdateIds.includes(updateId)) return;
          try {
            decideAction(action, parseActionInput(raw), nowIso());
          } catch (error) {
            throw toFailure(error);
          }
        },
      },
    );

    // Signals for integrations (Temporal CLI, chat bots) that cannot wait for an answer: the same
    // decider and role check; one that does not apply is stored as ReleaseSignalRejected with its reason.
    setHandler(releaseSignals[action], async (raw: ReleaseActionInput): Promise<void> => {
      await condition(() => state !== null);
      await refreshGates().catch(() => undefined);
      const checked = patched(SIGNALS_CHECKED_PATCH);
      let now = nowIso();
      const signalId = uuid4();
      let events: Decided;
      let correlationId = releaseId;
      try {
        let actionInput = parseActionInput(raw);
        correlationId = actionInput.correlationId ?? releaseId;
        if (checked) {
          const resolved = await resolveActor({
            name: actionInput.actor.name,
            projectId: current().projectId,
            at: now,
          });
          if (!resolved.ok) throw new DomainError(resolved.code, resolved.message);
          actionInput = { ...actionInput, actor: resolved.actor };
          now = nowIso();
        }
        events = decideAction(action, actionInput, now);
      } catch (error) {
        const failure = toFailure(error);
        const by = typeof raw?.actor?.name === "string" && raw.actor.name !== "" ? raw.actor.name : "unknown";
        events = {
          // The timer steps already due took effect first: the rejection was judged against them.
          due: checked ? dueAt(now) : [],
          action: [
            {
              type: "ReleaseSignalRejected",
              data: {
                releaseId,
                action: ACTION_KINDS[action],
                by,
                code: failure.type ?? "INTERNAL",
                message: failure.message,
                at: now,
              },
            },
          ],
        };
      }
      try {
        const timer = record(events.due, { causationId: null, correlationId: releaseId, source: "timer" });
        const applied = record(events.action, { causationId: signalId, correlationId, source: "signal" });
        await Promise.all([timer, applied]);
      } catch (error) {
        // A signal has nobody to answer: the main loop fails the run with the append's failure.
        log.error("signal could not be stored", { releaseId, action, error: toFailure(error).message });
      }
    });
  }

  setHandler(releaseState, () => state);
  // The project was frozen or unfrozen: the main loop wakes, reads the freeze again and ticks.
  setHandler(freezeChangedSignal, () => {
    changes++;
  });

  // Guardrails (decision 0041): while the current phase bakes or ramps, each of its guardrails is checked
  // every `interval` (the first one interval after it became active), each check an activity whose result
  // the decider records. Only releases whose phases have guardrails reach the patch, so histories of
  // releases without them replay unchanged.
  const checkDue = new Map<string, number>();
  const checking = new Set<string>();

  function runCheck(phaseIndex: number, guardrail: Guardrail, key: string): void {
    checking.add(key);
    const done = checkGuardrail({ releaseId, phaseIndex, guardrail }).catch(
      (error: unknown): GuardrailCheckResult => ({
        passed: false,
        couldRun: false,
        result: `could not run: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`,
      }),
    );
    void done.then((outcome) => {
      checking.delete(key);
      if (!state || broken) return;
      const now = nowIso();
      let due: ReleaseEvent[];
      let events: ReleaseEvent[];
      try {
        due = decide({ type: "Tick", data: {}, actor: SYSTEM_ACTOR, now }, current());
        const ticked = due.reduce<ReleaseState>(evolve, current());
        const command = { phaseIndex, name: guardrail.name, ...outcome };
        events = decide({ type: "RecordGuardrailCheck", data: command, actor: SYSTEM_ACTOR, now }, ticked);
      } catch (error) {
        log.error("guardrail result not recorded", { releaseId, error: toFailure(error).message });
        return;
      }
      const timer = record(due, { causationId: null, correlationId: releaseId, source: "timer" });
      const checked = record(events, { causationId: null, correlationId: releaseId, source: "guardrail" });
      changes++;
      // An append that fails for good ends the run in the main loop (`broken`).
      Promise.all([timer, checked]).catch(() => undefined);
    });
  }

  /** Starts the checks due now; answers when the next one is due (ms), or null. */
  function scheduleChecks(): number | null {
    const active = activeGuardrails(state);
    const prefix = active === null ? null : `${active.phaseIndex}:`;
    for (const key of [...checkDue.keys()]) if (prefix === null || !key.startsWith(prefix)) checkDue.delete(key);
    if (active === null || !patched("guardrail-checks")) return null;
    const now = Date.now();
    let next: number | null = null;
    for (const guardrail of active.guardrails) {
      const key = `${active.phaseIndex}:${guardrail.name}`;
      if (checking.has(key)) continue;
      const due = checkDue.get(key) ?? now + guardrail.intervalMs;
      if (due <= now) {
        runCheck(active.phaseIndex, guardrail, key);
        checkDue.set(key, now + guardrail.intervalMs);
        continue;
      }
      checkDue.set(key, due);
      next = next === null ? due : Math.min(next, due);
    }
    return next;
  }

  if (input.carried !== undefined && !patched(CARRIED_CHECKED_PATCH)) {
    state = input.carried.state;
    revision = input.carried.revision;
  }
  // With the patch, the carried state is only a hint: the stream is the truth (what a previous run stored).
  if (!state) {
    const loaded = await loadRelease(releaseId).catch((error: unknown) => {
      throw toFailure(error);
    });
    if (!loaded.state) {
      throw ApplicationFailure.create({
        type: "NOT_FOUND",
        message: `release ${releaseId} has no stored ReleaseStarted event`,
        nonRetryable: true,
      });
    }
    state = loaded.state;
    revision = loaded.revision;
    changes++;
  }

  const shouldContinueAsNew = (): boolean => workflowInfo().continueAsNewSuggested || eventsThisRun >= continueAfter;
  const atRest = (): boolean => pendingAppends === 0 && allHandlersFinished();

  await tick().catch((error: unknown) => {
    throw toFailure(error);
  });
  while (current().status === "IN_PROGRESS") {
    if (broken) await failOrResync(broken, input);
    if (shouldContinueAsNew()) {
      // Only at rest: no handler half-way, no append in flight. Every step of a phase (wait started,
      // approval requested, rolled out) is decided and appended as one unit, so a rest point is always
      // a boundary between steps and the carried state is exactly what the stream holds.
      await condition(() => atRest() || broken !== undefined);
      if (broken) await failOrResync(broken, input);
      const release = current();
      if (release.status === "IN_PROGRESS") {
        await continueAsNew<typeof releaseWorkflow>({
          releaseId,
          carried: { state: release, revision, appliedUpdateIds },
          options: input.options,
        });
      }
      break;
    }
    const seen = changes;
    const wakeUp = (): boolean => changes !== seen || broken !== undefined || shouldContinueAsNew();
    const release = current();
    const wakeAt = nextWakeAt(release);
    const checkAt = scheduleChecks();
    // A freeze with no end is read again now and then, in case the worker's signal never came.
    const frozen =
      release.status === "IN_PROGRESS" && release.phases[release.currentPhaseIndex]?.status === "FROZEN"
        ? Date.now() + FREEZE_RECHECK_MS
        : null;
    const wakeMs = [wakeAt === null ? null : Date.parse(wakeAt), checkAt, frozen].filter(
      (t): t is number => t !== null,
    );
    // Re-armed after every change: a pause clears nextWakeAt, an unpause sets it to now + the remaining time.
    if (wakeMs.length === 0) await condition(wakeUp);
    else await condition(wakeUp, Math.max(1, Math.min(...wakeMs) - Date.now()));
    await tick().catch((error: unknown) => {
      throw toFailure(error);
    });
  }

  // Signals that arrived late are still stored (as rejected) before the run completes.
  await condition(() => atRest() || broken !== undefined);
  if (broken) await failOrResync(broken, input);
  return current();
}

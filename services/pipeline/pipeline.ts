// Pipeline: ordered phases (targets, bake time, approval, action). DRAFT is editable; PUBLISHED is
// immutable and attachable; DELETED is kept for history. Clone a published pipeline to evolve it.

import { BOUNDS } from "../core/bounds.ts";
import type { Command, Decider } from "../core/decider.ts";
import { formatDuration, MAX_WAIT_MS, parseDuration } from "../core/duration.ts";
import { DomainError, validation } from "../core/errors.ts";
import {
  type Comparator,
  type Guardrail,
  type GuardrailKind,
  type GuardrailOutcome,
  jsonEqual,
  type Phase,
  type PhaseAction,
  type Ramp,
  type SelfApproval,
  type Target,
} from "../core/model.ts";
import { NAME_MAX, optionalText, type Project, requireName } from "../project/project.ts";
import type { PipelineCreated, PipelineEvent, PipelineUpdated } from "./events.ts";
import { type PromotionWindow, requireWindows } from "./windows.ts";

export interface Pipeline {
  id: string;
  projectId: string;
  name: string;
  description: string | null;
  status: "DRAFT" | "PUBLISHED" | "DELETED";
  /** Number of stored events: increments with each stored change. */
  version: number;
  selfApproval: SelfApproval;
  phases: Phase[];
  /** Promotion windows: when its phases may roll out (none: any time). Snapshotted by each release. */
  windows?: PromotionWindow[];
  createdAt: string;
  publishedAt: string | null;
  deletedAt: string | null;
  clonedFrom: string | null;
  /**
   * The features attached through this pipeline's stream (PipelineFeatureAttached). Attachments made before
   * these events existed are only on the features' streams: the delete handler passes those in.
   */
  attachedFeatureIds: string[];
}

export type PipelineState = Pipeline | null;

export interface TargetInput {
  environment: string;
  /** A segment key of the project; null or absent = the whole environment. */
  segment?: string | null;
}

/** The contract's PhaseInput; null means "use the default", as GraphQL may send it. */
export interface PhaseInput {
  name: string;
  /** ISO-8601 duration text, e.g. "PT30M". */
  waitFor?: string | null;
  requiresApproval?: boolean | null;
  approvalsRequired?: number | null;
  action?: PhaseAction | null;
  targets: TargetInput[];
  ramp?: RampInput | null;
  guardrails?: GuardrailInput[] | null;
}

/** The contract's GuardrailInput. */
export interface GuardrailInput {
  name: string;
  kind: GuardrailKind;
  url: string;
  query?: string | null;
  comparator?: Comparator | null;
  threshold?: number | null;
  interval: string;
  failuresToTrip?: number | null;
  onFailure?: GuardrailOutcome | null;
}

/** The contract's RampInput. */
export interface RampInput {
  initialPercentage: number;
  increaseBy: number;
  /** ISO-8601 duration text, 1 second to 1 day. */
  every: string;
}

export type CreatePipeline = Command<
  "CreatePipeline",
  {
    pipelineId: string;
    project: Project;
    name: string;
    description?: string | null;
    selfApproval?: SelfApproval | null;
    phases: PhaseInput[];
    windows?: unknown;
  }
>;
/** Absent (or null, for name/selfApproval/phases) = unchanged; `description: null` clears it. */
export type UpdatePipeline = Command<
  "UpdatePipeline",
  {
    project: Project;
    name?: string | null;
    description?: string | null;
    selfApproval?: SelfApproval | null;
    phases?: PhaseInput[] | null;
    /** Absent or null: unchanged; [] removes every window. */
    windows?: unknown;
  }
>;
export type PublishPipeline = Command<"PublishPipeline", Record<string, never>>;
/** Decided on the NEW pipeline's stream. */
export type ClonePipeline = Command<"ClonePipeline", { pipelineId: string; source: Pipeline; name?: string | null }>;
/** `attachedFeatureIds`: attachments the stream may not know (made before PipelineFeatureAttached existed). */
export type DeletePipeline = Command<"DeletePipeline", { attachedFeatureIds: string[] }>;
/** Records, before the feature's own event, that a feature is being attached: refused unless PUBLISHED. */
export type AttachFeature = Command<"AttachFeature", { featureId: string }>;
/** Records that a feature no longer uses the pipeline; idempotent. */
export type DetachFeature = Command<"DetachFeature", { featureId: string }>;
/**
 * A published pipeline's name and description may change, as LaunchDarkly allows; its phases never do.
 * `description`: absent = unchanged, null or blank = cleared.
 */
export type RenamePipeline = Command<
  "RenamePipeline",
  { name: string; description?: string | null; reason?: string | null }
>;

export type PipelineCommand =
  | CreatePipeline
  | UpdatePipeline
  | PublishPipeline
  | ClonePipeline
  | DeletePipeline
  | AttachFeature
  | DetachFeature
  | RenamePipeline;

const ACTIONS: readonly PhaseAction[] = ["APPLY_CHANGE", "ENABLE", "DISABLE"];
const SELF_APPROVALS: readonly SelfApproval[] = ["ALLOWED", "FORBIDDEN"];

// ---- validation ------------------------------------------------------------------------------

function normalizeTargets(project: Project, inputs: unknown, field: string): Target[] {
  if (!Array.isArray(inputs) || inputs.length === 0) throw validation(field, "at least one target is required");
  if (inputs.length > BOUNDS.targetsPerPhase) {
    throw validation(field, `at most ${BOUNDS.targetsPerPhase} targets per phase (got ${inputs.length})`);
  }
  const seen = new Set<string>();
  return (inputs as TargetInput[]).map((input, j) => {
    const at = `${field}[${j}]`;
    const { environment } = input;
    const segment = input.segment ?? null;
    if (!project.environments.includes(environment)) {
      throw validation(
        `${at}.environment`,
        `unknown environment "${String(environment)}" (project environments: ${project.environments.join(", ")})`,
      );
    }
    if (segment !== null && !project.segments.some((s) => s.key === segment)) {
      const keys = project.segments.map((s) => s.key);
      throw validation(
        `${at}.segment`,
        `unknown segment "${String(segment)}" (project segments: ${keys.length ? keys.join(", ") : "none"})`,
      );
    }
    const id = JSON.stringify([environment, segment]);
    if (seen.has(id)) {
      throw validation(at, `duplicate target ${environment}${segment === null ? "" : ` / ${segment}`} in this phase`);
    }
    seen.add(id);
    return { environment, segment };
  });
}

function normalizeWait(text: unknown, field: string): { waitFor: string | null; waitForMs: number | null } {
  if (text === null || text === undefined) return { waitFor: null, waitForMs: null };
  const ms = typeof text === "string" ? parseDuration(text) : null;
  if (ms === null) {
    throw validation(field, `"${String(text)}" is not an ISO-8601 duration (e.g. PT30M, PT2H, P1D)`);
  }
  if (ms <= 0) throw validation(field, "must be longer than zero (omit it to roll out on enter)");
  if (ms > MAX_WAIT_MS) throw validation(field, `must be at most 365 days (P365D), got ${text}`);
  return { waitFor: formatDuration(ms), waitForMs: ms };
}

/** A percentage within (0, 100]. */
function requirePercentage(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 100) {
    throw validation(field, `must be a percentage within (0, 100] (got ${String(value)})`);
  }
  return value;
}

/** A ramp's `every` or a guardrail's `interval`: an ISO-8601 duration from 1 second to 1 day. */
export function normalizeInterval(text: unknown, field: string): { text: string; ms: number } {
  const ms = typeof text === "string" ? parseDuration(text) : null;
  if (ms === null) throw validation(field, `"${String(text)}" is not an ISO-8601 duration (e.g. PT30S, PT1H)`);
  if (ms < BOUNDS.progressionIntervalMinMs || ms > BOUNDS.progressionIntervalMaxMs) {
    throw validation(field, `must be from 1 second (PT1S) to 1 day (P1D), got ${String(text)}`);
  }
  return { text: formatDuration(ms), ms };
}

function normalizeRamp(input: RampInput | null | undefined, field: string): { ramp?: Ramp } {
  if (input === null || input === undefined) return {};
  if (typeof input !== "object") throw validation(field, "must be an object");
  const initialPercentage = requirePercentage(input.initialPercentage, `${field}.initialPercentage`);
  const increaseBy = requirePercentage(input.increaseBy, `${field}.increaseBy`);
  const every = normalizeInterval(input.every, `${field}.every`);
  return { ramp: { initialPercentage, increaseBy, every: every.text, everyMs: every.ms } };
}

const GUARDRAIL_KINDS: readonly GuardrailKind[] = ["HTTP_PROBE", "PROMETHEUS_QUERY"];
const COMPARATORS: readonly Comparator[] = ["LT", "LTE", "GT", "GTE"];
const OUTCOMES: readonly GuardrailOutcome[] = ["PAUSE", "ABORT"];

/** An http(s) URL without credentials. */
function requireCheckUrl(value: unknown, field: string): string {
  if (typeof value !== "string" || value.trim() === "") throw validation(field, "must be an http(s) URL");
  const text = value.trim();
  if (text.length > BOUNDS.guardrailUrlChars) {
    throw validation(field, `must be at most ${BOUNDS.guardrailUrlChars} characters (got ${text.length})`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw validation(field, `"${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw validation(field, `must be an http or https URL (got ${url.protocol.replace(/:$/, "")})`);
  }
  if (url.username !== "" || url.password !== "") throw validation(field, "must not carry credentials");
  return text;
}

function normalizeGuardrails(inputs: GuardrailInput[] | null | undefined, field: string): { guardrails?: Guardrail[] } {
  if (inputs === null || inputs === undefined) return {};
  if (!Array.isArray(inputs)) throw validation(field, "must be a list");
  if (inputs.length > BOUNDS.guardrailsPerPhase) {
    throw validation(field, `at most ${BOUNDS.guardrailsPerPhase} guardrails per phase (got ${inputs.length})`);
  }
  if (inputs.length === 0) return {};
  const names = new Set<string>();
  const guardrails = inputs.map((input, i): Guardrail => {
    const at = `${field}[${i}]`;
    const name = requireName(`${at}.name`, input.name);
    if (names.has(name.toLowerCase()))
      throw validation(`${at}.name`, `duplicate guardrail name "${name}" in this phase`);
    names.add(name.toLowerCase());
    if (!GUARDRAIL_KINDS.includes(input.kind)) {
      throw validation(`${at}.kind`, `must be one of ${GUARDRAIL_KINDS.join(", ")} (got ${String(input.kind)})`);
    }
    const url = requireCheckUrl(input.url, `${at}.url`);
    const interval = normalizeInterval(input.interval, `${at}.interval`);
    const failuresToTrip = input.failuresToTrip ?? 3;
    if (!Number.isInteger(failuresToTrip) || failuresToTrip < 1 || failuresToTrip > BOUNDS.failuresToTrip) {
      throw validation(
        `${at}.failuresToTrip`,
        `must be an integer from 1 to ${BOUNDS.failuresToTrip} (got ${failuresToTrip})`,
      );
    }
    const onFailure = input.onFailure ?? "PAUSE";
    if (!OUTCOMES.includes(onFailure)) {
      throw validation(`${at}.onFailure`, `must be PAUSE or ABORT (got ${String(onFailure)})`);
    }
    let query: string | null = null;
    let comparator: Comparator | null = null;
    let threshold: number | null = null;
    if (input.kind === "PROMETHEUS_QUERY") {
      if (typeof input.query !== "string" || input.query.trim() === "") {
        throw validation(`${at}.query`, "is required for a PROMETHEUS_QUERY guardrail (a PromQL instant query)");
      }
      query = input.query.trim();
      if (query.length > BOUNDS.guardrailQueryChars) {
        throw validation(
          `${at}.query`,
          `must be at most ${BOUNDS.guardrailQueryChars} characters (got ${query.length})`,
        );
      }
      if (!COMPARATORS.includes(input.comparator as Comparator)) {
        throw validation(`${at}.comparator`, `is required: one of ${COMPARATORS.join(", ")}`);
      }
      comparator = input.comparator as Comparator;
      if (typeof input.threshold !== "number" || !Number.isFinite(input.threshold)) {
        throw validation(`${at}.threshold`, "is required: a finite number");
      }
      threshold = input.threshold;
    } else if (input.query != null || input.comparator != null || input.threshold != null) {
      throw validation(`${at}.query`, "query, comparator and threshold are for PROMETHEUS_QUERY guardrails only");
    }
    return {
      name,
      kind: input.kind,
      url,
      query,
      comparator,
      threshold,
      interval: interval.text,
      intervalMs: interval.ms,
      failuresToTrip,
      onFailure,
    };
  });
  return { guardrails };
}

function normalizeApproval(input: PhaseInput, field: string): { requiresApproval: boolean; approvalsRequired: number } {
  const requiresApproval = input.requiresApproval ?? false;
  if (typeof requiresApproval !== "boolean") throw validation(`${field}.requiresApproval`, "must be a boolean");
  const approvalsRequired = input.approvalsRequired ?? 1;
  if (!Number.isInteger(approvalsRequired)) throw validation(`${field}.approvalsRequired`, "must be an integer");
  if (requiresApproval && approvalsRequired < 1) {
    throw validation(
      `${field}.approvalsRequired`,
      `must be at least 1 when approval is required (got ${approvalsRequired})`,
    );
  }
  if (approvalsRequired < 0) throw validation(`${field}.approvalsRequired`, "must not be negative");
  if (approvalsRequired > BOUNDS.approvalsRequired) {
    throw validation(
      `${field}.approvalsRequired`,
      `must be at most ${BOUNDS.approvalsRequired} (got ${approvalsRequired})`,
    );
  }
  return { requiresApproval, approvalsRequired };
}

/**
 * Validates phase inputs against the project and normalizes them into model phases: defaults
 * applied, `waitFor` in canonical ISO-8601 form beside `waitForMs`. Errors name the field,
 * e.g. `phases[1].waitFor`.
 */
export function normalizePhases(project: Project, inputs: readonly PhaseInput[], field = "phases"): Phase[] {
  if (!Array.isArray(inputs) || inputs.length === 0) throw validation(field, "at least one phase is required");
  if (inputs.length > BOUNDS.phasesPerPipeline) {
    throw validation(field, `at most ${BOUNDS.phasesPerPipeline} phases per pipeline (got ${inputs.length})`);
  }
  return inputs.map((input, i) => {
    const at = `${field}[${i}]`;
    const name = requireName(`${at}.name`, input.name);
    const action = input.action ?? "APPLY_CHANGE";
    if (!ACTIONS.includes(action)) {
      throw validation(`${at}.action`, `must be one of ${ACTIONS.join(", ")} (got ${String(action)})`);
    }
    return {
      name,
      ...normalizeWait(input.waitFor, `${at}.waitFor`),
      ...normalizeApproval(input, at),
      action,
      targets: normalizeTargets(project, input.targets, `${at}.targets`),
      ...normalizeRamp(input.ramp, `${at}.ramp`),
      ...normalizeGuardrails(input.guardrails, `${at}.guardrails`),
    };
  });
}

function normalizeSelfApproval(value: unknown): SelfApproval {
  if (!SELF_APPROVALS.includes(value as SelfApproval)) {
    throw validation("selfApproval", `must be ALLOWED or FORBIDDEN (got ${String(value)})`);
  }
  return value as SelfApproval;
}

// ---- commands --------------------------------------------------------------------------------

function requireExisting(state: PipelineState): Pipeline {
  if (state === null) throw new DomainError("NOT_FOUND", "pipeline not found");
  return state;
}

function requireDraft(state: PipelineState, doing: string): Pipeline {
  const pipeline = requireExisting(state);
  if (pipeline.status !== "DRAFT") {
    throw new DomainError(
      "IMMUTABLE",
      `pipeline ${pipeline.id} is ${pipeline.status}: cannot ${doing}` +
        (pipeline.status === "PUBLISHED" ? " (clone it to make an editable draft)" : ""),
    );
  }
  return pipeline;
}

function createPipeline(command: CreatePipeline, state: PipelineState): PipelineCreated[] {
  const { pipelineId, project, name, description, selfApproval, phases } = command.data;
  if (state !== null) throw new DomainError("CONFLICT", `pipeline ${state.id} already exists`);
  const windows = requireWindows("windows", command.data.windows);
  return [
    {
      type: "PipelineCreated",
      data: {
        pipelineId,
        projectId: project.id,
        name: requireName("name", name),
        description: optionalText("description", description) ?? null,
        selfApproval: normalizeSelfApproval(selfApproval ?? "ALLOWED"),
        phases: normalizePhases(project, phases),
        clonedFrom: null,
        ...(windows.length > 0 && { windows }),
        at: command.now,
      },
    },
  ];
}

/** Emits only the fields that differ; nothing when nothing does (a retried update is a no-op). */
function updatePipeline(command: UpdatePipeline, state: PipelineState): PipelineUpdated[] {
  const pipeline = requireDraft(state, "update it");
  const { project, name, description, selfApproval, phases } = command.data;
  if (project.id !== pipeline.projectId) {
    throw new DomainError("INTERNAL", `pipeline ${pipeline.id} is not in project ${project.id}`);
  }
  const changes: Omit<PipelineUpdated["data"], "pipelineId" | "at"> = {};
  if (name !== undefined && name !== null) {
    const next = requireName("name", name);
    if (next !== pipeline.name) changes.name = next;
  }
  const nextDescription = optionalText("description", description);
  if (nextDescription !== undefined && nextDescription !== pipeline.description) changes.description = nextDescription;
  if (selfApproval !== undefined && selfApproval !== null) {
    const next = normalizeSelfApproval(selfApproval);
    if (next !== pipeline.selfApproval) changes.selfApproval = next;
  }
  if (phases !== undefined && phases !== null) {
    const next = normalizePhases(project, phases);
    if (!jsonEqual(next, pipeline.phases)) changes.phases = next;
  }
  if (command.data.windows !== undefined && command.data.windows !== null) {
    const next = requireWindows("windows", command.data.windows);
    if (!jsonEqual(next, pipeline.windows ?? [])) changes.windows = next;
  }
  if (Object.keys(changes).length === 0) return [];
  return [{ type: "PipelineUpdated", data: { pipelineId: pipeline.id, ...changes, at: command.now } }];
}

function publishPipeline(command: PublishPipeline, state: PipelineState): PipelineEvent[] {
  const pipeline = requireDraft(state, "publish it");
  return [{ type: "PipelinePublished", data: { pipelineId: pipeline.id, at: command.now } }];
}

function clonePipeline(command: ClonePipeline, state: PipelineState): PipelineCreated[] {
  const { pipelineId, source, name } = command.data;
  if (state !== null) throw new DomainError("CONFLICT", `pipeline ${state.id} already exists`);
  // A deleted pipeline is gone for every purpose but history: it cannot be a source.
  if (source.status === "DELETED") throw new DomainError("NOT_FOUND", `pipeline ${source.id} was deleted`);
  const cloneName =
    name === undefined || name === null ? `${source.name} (copy)`.slice(0, NAME_MAX) : requireName("name", name);
  return [
    {
      type: "PipelineCreated",
      data: {
        pipelineId,
        projectId: source.projectId,
        name: cloneName,
        description: source.description,
        selfApproval: source.selfApproval,
        phases: source.phases,
        clonedFrom: source.id,
        ...((source.windows ?? []).length > 0 && { windows: source.windows }),
        at: command.now,
      },
    },
  ];
}

function deletePipeline(command: DeletePipeline, state: PipelineState): PipelineEvent[] {
  const pipeline = requireExisting(state);
  if (pipeline.status === "DELETED") throw new DomainError("IMMUTABLE", `pipeline ${pipeline.id} is already deleted`);
  // PIPELINE_IN_USE's one home: what the stream records (serialized with attaches by its revision) and
  // what the caller found on the features' side for older attachments.
  const attachedFeatureIds = [...new Set([...pipeline.attachedFeatureIds, ...command.data.attachedFeatureIds])];
  if (attachedFeatureIds.length > 0) {
    throw new DomainError(
      "PIPELINE_IN_USE",
      `pipeline ${pipeline.id} is attached to ${attachedFeatureIds.length} feature(s) (${attachedFeatureIds.join(", ")}): detach it first`,
    );
  }
  return [{ type: "PipelineDeleted", data: { pipelineId: pipeline.id, at: command.now } }];
}

/** Stores only what differs; nothing when nothing does. */
function renamePipeline(command: RenamePipeline, state: PipelineState): PipelineEvent[] {
  const pipeline = requireExisting(state);
  if (pipeline.status === "DELETED")
    throw new DomainError("IMMUTABLE", `pipeline ${pipeline.id} is deleted: cannot rename it`);
  const name = requireName("name", command.data.name);
  const description = optionalText("description", command.data.description);
  const reason = optionalText("reason", command.data.reason) ?? null;
  const changes: { name?: string; description?: string | null } = {};
  if (name !== pipeline.name) changes.name = name;
  if (description !== undefined && description !== pipeline.description) changes.description = description;
  if (Object.keys(changes).length === 0) return [];
  return [{ type: "PipelineRenamed", data: { pipelineId: pipeline.id, ...changes, reason, at: command.now } }];
}

function attachFeature(command: AttachFeature, state: PipelineState): PipelineEvent[] {
  const pipeline = requireExisting(state);
  if (pipeline.status !== "PUBLISHED") {
    throw new DomainError(
      "PIPELINE_NOT_PUBLISHED",
      `pipeline ${pipeline.id} is ${pipeline.status}: only a published pipeline can be attached`,
    );
  }
  const { featureId } = command.data;
  if (pipeline.attachedFeatureIds.includes(featureId)) return [];
  return [{ type: "PipelineFeatureAttached", data: { pipelineId: pipeline.id, featureId, at: command.now } }];
}

function detachFeature(command: DetachFeature, state: PipelineState): PipelineEvent[] {
  const { featureId } = command.data;
  if (state === null || !state.attachedFeatureIds.includes(featureId)) return [];
  return [{ type: "PipelineFeatureDetached", data: { pipelineId: state.id, featureId, at: command.now } }];
}

export function decidePipeline(command: PipelineCommand, state: PipelineState): PipelineEvent[] {
  switch (command.type) {
    case "CreatePipeline":
      return createPipeline(command, state);
    case "UpdatePipeline":
      return updatePipeline(command, state);
    case "PublishPipeline":
      return publishPipeline(command, state);
    case "ClonePipeline":
      return clonePipeline(command, state);
    case "DeletePipeline":
      return deletePipeline(command, state);
    case "AttachFeature":
      return attachFeature(command, state);
    case "DetachFeature":
      return detachFeature(command, state);
    case "RenamePipeline":
      return renamePipeline(command, state);
    default: {
      const unknown: never = command;
      throw new DomainError("INTERNAL", `unknown pipeline command ${JSON.stringify(unknown)}`);
    }
  }
}

/** Also the read model's evolve, and `pipelineAsOf`'s over a prefix of the stream. */
export function evolvePipeline(state: PipelineState, event: PipelineEvent): PipelineState {
  switch (event.type) {
    case "PipelineCreated": {
      const { pipelineId, projectId, name, description, selfApproval, phases, clonedFrom, at } = event.data;
      const { windows } = event.data;
      return {
        id: pipelineId,
        projectId,
        name,
        description,
        status: "DRAFT",
        version: (state?.version ?? 0) + 1,
        selfApproval,
        phases,
        ...(windows !== undefined && { windows }),
        createdAt: at,
        publishedAt: null,
        deletedAt: null,
        clonedFrom,
        attachedFeatureIds: [],
      };
    }
    case "PipelineUpdated": {
      if (state === null) return state;
      const { name, description, selfApproval, phases, windows } = event.data;
      return {
        ...state,
        ...(windows !== undefined && { windows }),
        ...(name !== undefined && { name }),
        ...(description !== undefined && { description }),
        ...(selfApproval !== undefined && { selfApproval }),
        ...(phases !== undefined && { phases }),
        version: state.version + 1,
      };
    }
    case "PipelineRenamed": {
      if (state === null) return state;
      const { name, description } = event.data;
      return {
        ...state,
        ...(name !== undefined && { name }),
        ...(description !== undefined && { description }),
        version: state.version + 1,
      };
    }
    case "PipelinePublished":
      return state && { ...state, status: "PUBLISHED", publishedAt: event.data.at, version: state.version + 1 };
    case "PipelineDeleted":
      return state && { ...state, status: "DELETED", deletedAt: event.data.at, version: state.version + 1 };
    // Attachments are not changes of the pipeline: its version (what a release snapshots) stays.
    case "PipelineFeatureAttached":
      return state && { ...state, attachedFeatureIds: [...state.attachedFeatureIds, event.data.featureId] };
    case "PipelineFeatureDetached":
      return (
        state && {
          ...state,
          attachedFeatureIds: state.attachedFeatureIds.filter((id) => id !== event.data.featureId),
        }
      );
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
}

export const pipelineDecider: Decider<PipelineState, PipelineCommand, PipelineEvent> = {
  initialState: () => null,
  evolve: evolvePipeline,
  decide: decidePipeline,
};

// Every GraphQL document the console sends, typed with the shapes it selects (the names are the
// public contract's: schema/contract/*.graphql).

import { doc } from "./doc.ts";

export type Role = "VIEWER" | "EDITOR" | "APPROVER" | "ADMIN";
export type PhaseStatus =
  | "PENDING"
  | "WAITING"
  | "PAUSED"
  | "AWAITING_APPROVAL"
  | "ROLLED_OUT"
  | "SKIPPED_WAIT"
  | "FROZEN"
  | "AWAITING_WINDOW";
export type ReleaseStatus = "IN_PROGRESS" | "COMPLETED" | "ABORTED";

export interface Viewer {
  tokenName: string;
  projectId: string | null;
  role: Role;
}
export interface Target {
  environment: string;
  segment: string | null;
}
export interface Rule {
  segment: string;
  enabled: boolean;
  value: unknown;
  rolloutPercentage: number;
}
export interface Definition {
  enabled: boolean;
  value: unknown;
  rules: Rule[];
}
export interface EnvironmentDefinition {
  environment: string;
  definition: Definition;
}
export interface Segment {
  key: string;
  attribute: string;
  operator: "IN" | "NOT_IN";
  values: string[];
}
export interface Freeze {
  reason: string;
  by: string;
  since: string;
  until: string | null;
}
export interface ProjectSummary {
  id: string;
  name: string;
  environments: string[];
  segments: Segment[];
  freeze: Freeze | null;
}
export interface PromotionWindow {
  days: string[];
  start: string;
  end: string;
  timeZone: string;
}
export interface Phase {
  index: number;
  name: string;
  waitFor: string | null;
  requiresApproval: boolean;
  approvalsRequired: number;
  action: "APPLY_CHANGE" | "ENABLE" | "DISABLE";
  targets: Target[];
  ramp: Ramp | null;
  guardrails: Guardrail[];
}
/** A health check run while the phase bakes or ramps (the contract's Guardrail / GuardrailInput). */
export interface Guardrail {
  name: string;
  kind: "HTTP_PROBE" | "PROMETHEUS_QUERY";
  url: string;
  query: string | null;
  comparator: "LT" | "LTE" | "GT" | "GTE" | null;
  threshold: number | null;
  interval: string;
  failuresToTrip: number;
  onFailure: "PAUSE" | "ABORT";
}
export interface GuardrailState {
  name: string;
  consecutiveFailures: number;
  lastCheckedAt: string | null;
  lastResult: string | null;
}
/** Within a phase: initialPercentage of units, then + increaseBy every `every` (ISO-8601). */
export interface Ramp {
  initialPercentage: number;
  increaseBy: number;
  every: string;
}
export interface Pipeline {
  id: string;
  name: string;
  description: string | null;
  status: "DRAFT" | "PUBLISHED" | "DELETED";
  version: number;
  selfApproval: "ALLOWED" | "FORBIDDEN";
  phases: Phase[];
  windows: PromotionWindow[];
  attachedFeatures: { id: string; key: string }[];
  createdAt: string;
  publishedAt: string | null;
  project: { id: string; name: string; environments: string[]; segments: Segment[] };
}
export interface ReleasePhase {
  index: number;
  name: string;
  status: PhaseStatus;
  waitStartedAt: string | null;
  waitEndsAt: string | null;
  remainingWait: string | null;
  approvals: { by: string; at: string; comment: string | null }[];
  rolledOutAt: string | null;
  heldUntil: string | null;
  /** The share of units served the new definition: the ramp's step while ramping, 100 once rolled out. */
  rolloutPercentage: number;
  guardrails: GuardrailState[];
}
export interface Release {
  id: string;
  status: ReleaseStatus;
  currentPhaseIndex: number | null;
  startedBy: string;
  startedAt: string;
  endedAt: string | null;
  abortReason: string | null;
  version: number;
  pipelineVersion: number;
  feature: { id: string; key: string; kind: string; project: { id: string; name: string } };
  pipeline: {
    id: string;
    name: string;
    selfApproval: "ALLOWED" | "FORBIDDEN";
    phases: {
      index: number;
      waitFor: string | null;
      requiresApproval: boolean;
      approvalsRequired: number;
      targets: Target[];
      ramp: Ramp | null;
      guardrails: Guardrail[];
    }[];
  };
  phases: ReleasePhase[];
  before: EnvironmentDefinition[];
  after: EnvironmentDefinition[];
  actions: { kind: string; by: string; at: string; reason: string | null; phaseIndex: number | null }[];
}
export interface FeatureSummary {
  id: string;
  key: string;
  kind: "GATE" | "DYNAMIC_CONFIG";
  description: string | null;
  pipeline: { id: string; name: string } | null;
  activeRelease: {
    id: string;
    status: ReleaseStatus;
    currentPhaseIndex: number | null;
    phases: { status: PhaseStatus; name: string }[];
  } | null;
}
export interface Feature extends FeatureSummary {
  version: number;
  project: ProjectSummary;
  environments: { environment: string; definition: Definition; rolledOutTargets: Target[] }[];
  releases: { id: string; status: ReleaseStatus; startedBy: string; startedAt: string; endedAt: string | null }[];
}
export interface AuditEvent {
  id: string;
  position: string;
  type: string;
  stream: string;
  entityId: string;
  projectId: string;
  actor: string;
  at: string;
  data: unknown;
}

const DEFINITION = /* GraphQL */ `enabled value rules { segment enabled value rolloutPercentage }`;
const PROJECT_SUMMARY = /* GraphQL */ `id name environments segments { key attribute operator values }
  freeze { reason by since until }`;
const RELEASE = /* GraphQL */ `
  id status currentPhaseIndex startedBy startedAt endedAt abortReason version pipelineVersion
  feature { id key kind project { id name } }
  pipeline { id name selfApproval phases { index waitFor requiresApproval approvalsRequired targets { environment segment } ramp { initialPercentage increaseBy every } guardrails { name kind url query comparator threshold interval failuresToTrip onFailure } } }
  phases { index name status waitStartedAt waitEndsAt remainingWait approvals { by at comment } rolledOutAt rolloutPercentage guardrails { name consecutiveFailures lastCheckedAt lastResult } heldUntil }
  before { environment definition { ${DEFINITION} } }
  after { environment definition { ${DEFINITION} } }
  actions { kind by at reason phaseIndex }`;
const FEATURE_SUMMARY = /* GraphQL */ `
  id key kind description pipeline { id name }
  activeRelease { id status currentPhaseIndex phases { status name } }`;
const FEATURE = /* GraphQL */ `${FEATURE_SUMMARY} version
  project { ${PROJECT_SUMMARY} }
  environments { environment definition { ${DEFINITION} } rolledOutTargets { environment segment } }
  releases { id status startedBy startedAt endedAt }`;
const PIPELINE = /* GraphQL */ `
  id name description status version selfApproval createdAt publishedAt
  phases { index name waitFor requiresApproval approvalsRequired action targets { environment segment } ramp { initialPercentage increaseBy every } guardrails { name kind url query comparator threshold interval failuresToTrip onFailure } }
  windows { days start end timeZone }
  attachedFeatures { id key }
  project { id name environments segments { key attribute operator values } }`;
const AUDIT_EVENT = /* GraphQL */ `id position type stream entityId projectId actor at data`;

export const VIEWER = doc<{ viewer: Viewer }>(`query Viewer { viewer { tokenName projectId role } }`);

export const PROJECTS = doc<{
  projects: (ProjectSummary & { features: { id: string }[]; releases: { id: string }[] })[];
}>(`query Projects { projects { ${PROJECT_SUMMARY} features { id } releases(status: IN_PROGRESS) { id } } }`);

export const CREATE_PROJECT = doc<
  { createProject: { id: string } },
  { input: { name: string; environments: string[]; segments: Segment[] } }
>(`mutation CreateProject($input: CreateProjectInput!) { createProject(input: $input) { id } }`);

export const PROJECT = doc<
  {
    project:
      | (ProjectSummary & {
          features: FeatureSummary[];
          pipelines: { id: string; name: string; status: string; version: number; phases: { index: number }[] }[];
        })
      | null;
  },
  { id: string }
>(`query Project($id: ID!) { project(id: $id) { ${PROJECT_SUMMARY}
  features { ${FEATURE_SUMMARY} }
  pipelines { id name status version phases { index } } } }`);

export const PROJECT_RELEASES = doc<
  { project: { id: string; name: string; releases: Release[] } | null },
  { id: string; status: ReleaseStatus | null }
>(
  `query ProjectReleases($id: ID!, $status: ReleaseStatus) { project(id: $id) { id name releases(status: $status) { ${RELEASE} } } }`,
);

export const FEATURE_QUERY = doc<{ feature: Feature | null }, { id: string }>(
  `query Feature($id: ID!) { feature(id: $id) { ${FEATURE} } }`,
);

export const FEATURE_HISTORY = doc<{ feature: { history: { edges: { node: AuditEvent }[] } } | null }, { id: string }>(
  `query FeatureHistory($id: ID!) { feature(id: $id) { history(first: 30) { edges { node { ${AUDIT_EVENT} } } } } }`,
);

export const CREATE_FEATURE = doc<
  { createFeature: { id: string } },
  { input: { projectId: string; key: string; kind: string; description?: string; pipelineId?: string } }
>(`mutation CreateFeature($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`);

export const UPDATE_FEATURE = doc<
  { updateFeature: { __typename: "Feature"; id: string } | { __typename: "Release"; id: string } },
  { id: string; input: { description?: string; environments: EnvironmentDefinition[] } }
>(`mutation UpdateFeature($id: ID!, $input: UpdateFeatureInput!) {
  updateFeature(id: $id, input: $input) { __typename ... on Feature { id } ... on Release { id } } }`);

export const ATTACH_PIPELINE = doc<{ attachPipeline: { id: string } }, { featureId: string; pipelineId: string }>(
  `mutation Attach($featureId: ID!, $pipelineId: ID!) { attachPipeline(featureId: $featureId, pipelineId: $pipelineId) { id } }`,
);
export const DETACH_PIPELINE = doc<{ detachPipeline: { id: string } }, { featureId: string }>(
  `mutation Detach($featureId: ID!) { detachPipeline(featureId: $featureId) { id } }`,
);
export const START_RELEASE = doc<{ startRelease: { id: string } }, { featureId: string; reason: string | null }>(
  `mutation StartRelease($featureId: ID!, $reason: String) { startRelease(featureId: $featureId, reason: $reason) { id } }`,
);

export const RELEASE_QUERY = doc<{ release: Release | null }, { id: string }>(
  `query Release($id: ID!) { release(id: $id) { ${RELEASE} } }`,
);
export const RELEASE_UPDATED = doc<{ releaseUpdated: Release }, { id: string }>(
  `subscription ReleaseUpdated($id: ID!) { releaseUpdated(id: $id) { ${RELEASE} } }`,
);
export const FEATURE_RELEASES = doc<{ featureReleases: Release }, { featureId: string }>(
  `subscription FeatureReleases($featureId: ID!) { featureReleases(featureId: $featureId) { ${RELEASE} } }`,
);
export const APPROVAL_REQUESTED = doc<
  {
    approvalRequested: {
      id: string;
      currentPhaseIndex: number | null;
      feature: { key: string };
      phases: { name: string }[];
    };
  },
  { projectId: string }
>(`subscription ApprovalRequested($projectId: ID!) {
  approvalRequested(projectId: $projectId) { id currentPhaseIndex feature { key } phases { name } } }`);

export const AUDIT_EVENTS = doc<{ auditEvents: AuditEvent }, { filter: { projectId?: string; entityId?: string } }>(
  `subscription AuditEvents($filter: AuditFilter) { auditEvents(filter: $filter) { ${AUDIT_EVENT} } }`,
);

export type ActionField =
  | "approveRelease"
  | "pauseRelease"
  | "unpauseRelease"
  | "skipPhase"
  | "abortRelease"
  | "fullRollout"
  | "rollbackToPhase"
  | "breakGlass";
/**
 * One document per action; approve takes a comment, the others a reason; abort and full roll out no phase;
 * rollbackToPhase its target phase (required); breakGlass its reason (required), no phase.
 */
export const actionDocument = (field: ActionField) => {
  const text = field === "approveRelease" ? "comment" : "reason";
  if (field === "rollbackToPhase") {
    return doc<Record<ActionField, Release>, { id: string; text: string | null; phaseIndex?: number }>(
      `mutation Action($id: ID!, $text: String, $phaseIndex: Int!) {
      rollbackToPhase(id: $id, reason: $text, phaseIndex: $phaseIndex) { ${RELEASE} } }`,
    );
  }
  const phased = field !== "abortRelease" && field !== "fullRollout" && field !== "breakGlass";
  // Break glass must say why: its reason is required.
  const textType = field === "breakGlass" ? "String!" : "String";
  return doc<Record<ActionField, Release>, { id: string; text: string | null; phaseIndex?: number }>(
    `mutation Action($id: ID!, $text: ${textType}${phased ? ", $phaseIndex: Int" : ""}) {
      ${field}(id: $id, ${text}: $text${phased ? ", phaseIndex: $phaseIndex" : ""}) { ${RELEASE} } }`,
  );
};

export const PIPELINE_QUERY = doc<{ pipeline: Pipeline | null }, { id: string }>(
  `query Pipeline($id: ID!) { pipeline(id: $id) { ${PIPELINE} } }`,
);
export interface PhaseInput {
  name: string;
  waitFor: string | null;
  requiresApproval: boolean;
  approvalsRequired: number;
  action: "APPLY_CHANGE" | "ENABLE" | "DISABLE";
  targets: Target[];
  ramp?: Ramp | null;
  guardrails?: Guardrail[] | null;
}
export const CREATE_PIPELINE = doc<
  { createPipeline: { id: string } },
  { input: { projectId: string; name: string; description?: string; selfApproval: string; phases: PhaseInput[] } }
>(`mutation CreatePipeline($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }`);
export const UPDATE_PIPELINE = doc<
  { updatePipeline: Pipeline },
  { id: string; input: { name: string; description: string | null; selfApproval: string; phases: PhaseInput[] } }
>(
  `mutation UpdatePipeline($id: ID!, $input: UpdatePipelineInput!) { updatePipeline(id: $id, input: $input) { ${PIPELINE} } }`,
);
export const PUBLISH_PIPELINE = doc<{ publishPipeline: Pipeline }, { id: string }>(
  `mutation Publish($id: ID!) { publishPipeline(id: $id) { ${PIPELINE} } }`,
);
export const CLONE_PIPELINE = doc<{ clonePipeline: { id: string } }, { id: string; name: string | null }>(
  `mutation Clone($id: ID!, $name: String) { clonePipeline(id: $id, name: $name) { id } }`,
);
export const DELETE_PIPELINE = doc<{ deletePipeline: Pipeline }, { id: string }>(
  `mutation Delete($id: ID!) { deletePipeline(id: $id) { ${PIPELINE} } }`,
);

export interface AuditFilter {
  projectId?: string;
  entityId?: string;
  types?: string[];
  actor?: string;
  from?: string;
  to?: string;
}
export const AUDIT_LOG = doc<
  { auditLog: { edges: { node: AuditEvent }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } },
  { filter: AuditFilter; order: "ASC" | "DESC"; first: number; after: string | null }
>(`query AuditLog($filter: AuditFilter, $order: SortOrder, $first: Int, $after: String) {
  auditLog(filter: $filter, order: $order, first: $first, after: $after) {
    edges { node { ${AUDIT_EVENT} } } pageInfo { hasNextPage endCursor } } }`);

export const FEATURE_AS_OF = doc<{ featureAsOf: Feature | null }, { id: string; position: string }>(
  `query FeatureAsOf($id: ID!, $position: String) { featureAsOf(id: $id, position: $position) { ${FEATURE} } }`,
);
export const RELEASE_AS_OF = doc<{ releaseAsOf: Release | null }, { id: string; position: string }>(
  `query ReleaseAsOf($id: ID!, $position: String) { releaseAsOf(id: $id, position: $position) { ${RELEASE} } }`,
);
export const PIPELINE_AS_OF = doc<{ pipelineAsOf: Pipeline | null }, { id: string; position: string }>(
  `query PipelineAsOf($id: ID!, $position: String) { pipelineAsOf(id: $id, position: $position) { ${PIPELINE} } }`,
);

// ---- ADMIN: tokens and SDK keys (contract-next "Tokens and limits" and "Serving") --------------------

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  projectId: string | null;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
}
export const API_TOKENS = doc<{ apiTokens: ApiToken[] }, { includeRevoked: boolean }>(
  `query ApiTokens($includeRevoked: Boolean) { apiTokens(includeRevoked: $includeRevoked) {
    id name role projectId createdAt createdBy expiresAt revokedAt } }`,
);
export const CREATE_API_TOKEN = doc<
  { createApiToken: { name: string; role: Role; projectId: string | null; secret: string } },
  { input: { name: string; role: Role; projectId: string | null } }
>(
  `mutation CreateApiToken($input: CreateApiTokenInput!) { createApiToken(input: $input) { name role projectId secret } }`,
);
export const REVOKE_API_TOKEN = doc<{ revokeApiToken: { id: string } }, { id: string }>(
  `mutation RevokeApiToken($id: ID!) { revokeApiToken(id: $id) { id } }`,
);

export interface SdkKey {
  id: string;
  name: string;
  environment: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}
export const SDK_KEYS = doc<
  { project: { id: string; name: string; environments: string[]; sdkKeys: SdkKey[] } | null },
  { id: string }
>(
  `query SdkKeys($id: ID!) { project(id: $id) { id name environments sdkKeys(includeRevoked: true) {
    id name environment createdAt createdBy revokedAt } } }`,
);
export const CREATE_SDK_KEY = doc<
  { createSdkKey: { key: { id: string }; secret: string } },
  { projectId: string; environment: string; name: string }
>(`mutation CreateSdkKey($projectId: ID!, $environment: String!, $name: String!) {
  createSdkKey(projectId: $projectId, environment: $environment, name: $name) { key { id } secret } }`);
export const REVOKE_SDK_KEY = doc<{ revokeSdkKey: { id: string } }, { id: string }>(
  `mutation RevokeSdkKey($id: ID!) { revokeSdkKey(id: $id) { id } }`,
);

// ---- Governance: freezes, webhooks ------------------------------------------------------------------

export const FREEZE_PROJECT = doc<
  { freezeProject: { id: string; freeze: Freeze | null } },
  { projectId: string; reason: string; until: string | null }
>(`mutation FreezeProject($projectId: ID!, $reason: String!, $until: DateTime) {
  freezeProject(projectId: $projectId, reason: $reason, until: $until) { id freeze { reason by since until } } }`);

export const UNFREEZE_PROJECT = doc<
  { unfreezeProject: { id: string; freeze: Freeze | null } },
  { projectId: string; reason: string | null }
>(`mutation UnfreezeProject($projectId: ID!, $reason: String) {
  unfreezeProject(projectId: $projectId, reason: $reason) { id freeze { reason by since until } } }`);

export type WebhookEventName =
  | "APPROVAL_REQUESTED"
  | "PHASE_ROLLED_OUT"
  | "RELEASE_PAUSED"
  | "RELEASE_COMPLETED"
  | "RELEASE_ABORTED"
  | "GUARDRAIL_TRIPPED"
  | "FREEZE_CHANGED";
export interface WebhookDelivery {
  id: string;
  event: WebhookEventName;
  releaseId: string | null;
  attempts: number;
  status: string;
  lastStatusCode: number | null;
  lastAttemptAt: string | null;
}
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEventName[];
  createdAt: string;
  deliveries: WebhookDelivery[];
}
const WEBHOOK = /* GraphQL */ `id url events createdAt
  deliveries(first: 20) { id event releaseId attempts status lastStatusCode lastAttemptAt }`;

export const WEBHOOKS = doc<{ project: { id: string; name: string; webhooks: Webhook[] } | null }, { id: string }>(
  `query Webhooks($id: ID!) { project(id: $id) { id name webhooks { ${WEBHOOK} } } }`,
);

export const CREATE_WEBHOOK = doc<
  { createWebhook: { secret: string; webhook: Webhook } },
  { projectId: string; url: string; events: WebhookEventName[] }
>(`mutation CreateWebhook($projectId: ID!, $url: String!, $events: [WebhookEvent!]!) {
  createWebhook(projectId: $projectId, url: $url, events: $events) { secret webhook { ${WEBHOOK} } } }`);

export const DELETE_WEBHOOK = doc<{ deleteWebhook: { id: string } }, { id: string }>(
  `mutation DeleteWebhook($id: ID!) { deleteWebhook(id: $id) { id } }`,
);

// The contract's enums. Values are the domain's string literals, so no mapping is needed.

import { ERROR_CODES } from "../../services/core/errors.ts";
import { ROLES } from "../../services/core/model.ts";
import { builder } from "../builder.ts";

export const ErrorCodeEnum = builder.enumType("ErrorCode", {
  description:
    "The `extensions.code` of every error the API answers. UNAUTHENTICATED: no valid token. FORBIDDEN: the token's role is too low for this. NOT_FOUND: no such entity, or one the token may not see. VALIDATION: bad input (the message names the field); also GraphQL syntax and variable errors. CONFLICT: a name or key is taken, or a concurrent write won. IMMUTABLE: a published pipeline cannot be edited (clone it). PIPELINE_IN_USE: a feature still has the pipeline attached. PIPELINE_NOT_PUBLISHED: only published pipelines can be attached. RELEASE_IN_PROGRESS: the feature has an active release. INVALID_STATE: the action does not apply to the release's current state (the message says the state). SELF_APPROVAL_FORBIDDEN: the release's starter may not approve it under this pipeline. RATE_LIMITED: too many requests; retry later. INTERNAL: a fault on the server's side; the details are in its logs, not in the answer.",
  values: ERROR_CODES,
});
export const RoleEnum = builder.enumType("Role", {
  description:
    "What a token may do, each role including the ones before it: VIEWER reads; EDITOR also creates and changes projects' pipelines and features and pauses, unpauses, skips and aborts releases; APPROVER also approves and fully rolls out releases; ADMIN also creates projects and API tokens.",
  values: ROLES,
});
export const FeatureKindEnum = builder.enumType("FeatureKind", {
  description:
    "GATE: an on/off feature gate (its definition's `enabled`). DYNAMIC_CONFIG: a JSON value (its definition's `value`).",
  values: ["GATE", "DYNAMIC_CONFIG"] as const,
});
export const PipelineStatusEnum = builder.enumType("PipelineStatus", {
  description:
    "DRAFT: editable, not attachable yet. PUBLISHED: immutable, attachable to features (clone it to change it). DELETED: gone from lists; only possible while no feature has it attached.",
  values: ["DRAFT", "PUBLISHED", "DELETED"] as const,
});
export const PhaseActionEnum = builder.enumType("PhaseAction", {
  description:
    "What a phase does to its targets when it rolls out. APPLY_CHANGE: they serve the release's new definition (Statsig). ENABLE / DISABLE: they serve the current definition with `enabled` forced true / false (Flagsmith's stage actions).",
  values: ["APPLY_CHANGE", "ENABLE", "DISABLE"] as const,
});
export const SelfApprovalEnum = builder.enumType("SelfApproval", {
  description:
    "Whether the person who started a release may approve its phases. ALLOWED: yes. FORBIDDEN: no (their approval answers SELF_APPROVAL_FORBIDDEN): someone else must approve.",
  values: ["ALLOWED", "FORBIDDEN"] as const,
});
export const ReleaseStatusEnum = builder.enumType("ReleaseStatus", {
  description:
    "IN_PROGRESS: walking its phases. COMPLETED: every phase rolled out; every environment stores the new definition. ABORTED: every rolled-out target is back to its pre-release definition; final.",
  values: ["IN_PROGRESS", "COMPLETED", "ABORTED"] as const,
});
export const PhaseStatusEnum = builder.enumType("PhaseStatus", {
  description:
    "Where a release's phase is. A phase's wait and approval gate that phase's own rollout: WAITING, then AWAITING_APPROVAL, then ROLLED_OUT. PENDING: not reached yet. WAITING: its bake timer runs (`waitEndsAt`). PAUSED: its bake timer is stopped with the remaining time kept. SKIPPED_WAIT: its wait was ended early by skip (approval, if required, still follows). AWAITING_APPROVAL: waiting for `approvalsRequired` distinct approvals. ROLLED_OUT: its targets serve the change. FROZEN: ready, but held by the project's freeze until it ends. AWAITING_WINDOW: ready, but outside every promotion window of the pipeline until the next one opens.",
  values: [
    "PENDING",
    "WAITING",
    "PAUSED",
    "AWAITING_APPROVAL",
    "ROLLED_OUT",
    "SKIPPED_WAIT",
    "AWAITING_WINDOW",
    "FROZEN",
  ] as const,
});
export const ReleaseActionKindEnum = builder.enumType("ReleaseActionKind", {
  description:
    "An action taken on a release: APPROVE (approveRelease), PAUSE (pauseRelease), UNPAUSE (unpauseRelease), SKIP (skipPhase), ABORT (abortRelease), FULL_ROLLOUT (fullRollout), ROLLBACK_TO_PHASE (rollbackToPhase), BREAK_GLASS (breakGlass).",
  values: ["APPROVE", "PAUSE", "UNPAUSE", "SKIP", "ABORT", "FULL_ROLLOUT", "ROLLBACK_TO_PHASE", "BREAK_GLASS"] as const,
});
export const SegmentOperatorEnum = builder.enumType("SegmentOperator", {
  description: "IN: the unit's attribute is one of the segment's values. NOT_IN: it is none of them (or missing).",
  values: ["IN", "NOT_IN"] as const,
});
export const SortOrderEnum = builder.enumType("SortOrder", {
  description: "ASC: oldest first (log order). DESC: newest first.",
  values: ["ASC", "DESC"] as const,
});

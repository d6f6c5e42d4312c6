// The contract's enums. Values are the domain's string literals, so no mapping is needed.

import { ERROR_CODES } from "../../services/core/errors.ts";
import { ROLES } from "../../services/core/model.ts";
import { builder } from "../builder.ts";

export const ErrorCodeEnum = builder.enumType("ErrorCode", {
  description: "The `extensions.code` of every error the API answers.",
  values: ERROR_CODES,
});
export const RoleEnum = builder.enumType("Role", { values: ROLES });
export const FeatureKindEnum = builder.enumType("FeatureKind", { values: ["GATE", "DYNAMIC_CONFIG"] as const });
export const PipelineStatusEnum = builder.enumType("PipelineStatus", {
  values: ["DRAFT", "PUBLISHED", "DELETED"] as const,
});
export const PhaseActionEnum = builder.enumType("PhaseAction", {
  values: ["APPLY_CHANGE", "ENABLE", "DISABLE"] as const,
});
export const SelfApprovalEnum = builder.enumType("SelfApproval", { values: ["ALLOWED", "FORBIDDEN"] as const });
export const ReleaseStatusEnum = builder.enumType("ReleaseStatus", {
  values: ["IN_PROGRESS", "COMPLETED", "ABORTED"] as const,
});
export const PhaseStatusEnum = builder.enumType("PhaseStatus", {
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
  values: ["APPROVE", "PAUSE", "UNPAUSE", "SKIP", "ABORT", "FULL_ROLLOUT", "BREAK_GLASS"] as const,
});
export const SegmentOperatorEnum = builder.enumType("SegmentOperator", { values: ["IN", "NOT_IN"] as const });
export const SortOrderEnum = builder.enumType("SortOrder", { values: ["ASC", "DESC"] as const });

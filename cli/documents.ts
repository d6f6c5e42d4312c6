// The GraphQL documents the CLI sends, and the shapes of their answers: only public API fields.

export const RELEASE_VIEW = /* GraphQL */ `
  fragment ReleaseView on Release {
    id
    status
    currentPhaseIndex
    startedBy
    startedAt
    endedAt
    abortReason
    version
    pipelineVersion
    feature { id key project { id name } }
    pipeline {
      id
      name
      phases { index name waitFor requiresApproval approvalsRequired action targets { environment segment } }
    }
    phases { index name status waitStartedAt waitEndsAt remainingWait rolledOutAt approvals { by at comment } }
    actions { kind by at reason phaseIndex }
  }
`;

export interface ReleaseView {
  id: string;
  status: "IN_PROGRESS" | "COMPLETED" | "ABORTED";
  currentPhaseIndex: number | null;
  startedBy: string;
  startedAt: string;
  endedAt: string | null;
  abortReason: string | null;
  version: number;
  pipelineVersion: number;
  feature: { id: string; key: string; project: { id: string; name: string } };
  pipeline: {
    id: string;
    name: string;
    phases: {
      index: number;
      name: string;
      waitFor: string | null;
      requiresApproval: boolean;
      approvalsRequired: number;
      action: string;
      targets: { environment: string; segment: string | null }[];
    }[];
  };
  phases: {
    index: number;
    name: string;
    status: string;
    waitStartedAt: string | null;
    waitEndsAt: string | null;
    remainingWait: string | null;
    rolledOutAt: string | null;
    approvals: { by: string; at: string; comment: string | null }[];
  }[];
  actions: { kind: string; by: string; at: string; reason: string | null; phaseIndex: number | null }[];
}

export const RELEASE = /* GraphQL */ `
  query Release($id: ID!) { release(id: $id) { ...ReleaseView } }
  ${RELEASE_VIEW}
`;

export const RELEASE_UPDATED = /* GraphQL */ `
  subscription ReleaseUpdated($id: ID!) { releaseUpdated(id: $id) { ...ReleaseView } }
  ${RELEASE_VIEW}
`;

const SUMMARY =
  "id status currentPhaseIndex startedBy startedAt endedAt feature { id key } phases { index name status }";

export interface ReleaseSummary {
  id: string;
  status: string;
  currentPhaseIndex: number | null;
  startedBy: string;
  startedAt: string;
  endedAt: string | null;
  feature: { id: string; key: string };
  phases: { index: number; name: string; status: string }[];
}

export const PROJECT_RELEASES = /* GraphQL */ `
  query ProjectReleases($id: ID!, $status: ReleaseStatus) {
    project(id: $id) { id name releases(status: $status) { ${SUMMARY} } }
  }
`;

export const ALL_RELEASES = /* GraphQL */ `
  query AllReleases($status: ReleaseStatus) {
    projects { id name releases(status: $status) { ${SUMMARY} } }
  }
`;

/** The release actions: mutation name, and whether it takes a phaseIndex / a comment instead of a reason. */
export const ACTIONS = {
  approve: { mutation: "approveRelease", phaseIndex: true, text: "comment" },
  pause: { mutation: "pauseRelease", phaseIndex: true, text: "reason" },
  unpause: { mutation: "unpauseRelease", phaseIndex: true, text: "reason" },
  skip: { mutation: "skipPhase", phaseIndex: true, text: "reason" },
  abort: { mutation: "abortRelease", phaseIndex: false, text: "reason" },
  "full-rollout": { mutation: "fullRollout", phaseIndex: false, text: "reason" },
  // Governance: its reason is required.
  "break-glass": { mutation: "breakGlass", phaseIndex: false, text: "reason!" },
} as const;

export type ActionName = keyof typeof ACTIONS;

export function actionDocument(name: ActionName): string {
  const { mutation, phaseIndex, text } = ACTIONS[name];
  const required = text.endsWith("!");
  const field = text.replace(/!$/, "");
  const variables = [
    "$id: ID!",
    `$text: String${required ? "!" : ""}`,
    ...(phaseIndex ? ["$phaseIndex: Int"] : []),
  ].join(", ");
  const args = ["id: $id", `${field}: $text`, ...(phaseIndex ? ["phaseIndex: $phaseIndex"] : [])].join(", ");
  return `mutation Action(${variables}) { ${mutation}(${args}) { ...ReleaseView } }\n${RELEASE_VIEW}`;
}

/** rollbackToPhase: the rolled-out phase to go back to is required (it is not a guard). */
export const ROLLBACK = `mutation Rollback($id: ID!, $phaseIndex: Int!, $text: String) {
  rollbackToPhase(id: $id, phaseIndex: $phaseIndex, reason: $text) { ...ReleaseView } }
${RELEASE_VIEW}`;

export const AUDIT_LOG = /* GraphQL */ `
  query Audit($filter: AuditFilter, $first: Int, $after: String, $order: SortOrder) {
    auditLog(filter: $filter, first: $first, after: $after, order: $order) {
      edges { node { position type stream entityId projectId actor at data } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export interface AuditEventView {
  position: string;
  type: string;
  stream: string;
  entityId: string;
  projectId: string;
  actor: string;
  at: string;
  data: unknown;
}

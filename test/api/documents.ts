// GraphQL documents and helpers shared by the API and end-to-end tests.

import type { TestApi } from "./harness.ts";

export const RELEASE_FIELDS = /* GraphQL */ `
  id
  status
  version
  currentPhaseIndex
  pipelineVersion
  startedBy
  abortReason
  endedAt
  phases { index name status waitStartedAt waitEndsAt remainingWait rolledOutAt rolloutPercentage approvals { by comment } }
  actions { kind by reason phaseIndex }
  before { environment definition { enabled value rules { segment enabled value rolloutPercentage } } }
  after { environment definition { enabled value rules { segment enabled value rolloutPercentage } } }
`;

export interface ReleaseView {
  id: string;
  status: "IN_PROGRESS" | "COMPLETED" | "ABORTED";
  version: number;
  currentPhaseIndex: number | null;
  pipelineVersion: number;
  startedBy: string;
  abortReason: string | null;
  endedAt: string | null;
  phases: {
    index: number;
    name: string;
    status: string;
    waitStartedAt: string | null;
    waitEndsAt: string | null;
    remainingWait: string | null;
    rolledOutAt: string | null;
    rolloutPercentage: number;
    approvals: { by: string; comment: string | null }[];
  }[];
  actions: { kind: string; by: string; reason: string | null; phaseIndex: number | null }[];
  before: EnvironmentView[];
  after: EnvironmentView[];
}

export interface DefinitionView {
  enabled: boolean;
  value: unknown;
  rules: { segment: string; enabled: boolean; value: unknown; rolloutPercentage: number }[];
}

export interface EnvironmentView {
  environment: string;
  definition: DefinitionView;
}

export const FEATURE_FIELDS = /* GraphQL */ `
  id
  key
  version
  pipeline { id }
  activeRelease { id status }
  environments {
    environment
    definition { enabled value rules { segment enabled value rolloutPercentage } }
    rolledOutTargets { environment segment }
  }
`;

export interface FeatureView {
  id: string;
  key: string;
  version: number;
  pipeline: { id: string } | null;
  activeRelease: { id: string; status: string } | null;
  environments: (EnvironmentView & { rolledOutTargets: { environment: string; segment: string | null }[] })[];
}

export const REGION_SEGMENTS = [
  { key: "us-west", attribute: "region", operator: "IN", values: ["us-west"] },
  { key: "us-east", attribute: "region", operator: "IN", values: ["us-east"] },
];

export async function createProject(
  api: TestApi,
  name = "Checkout",
  environments = ["development", "staging", "production"],
  segments: unknown[] = REGION_SEGMENTS,
): Promise<string> {
  const data = await api.ok<{ createProject: { id: string } }>(
    /* GraphQL */ `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`,
    { input: { name, environments, segments } },
  );
  return data.createProject.id;
}

export async function createToken(
  api: TestApi,
  name: string,
  role: "VIEWER" | "EDITOR" | "APPROVER" | "ADMIN",
  projectId: string | null = null,
): Promise<string> {
  const data = await api.ok<{ createApiToken: { secret: string } }>(
    /* GraphQL */ `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret name role projectId } }`,
    { input: { name, role, projectId } },
  );
  return data.createApiToken.secret;
}

export async function createPublishedPipeline(
  api: TestApi,
  projectId: string,
  phases: unknown[],
  options: { name?: string; selfApproval?: "ALLOWED" | "FORBIDDEN"; token?: string } = {},
): Promise<string> {
  const created = await api.ok<{ createPipeline: { id: string } }>(
    /* GraphQL */ `mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id status } }`,
    {
      input: {
        projectId,
        name: options.name ?? "Pipeline",
        selfApproval: options.selfApproval ?? "ALLOWED",
        phases,
      },
    },
    options.token,
  );
  const id = created.createPipeline.id;
  await api.ok(/* GraphQL */ `mutation($id: ID!) { publishPipeline(id: $id) { id status } }`, { id }, options.token);
  return id;
}

export interface Evaluated {
  enabled: boolean;
  value: unknown;
  reason: string;
}

export async function evaluate(
  api: TestApi,
  projectId: string,
  featureKey: string,
  environment: string,
  attributes: Record<string, unknown> = {},
  unitId = "user-1",
): Promise<Evaluated> {
  const data = await api.ok<{ evaluate: Evaluated }>(
    /* GraphQL */ `query($projectId: ID!, $key: String!, $environment: String!, $unit: UnitInput!) {
      evaluate(projectId: $projectId, featureKey: $key, environment: $environment, unit: $unit) { enabled value reason }
    }`,
    { projectId, key: featureKey, environment, unit: { id: unitId, attributes } },
  );
  return data.evaluate;
}

/** `enabled` for dev, staging, production/us-west, production/us-east. */
export async function servedEverywhere(api: TestApi, projectId: string, key: string): Promise<Record<string, boolean>> {
  const [dev, staging, west, east] = await Promise.all([
    evaluate(api, projectId, key, "development"),
    evaluate(api, projectId, key, "staging"),
    evaluate(api, projectId, key, "production", { region: "us-west" }),
    evaluate(api, projectId, key, "production", { region: "us-east" }),
  ]);
  return { development: dev.enabled, staging: staging.enabled, usWest: west.enabled, usEast: east.enabled };
}

export async function feature(api: TestApi, id: string): Promise<FeatureView> {
  const data = await api.ok<{ feature: FeatureView }>(
    /* GraphQL */ `query($id: ID!) { feature(id: $id) { ${FEATURE_FIELDS} } }`,
    { id },
  );
  return data.feature;
}

export async function release(api: TestApi, id: string): Promise<ReleaseView> {
  const data = await api.ok<{ release: ReleaseView }>(
    /* GraphQL */ `query($id: ID!) { release(id: $id) { ${RELEASE_FIELDS} } }`,
    { id },
  );
  return data.release;
}

export const RELEASE_UPDATED = /* GraphQL */ `subscription($id: ID!) { releaseUpdated(id: $id) { ${RELEASE_FIELDS} } }`;
export const FEATURE_RELEASES = /* GraphQL */ `subscription($featureId: ID!) { featureReleases(featureId: $featureId) { ${RELEASE_FIELDS} } }`;

/** The current phase's status, or the release status once it ended. */
export const stateOf = (r: ReleaseView): string =>
  r.currentPhaseIndex === null ? r.status : `${r.currentPhaseIndex}:${r.phases[r.currentPhaseIndex]?.status}`;

export async function action(
  api: TestApi,
  name: "approveRelease" | "pauseRelease" | "unpauseRelease" | "skipPhase" | "abortRelease" | "fullRollout",
  id: string,
  args: { phaseIndex?: number; reason?: string; comment?: string } = {},
  token?: string,
) {
  const declared = [
    "$id: ID!",
    ...("phaseIndex" in args ? ["$phaseIndex: Int"] : []),
    ...("reason" in args ? ["$reason: String"] : []),
    ...("comment" in args ? ["$comment: String"] : []),
  ].join(", ");
  const passed = [
    "id: $id",
    ...("phaseIndex" in args ? ["phaseIndex: $phaseIndex"] : []),
    ...("reason" in args ? ["reason: $reason"] : []),
    ...("comment" in args ? ["comment: $comment"] : []),
  ].join(", ");
  return api.gql<Record<string, ReleaseView>>(
    `mutation(${declared}) { ${name}(${passed}) { ${RELEASE_FIELDS} } }`,
    { id, ...args },
    token,
  );
}

/** Retries `check` until it stops throwing (for effects that follow an answer asynchronously). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The release an action answered (throws with the errors when it was refused). */
export function answered(result: { data: Record<string, ReleaseView> | null; errors?: unknown }): ReleaseView {
  const value = result.data === null ? undefined : Object.values(result.data)[0];
  if (value === undefined) throw new Error(`refused: ${JSON.stringify(result.errors)}`);
  return value;
}

// Progression controls through the API: rollbackToPhase (EDITOR; INVALID_STATE unless the release is
// IN_PROGRESS and the phase rolled out; the later phases' targets back to `before`, the earlier ones kept,
// the next phase's wait started again; recorded as ROLLBACK_TO_PHASE).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  action,
  answered,
  createProject,
  createPublishedPipeline,
  createToken,
  evaluate,
  feature,
  RELEASE_FIELDS,
  type ReleaseView,
  release,
} from "./documents.ts";
import { type GraphQLResponse, startTestApi, type TestApi } from "./harness.ts";

let api: TestApi;
let projectId: string;
let editor: string;
let viewer: string;

beforeAll(async () => {
  api = await startTestApi();
  projectId = await createProject(api, "Progression");
  editor = await createToken(api, "eve", "EDITOR", projectId);
  viewer = await createToken(api, "vic", "VIEWER", projectId);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

const ROLLBACK = /* GraphQL */ `mutation($id: ID!, $phaseIndex: Int!, $reason: String) {
  rollbackToPhase(id: $id, phaseIndex: $phaseIndex, reason: $reason) { ${RELEASE_FIELDS} }
}`;

async function rollback(
  id: string,
  phaseIndex: number,
  token = editor,
): Promise<GraphQLResponse<{ rollbackToPhase: ReleaseView }>> {
  return api.gql<{ rollbackToPhase: ReleaseView }>(ROLLBACK, { id, phaseIndex, reason: "staging errors" }, token);
}

describe("rollbackToPhase", () => {
  it("undoes the later phases, keeps the earlier ones, goes on from the next phase with its wait started again", async () => {
    const pipelineId = await createPublishedPipeline(
      api,
      projectId,
      [
        { name: "Development", targets: [{ environment: "development" }] },
        { name: "Staging", waitFor: "PT1H", targets: [{ environment: "staging" }] },
        { name: "Production", waitFor: "PT1H", targets: [{ environment: "production" }] },
      ],
      { token: editor },
    );
    const created = await api.ok<{ createFeature: { id: string } }>(
      /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`,
      { input: { projectId, key: "rolled-back", kind: "GATE", pipelineId } },
      editor,
    );
    const featureId = created.createFeature.id;
    const started = await api.ok<{ updateFeature: ReleaseView }>(
      /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) {
        updateFeature(id: $id, input: $input) { ... on Release { ${RELEASE_FIELDS} } }
      }`,
      {
        id: featureId,
        input: {
          environments: ["development", "staging", "production"].map((environment) => ({
            environment,
            definition: { enabled: true },
          })),
        },
      },
      editor,
    );
    const releaseId = started.updateFeature.id;
    answered(await action(api, "skipPhase", releaseId, { phaseIndex: 1 }, editor));
    expect((await evaluate(api, projectId, "rolled-back", "staging")).enabled).toBe(true);

    // Refusals first: nothing is written by any of them.
    const head = await api.store.headPosition();
    const notRolledOut = await rollback(releaseId, 2);
    expect(notRolledOut.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");
    expect(notRolledOut.errors?.[0]?.message).toContain("phase 2 (Production) is WAITING");
    expect((await rollback(releaseId, 0, viewer)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await api.store.headPosition()).toBe(head);

    const answer = await rollback(releaseId, 0);
    expect(answer.errors).toBeUndefined();
    const rolledBack = answer.data?.rollbackToPhase as ReleaseView;
    expect(rolledBack.currentPhaseIndex).toBe(1);
    expect(rolledBack.phases.map((p) => p.status)).toEqual(["ROLLED_OUT", "WAITING", "PENDING"]);
    const waiting = rolledBack.phases[1];
    expect(Date.parse(waiting?.waitEndsAt ?? "") - Date.parse(waiting?.waitStartedAt ?? "")).toBe(3_600_000);
    expect(Date.parse(waiting?.waitStartedAt ?? "")).toBeGreaterThan(
      Date.parse(started.updateFeature.phases[1]?.waitStartedAt ?? ""),
    );
    expect(rolledBack.actions.at(-1)).toEqual({
      kind: "ROLLBACK_TO_PHASE",
      by: "eve",
      reason: "staging errors",
      phaseIndex: 0,
    });
    // Answered once written: staging serves and stores `before` again; development keeps the change.
    const stored = await feature(api, featureId);
    expect(stored.environments.map((e) => [e.environment, e.definition.enabled])).toEqual([
      ["development", true],
      ["staging", false],
      ["production", false],
    ]);
    expect(await evaluate(api, projectId, "rolled-back", "staging")).toMatchObject({
      enabled: false,
      reason: "DEFAULT",
    });
    expect((await evaluate(api, projectId, "rolled-back", "development")).reason).toBe(`RELEASE:${releaseId}:PHASE:0`);

    // The audit log has the rollback, by eve, with its reason.
    const audit = await api.ok<{
      auditLog: { edges: { node: { type: string; actor: string; data: { reason: string } } }[] };
    }>(
      /* GraphQL */ `query($p: ID!) { auditLog(filter: { projectId: $p }, first: 500) { edges { node { type actor data } } } }`,
      { p: projectId },
      editor,
    );
    const entry = audit.auditLog.edges.find((e) => e.node.type === "ReleaseRolledBack")?.node;
    expect(entry).toMatchObject({ actor: "eve", data: { reason: "staging errors", phaseIndex: 0, fromPhaseIndex: 2 } });

    // Ended: INVALID_STATE.
    answered(await action(api, "abortRelease", releaseId, {}, editor));
    const ended = await rollback(releaseId, 0);
    expect(ended.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");
    expect((await release(api, releaseId)).actions.map((a) => a.kind)).toEqual(["SKIP", "ROLLBACK_TO_PHASE", "ABORT"]);
  });
});

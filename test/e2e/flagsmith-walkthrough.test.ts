// Flagsmith's release pipeline, end to end over HTTP, WebSocket and SSE: a flag that is off everywhere is
// added to a pipeline whose stages ENABLE it environment by environment (on enter, after a WAIT_FOR, after
// two approvals on a segment), started with `startRelease`, fast-tracked with `fullRollout`, and removed
// from the pipeline afterwards — with `evaluate` checked per environment and region at each step.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  action,
  answered,
  createProject,
  createPublishedPipeline,
  createToken,
  FEATURE_FIELDS,
  type FeatureView,
  feature,
  RELEASE_FIELDS,
  RELEASE_UPDATED,
  type ReleaseView,
  servedEverywhere,
} from "../api/documents.ts";
import { sseSubscribe, startTestApi, subscribe, type TestApi } from "../api/harness.ts";

let api: TestApi;
let projectId: string;
let editor: string;
let approverA: string;
let approverB: string;
let featureId: string;
let pipelineId: string;

beforeAll(async () => {
  api = await startTestApi();
  projectId = await createProject(api, "Mobile");
  editor = await createToken(api, "ed", "EDITOR", projectId);
  approverA = await createToken(api, "alice", "APPROVER", projectId);
  approverB = await createToken(api, "bob", "APPROVER", projectId);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

const OFF_EVERYWHERE = { development: false, staging: false, usWest: false, usEast: false };

describe("Flagsmith walk-through", () => {
  it("creates a flag without a pipeline: a direct update applies at once and answers the Feature", async () => {
    const created = await api.ok<{ createFeature: FeatureView }>(
      /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { ${FEATURE_FIELDS} } }`,
      { input: { projectId, key: "dark-mode", kind: "GATE" } },
      editor,
    );
    featureId = created.createFeature.id;
    const updated = await api.ok<{ updateFeature: { __typename: string; description: string } }>(
      /* GraphQL */ `mutation($id: ID!) {
        updateFeature(id: $id, input: { description: "Dark theme", environments: [] }) { __typename ... on Feature { description } }
      }`,
      { id: featureId },
      editor,
    );
    expect(updated.updateFeature).toEqual({ __typename: "Feature", description: "Dark theme" });
    expect(await servedEverywhere(api, projectId, "dark-mode")).toEqual(OFF_EVERYWHERE);
  });

  it("adds the flag to a pipeline of ENABLE stages and starts the release", async () => {
    pipelineId = await createPublishedPipeline(
      api,
      projectId,
      [
        { name: "Development", action: "ENABLE", targets: [{ environment: "development" }] },
        { name: "Staging", action: "ENABLE", waitFor: "PT1S", targets: [{ environment: "staging" }] },
        {
          name: "Production us-east",
          action: "ENABLE",
          requiresApproval: true,
          approvalsRequired: 2,
          targets: [{ environment: "production", segment: "us-east" }],
        },
        { name: "Production", action: "ENABLE", waitFor: "PT1H", targets: [{ environment: "production" }] },
      ],
      { name: "Flagsmith stages", token: editor },
    );
    const attached = await api.ok<{ attachPipeline: FeatureView }>(
      /* GraphQL */ `mutation($f: ID!, $p: ID!) { attachPipeline(featureId: $f, pipelineId: $p) { ${FEATURE_FIELDS} } }`,
      { f: featureId, p: pipelineId },
      editor,
    );
    expect(attached.attachPipeline.pipeline?.id).toBe(pipelineId);
    // An attached pipeline cannot be deleted.
    const deleting = await api.gql(
      /* GraphQL */ `mutation($id: ID!) { deletePipeline(id: $id) { id } }`,
      { id: pipelineId },
      editor,
    );
    expect(deleting.errors?.[0]?.extensions?.code).toBe("PIPELINE_IN_USE");
  });

  it("runs every stage: enable on enter, after a wait, after two approvals, then a full rollout", async () => {
    const approvals = sseSubscribe(
      api.url,
      approverA,
      /* GraphQL */ `subscription($p: ID!) { approvalRequested(projectId: $p) { id currentPhaseIndex phases { status } } }`,
      { p: projectId },
      (d) => d.approvalRequested as { id: string; currentPhaseIndex: number },
    );
    await approvals.ready;
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = await api.ok<{ startRelease: ReleaseView }>(
      /* GraphQL */ `mutation($f: ID!) { startRelease(featureId: $f, reason: "launch dark mode") { ${RELEASE_FIELDS} } }`,
      { f: featureId },
      editor,
    );
    const releaseId = started.startRelease.id;
    // The change is the current definition; the stages force `enabled` on.
    expect(started.startRelease.before.map((e) => e.definition.enabled)).toEqual([false, false, false]);
    expect(started.startRelease.after.map((e) => e.definition.enabled)).toEqual([true, true, true]);
    const updates = subscribe(
      api.ws(editor),
      RELEASE_UPDATED,
      { id: releaseId },
      (d) => d.releaseUpdated as ReleaseView,
    );

    // A second release of the same feature, or a pipeline change, while this one runs: refused.
    for (const [query, variables] of [
      [`mutation($f: ID!) { startRelease(featureId: $f) { id } }`, { f: featureId }],
      [`mutation($f: ID!) { detachPipeline(featureId: $f) { id } }`, { f: featureId }],
      [
        `mutation($f: ID!, $p: ID!) { attachPipeline(featureId: $f, pipelineId: $p) { id } }`,
        { f: featureId, p: pipelineId },
      ],
    ] as const) {
      const refused = await api.gql(query, variables, editor);
      expect(refused.errors?.[0]?.extensions?.code).toBe("RELEASE_IN_PROGRESS");
    }

    // Stage 1 (on enter) is done when the API answers.
    expect((await servedEverywhere(api, projectId, "dark-mode")).development).toBe(true);

    // Stage 2 waits a second, then stage 3 asks for approvals; the SSE subscription hears of it.
    const asked = await approvals.until((r) => r.id === releaseId);
    expect(asked.currentPhaseIndex).toBe(2);
    expect(await servedEverywhere(api, projectId, "dark-mode")).toEqual({
      development: true,
      staging: true,
      usWest: false,
      usEast: false,
    });

    const first = answered(await action(api, "approveRelease", releaseId, { phaseIndex: 2, comment: "ok" }, approverA));
    expect(first.phases[2]?.status).toBe("AWAITING_APPROVAL");
    expect(first.phases[2]?.approvals.map((a) => a.by)).toEqual(["alice"]);
    const twice = await action(api, "approveRelease", releaseId, { phaseIndex: 2 }, approverA);
    expect(twice.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");
    expect(twice.errors?.[0]?.message).toContain("already approved");
    const second = answered(await action(api, "approveRelease", releaseId, { phaseIndex: 2 }, approverB));
    expect(second.phases[2]?.status).toBe("ROLLED_OUT");
    expect(await servedEverywhere(api, projectId, "dark-mode")).toEqual({
      development: true,
      staging: true,
      usWest: false,
      usEast: true,
    });

    // The last stage waits an hour: fast-track it. Editors may not; approvers may.
    await updates.until((r) => r.phases[3]?.status === "WAITING");
    const byEditor = await action(api, "fullRollout", releaseId, {}, editor);
    expect(byEditor.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const done = answered(await action(api, "fullRollout", releaseId, { reason: "all good" }, approverB));
    expect(done.status).toBe("COMPLETED");
    expect(done.actions.map((a) => a.kind)).toEqual(["APPROVE", "APPROVE", "FULL_ROLLOUT"]);
    expect(await servedEverywhere(api, projectId, "dark-mode")).toEqual({
      development: true,
      staging: true,
      usWest: true,
      usEast: true,
    });
    const after = await feature(api, featureId);
    expect(after.environments.map((e) => e.definition.enabled)).toEqual([true, true, true]);
    expect(after.activeRelease).toBeNull();

    await updates.until((r) => r.status === "COMPLETED");
    expect(updates.items.every((r, i) => i === 0 || r.version === (updates.items[i - 1]?.version ?? 0) + 1)).toBe(true);
    expect(updates.completed).toBe(true);
    approvals.stop();
  });

  it("removes the flag from the pipeline; then the pipeline can be deleted, and changes apply at once again", async () => {
    const detached = await api.ok<{ detachPipeline: FeatureView }>(
      /* GraphQL */ `mutation($f: ID!) { detachPipeline(featureId: $f) { ${FEATURE_FIELDS} } }`,
      { f: featureId },
      editor,
    );
    expect(detached.detachPipeline.pipeline).toBeNull();
    const clone = await api.ok<{ clonePipeline: { id: string; status: string; name: string; phases: unknown[] } }>(
      /* GraphQL */ `mutation($id: ID!) { clonePipeline(id: $id, name: "Flagsmith stages v2") { id status name phases { name } } }`,
      { id: pipelineId },
      editor,
    );
    expect(clone.clonePipeline.status).toBe("DRAFT");
    expect(clone.clonePipeline.phases).toHaveLength(4);
    const deleted = await api.ok<{ deletePipeline: { status: string } }>(
      /* GraphQL */ `mutation($id: ID!) { deletePipeline(id: $id) { status } }`,
      { id: pipelineId },
      editor,
    );
    expect(deleted.deletePipeline.status).toBe("DELETED");
    const listed = await api.ok<{ project: { live: { id: string }[]; all: { id: string }[] } }>(
      /* GraphQL */ `query($p: ID!) { project(id: $p) { live: pipelines { id } all: pipelines(includeDeleted: true) { id } } }`,
      { p: projectId },
      editor,
    );
    expect(listed.project.live.map((p) => p.id)).toEqual([clone.clonePipeline.id]);
    expect(listed.project.all.map((p) => p.id)).toEqual([pipelineId, clone.clonePipeline.id]);

    const off = await api.ok<{ updateFeature: { __typename: string } }>(
      /* GraphQL */ `mutation($id: ID!) {
        updateFeature(id: $id, input: { environments: [{ environment: "production", definition: { enabled: false } }] }) { __typename }
      }`,
      { id: featureId },
      editor,
    );
    expect(off.updateFeature.__typename).toBe("Feature");
    expect(await servedEverywhere(api, projectId, "dark-mode")).toEqual({
      development: true,
      staging: true,
      usWest: false,
      usEast: false,
    });
  });
});

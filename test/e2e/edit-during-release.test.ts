// A release keeps running while its project is edited, on the run's Temporal dev server: the project
// gains an environment and the release's segment changes its values mid-release. Serving follows the new
// segment at once, the new environment is served disabled, the guards refuse what would pull the ground
// from under the release (archive, removing its environment or segment), and abort still restores
// exactly the release's `before`. A release started after the edit then rolls out to the new environment.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  action,
  answered,
  createProject,
  createPublishedPipeline,
  createToken,
  type EnvironmentView,
  evaluate,
  eventually,
  FEATURE_FIELDS,
  type FeatureView,
  feature,
  RELEASE_FIELDS,
  type ReleaseView,
  release,
} from "../api/documents.ts";
import { startTestApi, type TestApi } from "../api/harness.ts";

let api: TestApi;
let projectId: string;
let editor: string;
let approver: string;
let featureId: string;
let releaseId: string;
let before: EnvironmentView[];

const on = { enabled: true, value: null, rules: [] };
const off = { enabled: false, value: null, rules: [] };

beforeAll(async () => {
  api = await startTestApi();
  projectId = await createProject(api, "Regions");
  editor = await createToken(api, "eddie", "EDITOR", projectId);
  approver = await createToken(api, "april", "APPROVER", projectId);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

const codeAndMessage = (result: { errors?: { message: string; extensions?: { code?: string } }[] }) => ({
  code: result.errors?.[0]?.extensions?.code,
  message: result.errors?.[0]?.message ?? "",
});

describe("a release while its project is edited", () => {
  it("starts a release whose first phase enables the us-west segment in production", async () => {
    const created = await api.ok<{ createFeature: FeatureView }>(
      /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { ${FEATURE_FIELDS} } }`,
      {
        input: {
          projectId,
          key: "new-checkout",
          kind: "GATE",
          environments: [{ environment: "development", definition: { enabled: true } }],
        },
      },
      editor,
    );
    featureId = created.createFeature.id;
    const pipelineId = await createPublishedPipeline(
      api,
      projectId,
      [
        { name: "West", action: "ENABLE", targets: [{ environment: "production", segment: "us-west" }] },
        { name: "Everyone", action: "ENABLE", requiresApproval: true, targets: [{ environment: "production" }] },
      ],
      { name: "West first", token: editor },
    );
    await api.ok(
      `mutation($f: ID!, $p: ID!) { attachPipeline(featureId: $f, pipelineId: $p) { id } }`,
      { f: featureId, p: pipelineId },
      editor,
    );
    const started = await api.ok<{ startRelease: ReleaseView }>(
      `mutation($f: ID!) { startRelease(featureId: $f, reason: "west first") { ${RELEASE_FIELDS} } }`,
      { f: featureId },
      editor,
    );
    releaseId = started.startRelease.id;
    before = started.startRelease.before;
    expect(before).toEqual([
      { environment: "development", definition: on },
      { environment: "staging", definition: off },
      { environment: "production", definition: off },
    ]);
    const waiting = await eventually(async () => {
      const current = await release(api, releaseId);
      expect(current.phases.map((p) => p.status)).toEqual(["ROLLED_OUT", "AWAITING_APPROVAL"]);
      return current;
    }, 30_000);
    expect(waiting.status).toBe("IN_PROGRESS");
    expect(await evaluate(api, projectId, "new-checkout", "production", { region: "us-west" })).toMatchObject({
      enabled: true,
      reason: `RELEASE:${releaseId}:PHASE:0`,
    });
    expect((await evaluate(api, projectId, "new-checkout", "production", { region: "us-west-9" })).enabled).toBe(false);
  }, 60_000);

  it("refuses, writing nothing: archiving the feature, removing its environment or its segment", async () => {
    const head = await api.store.headPosition();
    expect(
      codeAndMessage(await api.gql(`mutation($id: ID!) { archiveFeature(id: $id) { id } }`, { id: featureId }, editor)),
    ).toEqual({
      code: "RELEASE_IN_PROGRESS",
      message: expect.stringContaining(`has release ${releaseId} in progress: cannot archive it`),
    });
    const removing = codeAndMessage(
      await api.gql(`mutation($p: ID!) { removeEnvironment(projectId: $p, name: "production") { id } }`, {
        p: projectId,
      }),
    );
    expect(removing.code).toBe("VALIDATION");
    expect(removing.message).toContain(`pipeline "West first", release ${releaseId} (in progress)`);
    const deleting = codeAndMessage(
      await api.gql(
        `mutation($p: ID!) { deleteSegment(projectId: $p, key: "us-west") { id } }`,
        { p: projectId },
        editor,
      ),
    );
    expect(deleting.code).toBe("VALIDATION");
    expect(deleting.message).toContain(`pipeline "West first", release ${releaseId} (in progress)`);
    expect(await api.store.headPosition()).toBe(head);
  });

  it("gains an environment: the feature has it disabled, served as DEFAULT, and the release runs on", async () => {
    const added = await api.ok<{ addEnvironment: { environments: string[] } }>(
      `mutation($p: ID!) { addEnvironment(projectId: $p, name: "eu-prod", reason: "EU launch") { environments } }`,
      { p: projectId },
    );
    expect(added.addEnvironment.environments).toEqual(["development", "staging", "production", "eu-prod"]);
    const shown = await feature(api, featureId);
    expect(shown.environments.map((e) => [e.environment, e.definition])).toEqual([
      ["development", on],
      ["staging", off],
      ["production", off],
      ["eu-prod", off],
    ]);
    expect(shown.environments.find((e) => e.environment === "production")?.rolledOutTargets).toEqual([
      { environment: "production", segment: "us-west" },
    ]);
    expect(await evaluate(api, projectId, "new-checkout", "eu-prod", { region: "us-west" })).toEqual({
      enabled: false,
      value: null,
      reason: "DEFAULT",
    });
    const current = await release(api, releaseId);
    expect(current.status).toBe("IN_PROGRESS");
    expect(current.before).toEqual(before);
  });

  it("changes the segment's values: serving follows the new segment at once", async () => {
    await api.ok(
      `mutation($p: ID!) { upsertSegment(projectId: $p, input: { key: "us-west", attribute: "region", operator: IN, values: ["us-west-9"] }, reason: "new region") { id } }`,
      { p: projectId },
      editor,
    );
    expect(await evaluate(api, projectId, "new-checkout", "production", { region: "us-west-9" })).toMatchObject({
      enabled: true,
      reason: `RELEASE:${releaseId}:PHASE:0`,
    });
    expect(await evaluate(api, projectId, "new-checkout", "production", { region: "us-west" })).toMatchObject({
      enabled: false,
      reason: "DEFAULT",
    });
  });

  it("aborts: the feature is back exactly at the release's `before`, the new environment still disabled", async () => {
    const aborted = answered(await action(api, "abortRelease", releaseId, { reason: "rethink" }, editor));
    expect(aborted.status).toBe("ABORTED");
    expect(aborted.before).toEqual(before);
    const restored = await eventually(async () => {
      const current = await feature(api, featureId);
      expect(current.activeRelease).toBeNull();
      return current;
    });
    expect(restored.environments.map(({ environment, definition }) => ({ environment, definition }))).toEqual([
      ...before,
      { environment: "eu-prod", definition: off },
    ]);
    expect(restored.environments.every((e) => e.rolledOutTargets.length === 0)).toBe(true);
    expect((await evaluate(api, projectId, "new-checkout", "production", { region: "us-west-9" })).enabled).toBe(false);
    expect((await evaluate(api, projectId, "new-checkout", "development")).enabled).toBe(true);
  });

  it("a release started after the edit rolls out to the new environment", async () => {
    const pipelineId = await createPublishedPipeline(
      api,
      projectId,
      [{ name: "EU", action: "ENABLE", targets: [{ environment: "eu-prod" }] }],
      { name: "EU only", token: editor },
    );
    await api.ok(
      `mutation($f: ID!, $p: ID!) { attachPipeline(featureId: $f, pipelineId: $p) { id } }`,
      { f: featureId, p: pipelineId },
      editor,
    );
    const started = await api.ok<{ startRelease: ReleaseView }>(
      `mutation($f: ID!) { startRelease(featureId: $f) { ${RELEASE_FIELDS} } }`,
      { f: featureId },
      approver,
    );
    expect(started.startRelease.before.map((e) => e.environment)).toEqual([
      "development",
      "staging",
      "production",
      "eu-prod",
    ]);
    const done = await eventually(async () => {
      const current = await release(api, started.startRelease.id);
      expect(current.status).toBe("COMPLETED");
      return current;
    }, 30_000);
    expect(done.after.find((e) => e.environment === "eu-prod")?.definition.enabled).toBe(true);
    await eventually(async () => {
      expect((await evaluate(api, projectId, "new-checkout", "eu-prod")).enabled).toBe(true);
    });
    // The second lock stored the environment the feature lacked (the first release started before it existed).
    const locks = (await api.store.readStream(`feature-${featureId}`))
      .filter((e) => e.type === "FeatureReleaseStarted")
      .map((e) => (e.data as { addedEnvironments?: string[] }).addedEnvironments);
    expect(locks).toEqual([undefined, ["eu-prod"]]);
  }, 60_000);
});

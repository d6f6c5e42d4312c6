// Governance through the API: freezing a project (APPROVER), promotion windows on pipelines, break glass
// (ADMIN, reason required) on a release whose phase the freeze holds, shown as FROZEN and recorded.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createProject,
  createPublishedPipeline,
  createToken,
  eventually,
  RELEASE_FIELDS,
  type ReleaseView,
} from "./documents.ts";
import { startTestApi, type TestApi } from "./harness.ts";

let api: TestApi;
let projectId: string;
let editor: string;
let approver: string;

const FREEZE = /* GraphQL */ `
  mutation($p: ID!, $reason: String!, $until: DateTime) {
    freezeProject(projectId: $p, reason: $reason, until: $until) { id freeze { reason by since until } }
  }`;
const UNFREEZE = /* GraphQL */ `
  mutation($p: ID!, $reason: String) { unfreezeProject(projectId: $p, reason: $reason) { id freeze { reason } } }`;
const BREAK_GLASS = /* GraphQL */ `
  mutation($id: ID!, $reason: String!) { breakGlass(id: $id, reason: $reason) { ${RELEASE_FIELDS} } }`;
const RELEASE = /* GraphQL */ `query($id: ID!) { release(id: $id) { ${RELEASE_FIELDS} } }`;

interface Frozen {
  freezeProject: { freeze: { reason: string; by: string; since: string; until: string | null } | null };
}

beforeAll(async () => {
  api = await startTestApi();
  projectId = await createProject(api, "Governed");
  editor = await createToken(api, "ed", "EDITOR", projectId);
  approver = await createToken(api, "apo", "APPROVER", projectId);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe("freezeProject / unfreezeProject", () => {
  it("an APPROVER freezes with a reason and an optional end; Project.freeze shows it; unfreezing lifts it", async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const frozen = await api.ok<Frozen>(FREEZE, { p: projectId, reason: "incident 12", until }, approver);
    expect(frozen.freezeProject.freeze).toMatchObject({ reason: "incident 12", by: "apo", until });
    const lifted = await api.ok<{ unfreezeProject: { freeze: null } }>(
      UNFREEZE,
      { p: projectId, reason: "ok" },
      approver,
    );
    expect(lifted.unfreezeProject.freeze).toBeNull();
    const head = await api.store.headPosition();
    // Not frozen: answered unchanged, nothing written.
    expect(
      (await api.ok<{ unfreezeProject: { freeze: null } }>(UNFREEZE, { p: projectId }, approver)).unfreezeProject
        .freeze,
    ).toBeNull();
    expect(await api.store.headPosition()).toBe(head);
    const types = (await api.store.readStream(`project-${projectId}`)).map((e) => e.type);
    expect(types).toEqual(["ProjectCreated", "ProjectFrozen", "ProjectUnfrozen"]);
  });

  it("refuses an EDITOR (FORBIDDEN), an empty reason and an end in the past (VALIDATION), writing nothing", async () => {
    const head = await api.store.headPosition();
    const byEditor = await api.gql(FREEZE, { p: projectId, reason: "x" }, editor);
    expect(byEditor.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    const empty = await api.gql(FREEZE, { p: projectId, reason: "  " }, approver);
    expect(empty.errors?.map((e) => e.extensions)).toEqual([
      expect.objectContaining({ code: "VALIDATION", field: "reason" }),
    ]);
    const past = await api.gql(FREEZE, { p: projectId, reason: "x", until: "2020-01-01T00:00:00Z" }, approver);
    expect(past.errors?.map((e) => e.extensions)).toEqual([
      expect.objectContaining({ code: "VALIDATION", field: "until" }),
    ]);
    const long = await api.gql(FREEZE, { p: projectId, reason: "x".repeat(2_001) }, approver);
    expect(long.errors?.map((e) => e.extensions?.code)).toEqual(["VALIDATION"]);
    expect(await api.store.headPosition()).toBe(head);
  });
});

describe("promotion windows on pipelines", () => {
  const CREATE = /* GraphQL */ `
    mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id windows { days start end timeZone } } }`;
  const phases = [{ name: "all", targets: [{ environment: "production" }] }];

  it("are stored in week order and read back", async () => {
    const created = await api.ok<{ createPipeline: { windows: unknown[] } }>(CREATE, {
      input: {
        projectId,
        name: "office hours",
        phases,
        windows: [{ days: ["FRI", "MON", "TUE"], start: "09:00", end: "16:00", timeZone: "Europe/Berlin" }],
      },
    });
    expect(created.createPipeline.windows).toEqual([
      { days: ["MON", "TUE", "FRI"], start: "09:00", end: "16:00", timeZone: "Europe/Berlin" },
    ]);
  });

  it("refuses an unknown time zone and a malformed time, naming the field", async () => {
    for (const [window, field] of [
      [{ days: ["MON"], start: "09:00", end: "16:00", timeZone: "Europe/Atlantis" }, "windows[0].timeZone"],
      [{ days: ["MON"], start: "9am", end: "16:00", timeZone: "UTC" }, "windows[0].start"],
    ] as const) {
      const head = await api.store.headPosition();
      const result = await api.gql(CREATE, { input: { projectId, name: "bad", phases, windows: [window] } });
      expect(result.errors?.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: "VALIDATION", field })]);
      expect(await api.store.headPosition()).toBe(head);
    }
  });
});

describe("a release in a frozen project", () => {
  it("shows FROZEN; break glass (ADMIN, reason required) rolls the phase out and is recorded", async () => {
    const pipelineId = await createPublishedPipeline(api, projectId, [
      { name: "dev", targets: [{ environment: "development" }] },
      { name: "prod", requiresApproval: true, targets: [{ environment: "production" }] },
    ]);
    const feature = await api.ok<{ createFeature: { id: string } }>(
      /* GraphQL */ `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "frozen_gate", kind: GATE, pipelineId: $pl }) { id } }`,
      { p: projectId, pl: pipelineId },
    );
    await api.ok<Frozen>(FREEZE, { p: projectId, reason: "incident 13" }, approver);
    const started = await api.ok<{ startRelease: { id: string } }>(
      /* GraphQL */ `mutation($f: ID!) { startRelease(featureId: $f) { id status } }`,
      { f: feature.createFeature.id },
      editor,
    );
    const id = started.startRelease.id;
    const frozen = await eventually(async () => {
      const release = (await api.ok<{ release: ReleaseView }>(RELEASE, { id })).release;
      expect(release.phases[0]?.status).toBe("FROZEN");
      return release;
    });
    expect(frozen.status).toBe("IN_PROGRESS");

    const byApprover = await api.gql(BREAK_GLASS, { id, reason: "hotfix" }, approver);
    expect(byApprover.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    const noReason = await api.gql(BREAK_GLASS, { id, reason: " " });
    expect(noReason.errors?.map((e) => e.extensions)).toEqual([
      expect.objectContaining({ code: "VALIDATION", field: "reason" }),
    ]);

    const broken = await api.ok<{ breakGlass: ReleaseView }>(BREAK_GLASS, { id, reason: "hotfix for incident 13" });
    expect(broken.breakGlass.phases.map((p) => p.status)).toEqual(["ROLLED_OUT", "AWAITING_APPROVAL"]);
    expect(broken.breakGlass.actions.at(-1)).toMatchObject({
      kind: "BREAK_GLASS",
      reason: "hotfix for incident 13",
      phaseIndex: 0,
    });

    // The glass was broken for phase 0 only: once approved, the next phase is held by the freeze again.
    const approved = await api.ok<{ approveRelease: ReleaseView }>(
      /* GraphQL */ `mutation($id: ID!) { approveRelease(id: $id) { ${RELEASE_FIELDS} } }`,
      { id },
      approver,
    );
    expect(approved.approveRelease.phases[1]?.status).toBe("FROZEN");
  }, 60_000);
});

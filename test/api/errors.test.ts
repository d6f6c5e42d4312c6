// Every error code of the contract is produced by at least one request here, and every refused mutation
// leaves the event store's head where it was: nothing is appended when a mutation fails.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError, ERROR_CODES, type ErrorCode } from "../../services/core/errors.ts";
import type { EventStore } from "../../services/event-store/port.ts";
import {
  action,
  answered,
  createProject,
  createPublishedPipeline,
  createToken,
  eventually,
  feature,
  RELEASE_FIELDS,
  type ReleaseView,
  release,
} from "./documents.ts";
import { type GraphQLResponse, startTestApi, subscribe, type TestApi } from "./harness.ts";

let api: TestApi;
let projectA: string;
let projectB: string;
let viewer: string;
let editorA: string;
let approverA: string;
let pipelineB: string;
let approvalPipeline: string;
let draftPipeline: string;
let awaitingRelease: ReleaseView;
let completedReleaseId: string;
let gateWithRelease: string;

const seen = new Set<ErrorCode>();

/** Runs `request` and asserts it answers `code` with nothing appended to the store. */
async function refuses(
  code: ErrorCode,
  request: () => Promise<GraphQLResponse>,
  store: EventStore = api.store,
): Promise<GraphQLResponse> {
  const head = await store.headPosition();
  const result = await request();
  expect(
    result.errors?.map((e) => e.extensions?.code),
    JSON.stringify(result.errors),
  ).toContain(code);
  expect(result.errors?.every((e) => typeof e.message === "string" && e.message.length > 0)).toBe(true);
  expect(await store.headPosition()).toBe(head);
  seen.add(code);
  return result;
}

beforeAll(async () => {
  api = await startTestApi();
  projectA = await createProject(api, "A");
  projectB = await createProject(api, "B");
  viewer = await createToken(api, "val", "VIEWER", projectA);
  editorA = await createToken(api, "eve", "EDITOR", projectA);
  // Its own name: token names are unique, so "eve" the editor and "ava" the approver are two people.
  approverA = await createToken(api, "ava", "APPROVER", projectA);
  pipelineB = await createPublishedPipeline(api, projectB, [{ name: "all", targets: [{ environment: "production" }] }]);
  // Phase 0 awaits an approval at once: a release that stays put (no timer appends while we probe it).
  approvalPipeline = await createPublishedPipeline(
    api,
    projectA,
    [{ name: "gate", requiresApproval: true, targets: [{ environment: "development" }] }],
    { selfApproval: "FORBIDDEN" },
  );
  const draft = await api.ok<{ createPipeline: { id: string } }>(
    /* GraphQL */ `mutation($p: ID!) { createPipeline(input: { projectId: $p, name: "draft", phases: [{ name: "x", targets: [{ environment: "development" }] }] }) { id } }`,
    { p: projectA },
  );
  draftPipeline = draft.createPipeline.id;
  const gate = await api.ok<{ createFeature: { id: string } }>(
    /* GraphQL */ `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "guarded", kind: GATE, pipelineId: $pl }) { id } }`,
    { p: projectA, pl: approvalPipeline },
  );
  gateWithRelease = gate.createFeature.id;
  const started = await api.ok<{ startRelease: ReleaseView }>(
    /* GraphQL */ `mutation($f: ID!) { startRelease(featureId: $f) { ${RELEASE_FIELDS} } }`,
    { f: gateWithRelease },
    approverA,
  );
  awaitingRelease = started.startRelease;
  const quick = await createPublishedPipeline(api, projectA, [
    { name: "all", targets: [{ environment: "development" }] },
  ]);
  const other = await api.ok<{ createFeature: { id: string } }>(
    /* GraphQL */ `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "quick", kind: GATE, pipelineId: $pl }) { id } }`,
    { p: projectA, pl: quick },
  );
  const done = await api.ok<{ startRelease: ReleaseView }>(
    /* GraphQL */ `mutation($f: ID!) { startRelease(featureId: $f) { ${RELEASE_FIELDS} } }`,
    { f: other.createFeature.id },
  );
  completedReleaseId = done.startRelease.id;
  await eventually(async () => {
    expect((await release(api, completedReleaseId)).status).toBe("COMPLETED");
    // The workflow's last writes (the feature's lock given back) are in: the store is quiet from here on.
    expect((await feature(api, other.createFeature.id)).activeRelease).toBeNull();
  });
  expect(awaitingRelease.phases[0]?.status).toBe("AWAITING_APPROVAL");
}, 120_000);

afterAll(async () => {
  await api?.close();
});

const CREATE_PROJECT = /* GraphQL */ `mutation { createProject(input: { name: "X", environments: ["dev"] }) { id } }`;

describe("error codes", () => {
  it("UNAUTHENTICATED: no token, or a token nobody issued", async () => {
    await refuses("UNAUTHENTICATED", () => api.gql(CREATE_PROJECT, {}, null));
    await refuses("UNAUTHENTICATED", () => api.gql(CREATE_PROJECT, {}, "rp_not-a-real-token"));
    await refuses("UNAUTHENTICATED", () => api.gql("{ projects { id } }", {}, null));
  });

  it("FORBIDDEN: a role below the mutation's", async () => {
    await refuses("FORBIDDEN", () =>
      api.gql(
        /* GraphQL */ `mutation($p: ID!) { createPipeline(input: { projectId: $p, name: "v", phases: [{ name: "x", targets: [{ environment: "development" }] }] }) { id } }`,
        { p: projectA },
        viewer,
      ),
    );
    await refuses("FORBIDDEN", () => api.gql(CREATE_PROJECT, {}, editorA));
    await refuses("FORBIDDEN", () => action(api, "approveRelease", awaitingRelease.id, {}, editorA));
  });

  it("NOT_FOUND: a missing entity, and another project's entity for a project-bound token", async () => {
    await refuses("NOT_FOUND", () =>
      api.gql(`mutation($id: ID!) { publishPipeline(id: $id) { id } }`, { id: randomUUID() }),
    );
    await refuses("NOT_FOUND", () =>
      api.gql(`mutation($id: ID!) { clonePipeline(id: $id) { id } }`, { id: pipelineB }, editorA),
    );
    await refuses("NOT_FOUND", () =>
      api.gql(
        `mutation($p: ID!) { createFeature(input: { projectId: $p, key: "x", kind: GATE }) { id } }`,
        { p: projectB },
        editorA,
      ),
    );
    await refuses("NOT_FOUND", () => action(api, "pauseRelease", randomUUID(), {}, editorA));
    // Reads of another project look like missing entities too.
    const read = await api.gql<{ pipeline: unknown; project: unknown }>(
      `query($id: ID!, $p: ID!) { pipeline(id: $id) { id } project(id: $p) { id } }`,
      { id: pipelineB, p: projectB },
      editorA,
    );
    expect(read.data).toEqual({ pipeline: null, project: null });
    await refuses("NOT_FOUND", () =>
      api.gql(`query($p: ID!) { auditLog(filter: { projectId: $p }) { edges { cursor } } }`, { p: projectB }, editorA),
    );
  });

  it("VALIDATION: syntax, unknown field, bad variable, bad Duration, bad input, too deep, too large", async () => {
    const syntax = await refuses("VALIDATION", () => api.gql("{ viewer { tokenName ", {}));
    expect(syntax.errors?.[0]?.message).toContain("Syntax Error");
    await refuses("VALIDATION", () => api.gql("{ viewer { secret } }", {}));
    await refuses("VALIDATION", () =>
      api.gql(`query($first: Int) { auditLog(first: $first) { edges { cursor } } }`, { first: "many" }),
    );
    const literal = await refuses("VALIDATION", () =>
      api.gql(
        /* GraphQL */ `mutation($p: ID!) { createPipeline(input: { projectId: $p, name: "d", phases: [{ name: "x", waitFor: "P1Y", targets: [{ environment: "development" }] }] }) { id } }`,
        { p: projectA },
      ),
    );
    expect(literal.errors?.[0]?.extensions?.field).toBe("input.phases[0].waitFor");
    const variable = await refuses("VALIDATION", () =>
      api.gql(`mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }`, {
        input: {
          projectId: projectA,
          name: "d",
          phases: [{ name: "x", waitFor: "P400D", targets: [{ environment: "development" }] }],
        },
      }),
    );
    expect(variable.errors?.[0]?.message).toContain("input.phases[0].waitFor");
    const domain = await refuses("VALIDATION", () =>
      api.gql(`mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }`, {
        input: { projectId: projectA, name: "d", phases: [{ name: "x", targets: [{ environment: "moon" }] }] },
      }),
    );
    expect(domain.errors?.[0]?.extensions?.field).toBe("phases[0].targets[0].environment");
    await refuses("VALIDATION", () =>
      api.gql(`query($at: DateTime) { featureAsOf(id: "x", at: $at) { id } }`, { at: "yesterday" }),
    );
    const deep = `{ projects { features { project { features { project { features { project { features { project { features { project { features { id } } } } } } } } } } } } }`;
    await refuses("VALIDATION", () => api.gql(deep, {}));
    const large = await refuses("VALIDATION", () =>
      api.gql(`query { viewer { tokenName } }`, { padding: "x".repeat(1_100_000) }),
    );
    expect(large.status).toBe(413);
  });

  it("VALIDATION: a ramp or guardrail outside its bounds names the field, and no pipeline is written", async () => {
    const pipelines = async () =>
      (
        await api.ok<{ project: { pipelines: { id: string }[] } }>(
          `query($p: ID!) { project(id: $p) { pipelines { id } } }`,
          { p: projectA },
        )
      ).project.pipelines.length;
    const count = await pipelines();
    for (const [ramp, field] of [
      [{ initialPercentage: 0, increaseBy: 10, every: "PT1H" }, "phases[0].ramp.initialPercentage"],
      [{ initialPercentage: 10, increaseBy: 120, every: "PT1H" }, "phases[0].ramp.increaseBy"],
      [{ initialPercentage: 10, increaseBy: 10, every: "P2D" }, "phases[0].ramp.every"],
      [{ initialPercentage: 10, increaseBy: 10, every: "PT0.5S" }, "phases[0].ramp.every"],
    ] as const) {
      const refused = await refuses("VALIDATION", () =>
        api.gql(`mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }`, {
          input: {
            projectId: projectA,
            name: "ramped",
            phases: [{ name: "x", ramp, targets: [{ environment: "development" }] }],
          },
        }),
      );
      expect(refused.errors?.[0]?.extensions?.field).toBe(field);
    }
    const probe = { name: "health", kind: "HTTP_PROBE", url: "https://checkout.internal/healthz", interval: "PT1M" };
    for (const [guardrails, field] of [
      [[{ ...probe, url: "ftp://checkout.internal/" }], "phases[0].guardrails[0].url"],
      [[{ ...probe, url: "https://admin:secret@prometheus/" }], "phases[0].guardrails[0].url"],
      [[{ ...probe, interval: "P2D" }], "phases[0].guardrails[0].interval"],
      [Array.from({ length: 11 }, (_, i) => ({ ...probe, name: `g${i}` })), "phases[0].guardrails"],
      [
        [{ ...probe, kind: "PROMETHEUS_QUERY", query: "x".repeat(2_001), comparator: "LT", threshold: 1 }],
        "phases[0].guardrails[0].query",
      ],
    ] as const) {
      const refused = await refuses("VALIDATION", () =>
        api.gql(`mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }`, {
          input: {
            projectId: projectA,
            name: "guarded",
            phases: [{ name: "x", guardrails, targets: [{ environment: "development" }] }],
          },
        }),
      );
      expect(refused.errors?.[0]?.extensions?.field).toBe(field);
    }
    expect(await pipelines()).toBe(count);
  });

  it("CONFLICT: a feature key already taken in the project, a token name already taken", async () => {
    await refuses("CONFLICT", () =>
      api.gql(`mutation($p: ID!) { createFeature(input: { projectId: $p, key: "guarded", kind: GATE }) { id } }`, {
        p: projectA,
      }),
    );
    const taken = await refuses("CONFLICT", () =>
      api.gql(`mutation { createApiToken(input: { name: "eve", role: APPROVER }) { secret } }`),
    );
    expect(taken.errors?.[0]?.message).toContain('"eve"');
  });

  it("IMMUTABLE: editing a published pipeline", async () => {
    await refuses("IMMUTABLE", () =>
      api.gql(`mutation($id: ID!) { updatePipeline(id: $id, input: { name: "new" }) { id } }`, {
        id: approvalPipeline,
      }),
    );
  });

  it("PIPELINE_IN_USE: deleting an attached pipeline", async () => {
    await refuses("PIPELINE_IN_USE", () =>
      api.gql(`mutation($id: ID!) { deletePipeline(id: $id) { id } }`, { id: approvalPipeline }),
    );
  });

  it("PIPELINE_NOT_PUBLISHED: attaching a draft", async () => {
    await refuses("PIPELINE_NOT_PUBLISHED", () =>
      api.gql(
        `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "drafty", kind: GATE, pipelineId: $pl }) { id } }`,
        { p: projectA, pl: draftPipeline },
      ),
    );
  });

  it("RELEASE_IN_PROGRESS: a change or a pipeline change while a release runs", async () => {
    await refuses("RELEASE_IN_PROGRESS", () =>
      api.gql(
        `mutation($id: ID!) { updateFeature(id: $id, input: { environments: [{ environment: "development", definition: { enabled: true } }] }) { __typename } }`,
        { id: gateWithRelease },
        editorA,
      ),
    );
    await refuses("RELEASE_IN_PROGRESS", () =>
      api.gql(`mutation($f: ID!) { startRelease(featureId: $f) { id } }`, { f: gateWithRelease }, editorA),
    );
    await refuses("RELEASE_IN_PROGRESS", () =>
      api.gql(`mutation($f: ID!) { detachPipeline(featureId: $f) { id } }`, { f: gateWithRelease }, editorA),
    );
  });

  it("INVALID_STATE: the wrong phase state, a stale phase, an ended release", async () => {
    const pause = await refuses("INVALID_STATE", () => action(api, "pauseRelease", awaitingRelease.id, {}, editorA));
    expect(pause.errors?.[0]?.message).toContain("AWAITING_APPROVAL");
    await refuses("INVALID_STATE", () => action(api, "skipPhase", awaitingRelease.id, {}, editorA));
    await refuses("INVALID_STATE", () => action(api, "unpauseRelease", awaitingRelease.id, { phaseIndex: 3 }, editorA));
    const ended = await refuses("INVALID_STATE", () => action(api, "abortRelease", completedReleaseId, {}));
    expect(ended.errors?.[0]?.message).toContain("COMPLETED");
  });

  it("SELF_APPROVAL_FORBIDDEN: the starter approving when the pipeline forbids it", async () => {
    await refuses("SELF_APPROVAL_FORBIDDEN", () => action(api, "approveRelease", awaitingRelease.id, {}, approverA));
  });

  it("RATE_LIMITED: more requests than the allowance, even with a fresh random bearer value each time", async () => {
    const limited = await startTestApi({ worker: false, options: { rateLimit: { perSecond: 2, burst: 3 } } });
    try {
      const head = await limited.store.headPosition();
      // Unknown tokens are limited by the client's address, not by whatever bearer value they send.
      const statuses: number[] = [];
      let last: GraphQLResponse | null = null;
      for (let i = 0; i < 20; i++) {
        last = await limited.gql(CREATE_PROJECT, {}, `rp_${randomUUID()}`);
        statuses.push(last.status);
        if (last.status === 429) break;
      }
      expect(statuses).toContain(429);
      expect(statuses.length).toBeLessThanOrEqual(5);
      expect(last?.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      expect(await limited.store.headPosition()).toBe(head);
      seen.add("RATE_LIMITED");
      // A valid token has its own allowance (keyed by the token), untouched by the anonymous flood.
      expect((await limited.gql("{ viewer { role } }")).errors).toBeUndefined();
      // And its own requests run out of it like anyone's.
      let own: GraphQLResponse | null = null;
      for (let i = 0; i < 20; i++) {
        own = await limited.gql("{ viewer { role } }");
        if (own.status === 429) break;
      }
      expect(own?.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      // graphql-ws with random tokens gets no further than connection_init: closed 4401, nothing runs.
      const socket = limited.ws(`rp_${randomUUID()}`);
      const closed = new Promise<number>((resolve) =>
        socket.on("closed", (event) => resolve((event as { code: number }).code)),
      );
      subscribe(socket, `subscription { auditEvents { type } }`, {}, (d) => d);
      expect(await closed).toBe(4401);
    } finally {
      await limited.close();
    }
  });

  it("INTERNAL: an unexpected failure is masked, logged, and writes nothing", async () => {
    const broken = await startTestApi({
      worker: false,
      // The API's writes fail with an error no code expects; everything else is the real store.
      wrapStore: (store) =>
        new Proxy(store, {
          get(target, property) {
            if (property === "append") {
              return async () => {
                throw new Error("disk on fire");
              };
            }
            const value = Reflect.get(target, property);
            return typeof value === "function" ? value.bind(target) : value;
          },
        }),
    });
    try {
      const result = await refuses("INTERNAL", () => broken.gql(CREATE_PROJECT, {}), broken.store);
      // Masked, with the request id the log line carries.
      const requestId = (result.errors?.[0]?.extensions as { requestId?: string } | undefined)?.requestId;
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.errors?.[0]?.message).toBe(`Unexpected error. Request id: ${requestId}.`);
      expect(JSON.stringify(result.errors)).not.toContain("disk on fire");
    } finally {
      await broken.close();
    }
  });

  it("a slice's command handlers can be replaced (BuildAppOptions.commands): the resolver calls ctx.<slice>", async () => {
    const injected = await startTestApi({
      worker: false,
      options: {
        commands: {
          project: {
            createProject: async () => {
              throw new DomainError("CONFLICT", "injected by the test");
            },
            freezeProject: async () => {
              throw new DomainError("INTERNAL", "not used");
            },
            unfreezeProject: async () => {
              throw new DomainError("INTERNAL", "not used");
            },
          },
        },
      },
    });
    try {
      const result = await injected.gql(CREATE_PROJECT, {});
      expect(result.errors?.[0]).toMatchObject({ message: "injected by the test", extensions: { code: "CONFLICT" } });
    } finally {
      await injected.close();
    }
  });

  it("covers every code of the contract", () => {
    expect([...seen].sort()).toEqual([...ERROR_CODES].sort());
  });
});

describe("a refused action leaves the release as it was", () => {
  it("still awaits its approval, with no action recorded", async () => {
    const data = await api.ok<{ release: ReleaseView }>(`query($id: ID!) { release(id: $id) { ${RELEASE_FIELDS} } }`, {
      id: awaitingRelease.id,
    });
    expect(data.release.version).toBe(awaitingRelease.version);
    expect(data.release.actions).toEqual([]);
    // And a proper approval still works.
    const other = await createToken(api, "olga", "APPROVER", projectA);
    expect(answered(await action(api, "approveRelease", awaitingRelease.id, {}, other)).status).toBe("COMPLETED");
  });
});

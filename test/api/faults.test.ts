// PRODUCT.md "Faults" at the API: a mutation that answered an error wrote nothing. One document with two
// mutation fields is refused before anything runs; an Idempotency-Key reused for a different request is
// refused; and generated inputs (valid, invalid, hostile) never answer INTERNAL, never leak a stack or
// internal text, and leave the event log's head where it was whenever the answer is an error.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../services/core/errors.ts";
import {
  answered,
  createProject,
  createPublishedPipeline,
  createToken,
  RELEASE_FIELDS,
  type ReleaseView,
  release,
} from "./documents.ts";
import { type GraphQLResponse, startTestApi, type TestApi } from "./harness.ts";

let api: TestApi;
let projectA: string;
let editorA: string;
let approverA: string;
let viewerA: string;
let plainFeature: string;
/** Two approval phases, no timers: every write of an action happens before its answer. */
let approvalPipeline: string;

beforeAll(async () => {
  api = await startTestApi();
  projectA = await createProject(api, "Faults");
  editorA = await createToken(api, "fault-editor", "EDITOR", projectA);
  approverA = await createToken(api, "fault-approver", "APPROVER", projectA);
  viewerA = await createToken(api, "fault-viewer", "VIEWER", projectA);
  approvalPipeline = await createPublishedPipeline(api, projectA, [
    { name: "dev", requiresApproval: true, approvalsRequired: 2, targets: [{ environment: "development" }] },
    { name: "prod", requiresApproval: true, targets: [{ environment: "production" }] },
  ]);
  const created = await api.ok<{ createFeature: { id: string } }>(
    /* GraphQL */ `mutation($p: ID!) { createFeature(input: { projectId: $p, key: "plain", kind: GATE }) { id } }`,
    { p: projectA },
  );
  plainFeature = created.createFeature.id;
}, 120_000);

afterAll(async () => {
  await api?.close();
});

let features = 0;
/** A new release awaiting its first approval (a feature of its own on the approval pipeline). */
async function awaitingRelease(): Promise<ReleaseView> {
  const created = await api.ok<{ createFeature: { id: string } }>(
    /* GraphQL */ `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: $k, kind: GATE, pipelineId: $pl }) { id } }`.replace(
      "$k",
      `"faulty-${++features}"`,
    ),
    { p: projectA, pl: approvalPipeline },
  );
  const started = await api.ok<{ startRelease: ReleaseView }>(
    /* GraphQL */ `mutation($f: ID!) { startRelease(featureId: $f) { ${RELEASE_FIELDS} } }`,
    { f: created.createFeature.id },
    editorA,
  );
  expect(started.startRelease.phases[0]?.status).toBe("AWAITING_APPROVAL");
  return started.startRelease;
}

/** Every error has a contract code, none is INTERNAL, and no message shows a stack or internal text. */
function expectCleanErrors(result: GraphQLResponse): void {
  for (const error of result.errors ?? []) {
    expect(ERROR_CODES).toContain(error.extensions?.code);
    expect(error.extensions?.code, error.message).not.toBe("INTERNAL");
    expect(error.message).not.toMatch(/\n\s+at |node_modules|\.ts:\d+|TypeError|ReferenceError|SQLITE|sqlite/);
  }
}

describe("one mutation field per request", () => {
  it("refuses two mutation fields in one document (`a: approveRelease b: approveRelease`) as VALIDATION, nothing written", async () => {
    const awaiting = await awaitingRelease();
    const head = await api.store.headPosition();
    const result = await api.gql(
      /* GraphQL */ `mutation($id: ID!) { a: approveRelease(id: $id) { id } b: approveRelease(id: $id) { id } }`,
      { id: awaiting.id },
      approverA,
    );
    expect(result.data).toBeNull();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["VALIDATION"]);
    expect(result.errors?.[0]?.message).toMatch(/one mutation field/);
    expect(await api.store.headPosition()).toBe(head);
    expect((await release(api, awaiting.id)).phases[0]?.approvals ?? []).toEqual([]);
  });

  it("counts fields behind fragments and inline fragments, not __typename; one field still runs", async () => {
    const head = await api.store.headPosition();
    const hidden = await api.gql(
      /* GraphQL */ `mutation($p: ID!) { ...M ... on Mutation { b: createFeature(input: { projectId: $p, key: "hidden-2", kind: GATE }) { id } } }
        fragment M on Mutation { a: createFeature(input: { projectId: $p, key: "hidden-1", kind: GATE }) { id } }`,
      { p: projectA },
    );
    expect(hidden.errors?.map((e) => e.extensions?.code)).toEqual(["VALIDATION"]);
    expect(await api.store.headPosition()).toBe(head);
    const single = await api.gql(
      /* GraphQL */ `mutation($p: ID!) { __typename createFeature(input: { projectId: $p, key: "single", kind: GATE }) { id } }`,
      { p: projectA },
    );
    expect(single.errors).toBeUndefined();
  });
});

describe("Idempotency-Key", () => {
  const approve = (id: string, comment: string, key: string, name = "approveRelease") =>
    api.gql<Record<string, ReleaseView>>(
      `mutation($id: ID!, $c: String) { ${name}(id: $id, ${name === "approveRelease" ? "comment" : "reason"}: $c) { ${RELEASE_FIELDS} } }`,
      { id, c: comment },
      approverA,
      { "Idempotency-Key": key },
    );

  it("a retry of the same request is applied once and answered the same", async () => {
    const awaiting = await awaitingRelease();
    const first = answered(await approve(awaiting.id, "ok", "retry-1"));
    const head = await api.store.headPosition();
    const again = answered(await approve(awaiting.id, "ok", "retry-1"));
    expect(again.phases[0]?.approvals).toEqual(first.phases[0]?.approvals);
    expect(await api.store.headPosition()).toBe(head);
  });

  it("the same key with another note, another action or another release is refused with CONFLICT, nothing written", async () => {
    const awaiting = await awaitingRelease();
    const other = await awaitingRelease();
    answered(await approve(awaiting.id, "looks good", "reused-1"));
    const head = await api.store.headPosition();
    for (const reuse of [
      () => approve(awaiting.id, "something else", "reused-1"),
      () => approve(awaiting.id, "looks good", "reused-1", "abortRelease"),
      () => approve(other.id, "looks good", "reused-1"),
    ]) {
      const result = await reuse();
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["CONFLICT"]);
      expect(result.errors?.[0]?.message).toMatch(
        /Idempotency-Key "reused-1" was already used for a different request/,
      );
      expect(await api.store.headPosition()).toBe(head);
    }
    expect((await release(api, other.id)).phases[0]?.approvals ?? []).toEqual([]);
    expect((await release(api, awaiting.id)).status).toBe("IN_PROGRESS");
    // Another token may use the same key for its own request.
    const editorsKey = await api.gql(
      `mutation($id: ID!) { abortRelease(id: $id, reason: "x") { id status } }`,
      { id: other.id },
      editorA,
      { "Idempotency-Key": "reused-1" },
    );
    expect(editorsKey.errors).toBeUndefined();
  });
});

describe("remainingWait", () => {
  it("under releaseAsOf is counted at the as-of point, and is null once the release is ABORTED", async () => {
    const baking = await createPublishedPipeline(api, projectA, [
      { name: "bake", waitFor: "PT1H", targets: [{ environment: "development" }] },
    ]);
    const created = await api.ok<{ createFeature: { id: string } }>(
      `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "baking", kind: GATE, pipelineId: $pl }) { id } }`,
      { p: projectA, pl: baking },
    );
    const started = await api.ok<{ startRelease: { id: string } }>(
      `mutation($f: ID!) { startRelease(featureId: $f) { id } }`,
      { f: created.createFeature.id },
      editorA,
    );
    const id = started.startRelease.id;
    const phase = async (query: string, variables: Record<string, unknown>) =>
      (
        await api.ok<
          Record<string, { phases: { status: string; waitStartedAt: string; remainingWait: string | null }[] }>
        >(query, variables)
      )[query.includes("releaseAsOf") ? "releaseAsOf" : "release"]?.phases[0];
    const now = await phase(`query($id: ID!) { release(id: $id) { phases { status waitStartedAt remainingWait } } }`, {
      id,
    });
    expect(now?.status).toBe("WAITING");
    const tenMinutesIn = new Date(Date.parse(now?.waitStartedAt ?? "") + 10 * 60_000).toISOString();
    const then = await phase(
      `query($id: ID!, $at: DateTime) { releaseAsOf(id: $id, at: $at) { phases { status waitStartedAt remainingWait } } }`,
      { id, at: tenMinutesIn },
    );
    // 50 minutes left at that point, whatever the wall clock says now.
    expect(then?.remainingWait).toBe("PT50M");
    await api.ok(`mutation($id: ID!) { abortRelease(id: $id, reason: "no") { id } }`, { id }, editorA);
    const aborted = await phase(
      `query($id: ID!) { release(id: $id) { phases { status waitStartedAt remainingWait } } }`,
      {
        id,
      },
    );
    expect(aborted?.remainingWait).toBeNull();
  });
});

// ---- generated inputs ---------------------------------------------------------------------------------

/** A name or key the API accepts. */
const goodName = fc.stringMatching(/^[a-z][a-z0-9-]{2,10}$/);
const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "__proto__",
    "constructor",
    "production",
    "development",
    "1h",
    "-1s",
    "P1D",
    "99999999999h",
    "'; DROP TABLE events; --",
    "\u0000",
    "\u202e",
    "a".repeat(10_000),
    "{}",
  ),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: "small" },
  hostileString,
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constantFrom(null, true, false, 2 ** 31, -1, 0, 1e308),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
);
const maybe = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: hostileValue });

const rule = fc.record({
  segment: maybe(fc.constantFrom("us-west", "eu", "nope")),
  enabled: maybe(fc.boolean()),
  value: hostileValue,
  rolloutPercentage: maybe(fc.double({ min: -10, max: 200, noNaN: true })),
});
const definition = fc.record({
  enabled: maybe(fc.boolean()),
  value: hostileValue,
  rules: maybe(fc.array(rule, { maxLength: 2 })),
});
const environments = maybe(
  fc.array(fc.record({ environment: maybe(fc.constantFrom("development", "staging", "production")), definition }), {
    maxLength: 3,
  }),
);
const phase = fc.record({
  name: maybe(goodName),
  waitFor: maybe(fc.constantFrom("1h", "30m", "0s", "-1h", "forever", "1000000h")),
  requiresApproval: maybe(fc.boolean()),
  approvalsRequired: maybe(fc.integer({ min: -2, max: 20 })),
  action: maybe(fc.constantFrom("APPLY_CHANGE", "ENABLE", "DISABLE", "EXPLODE")),
  targets: maybe(
    fc.array(
      fc.record({
        environment: maybe(fc.constantFrom("development", "production")),
        segment: maybe(fc.constant(null)),
      }),
      {
        maxLength: 3,
      },
    ),
  ),
});

interface Case {
  document: string;
  variables: Record<string, unknown>;
  token: "admin" | "editor" | "approver" | "viewer" | "none" | "garbage";
}

const TOKEN = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<Case["token"]>("admin", "editor") },
  { weight: 1, arbitrary: fc.constantFrom<Case["token"]>("approver", "viewer", "none", "garbage") },
);

/** Mutations whose every write happens before the answer (no release with a timer is started). */
function cases(releaseId: string): fc.Arbitrary<Case> {
  const id = maybe(fc.constantFrom(projectA, plainFeature, releaseId, approvalPipeline, "nope", ""));
  return fc.oneof(
    fc.record({
      document: fc.constant(`mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`),
      variables: fc.record({
        input: maybe(
          fc.record({
            name: maybe(goodName),
            environments: maybe(fc.uniqueArray(goodName, { minLength: 1, maxLength: 4 })),
            segments: maybe(
              fc.array(
                fc.record({
                  key: hostileString,
                  attribute: hostileString,
                  operator: maybe(fc.constantFrom("IN", "NOT_IN", "EQUALS", "WAT")),
                  values: maybe(fc.array(hostileString, { maxLength: 2 })),
                }),
                { maxLength: 2 },
              ),
            ),
          }),
        ),
      }),
      token: TOKEN,
    }),
    fc.record({
      document: fc.constant(
        `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { name role projectId } }`,
      ),
      variables: fc.record({
        input: maybe(
          fc.record({
            name: maybe(goodName),
            role: maybe(fc.constantFrom("VIEWER", "EDITOR", "APPROVER", "ADMIN", "ROOT")),
            projectId: maybe(fc.constantFrom(projectA, "nope")),
          }),
        ),
      }),
      token: TOKEN,
    }),
    fc.record({
      document: fc.constant(`mutation($input: CreatePipelineInput!) { createPipeline(input: $input) { id } }`),
      variables: fc.record({
        input: maybe(
          fc.record({
            projectId: id,
            name: maybe(goodName),
            selfApproval: maybe(fc.constantFrom("ALLOWED", "FORBIDDEN", "MAYBE")),
            phases: maybe(fc.array(phase, { minLength: 1, maxLength: 3 })),
          }),
        ),
      }),
      token: TOKEN,
    }),
    fc.record({
      document: fc.constant(`mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`),
      variables: fc.record({
        input: maybe(
          fc.record({
            projectId: id,
            key: maybe(goodName),
            kind: maybe(fc.constantFrom("GATE", "DYNAMIC_CONFIG", "SWITCH")),
            environments,
          }),
        ),
      }),
      token: TOKEN,
    }),
    fc.record({
      document: fc.constant(
        `mutation($id: ID!, $input: UpdateFeatureInput!) { updateFeature(id: $id, input: $input) { __typename } }`,
      ),
      variables: fc.record({ id, input: maybe(fc.record({ description: hostileValue, environments })) }),
      token: TOKEN,
    }),
    fc.record({
      document: fc.constantFrom(
        ...["approveRelease", "pauseRelease", "unpauseRelease", "skipPhase"].map(
          (name) =>
            `mutation($id: ID!, $p: Int, $n: String) { ${name}(id: $id, phaseIndex: $p, ${name === "approveRelease" ? "comment" : "reason"}: $n) { id } }`,
        ),
      ),
      variables: fc.record({ id, p: maybe(fc.integer({ min: -1, max: 3 })), n: hostileValue }),
      token: TOKEN,
    }),
  );
}

describe("generated mutations: valid, invalid and hostile inputs", () => {
  it("never answer INTERNAL or internal text, and an error leaves the log's head where it was", {
    timeout: 120_000,
  }, async () => {
    const awaiting = await awaitingRelease();
    const secrets: Record<Case["token"], string | null> = {
      admin: api.adminToken,
      editor: editorA,
      approver: approverA,
      viewer: viewerA,
      none: null,
      garbage: "rp_not-a-token",
    };
    let errors = 0;
    let successes = 0;
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(cases(awaiting.id), async (generated) => {
        const head = await api.store.headPosition();
        const result = await api.gql(generated.document, generated.variables, secrets[generated.token]);
        expectCleanErrors(result);
        if (result.errors !== undefined && result.errors.length > 0) {
          errors++;
          codes.add(String(result.errors[0]?.extensions?.code));
          expect(await api.store.headPosition()).toBe(head);
        } else {
          successes++;
        }
      }),
      { numRuns: 300 },
    );
    // The generators reach both sides.
    expect(errors).toBeGreaterThan(50);
    expect(successes).toBeGreaterThan(5);
    expect([...codes].sort()).toEqual(expect.arrayContaining(["FORBIDDEN", "UNAUTHENTICATED", "VALIDATION"]));
  });

  it("hostile documents (not only variables) answer VALIDATION, never INTERNAL", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.constantFrom(
            "mutation { createProject(input: {}) { id } }",
            "mutation { __schema { types { name } } }",
            "subscription { releaseUpdated }",
            "query { ".repeat(30),
            "mutation($x: Int) { createProject(input: $x) { id } }",
          ),
        ),
        async (document) => {
          const head = await api.store.headPosition();
          const result = await api.gql(document, {}, api.adminToken);
          expectCleanErrors(result);
          expect(result.errors?.length ?? 0).toBeGreaterThan(0);
          expect(await api.store.headPosition()).toBe(head);
        },
      ),
      { numRuns: 100 },
    );
  });
});

// Releases through the API: one running release per feature, guarded twice — the feature stream's lock (its
// expected revision), and the release id derived from the feature (`<featureId>.<n>`), so racing starts
// decide the same id and the release stream's no_stream check (and Temporal's workflow id) refuse the
// second — and audit replay of a feature, pipeline or release together with everything reached from it.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventStore, EventToAppend, ExpectedRevision, RecordedEvent } from "../../services/event-store/port.ts";
import { action, answered, createProject, createPublishedPipeline, createToken, eventually } from "./documents.ts";
import { type GraphQLResponse, startTestApi, type TestApi } from "./harness.ts";

let api: TestApi;
let projectId: string;
let editor: string;
let approvalPipeline: string;

/** When set, the API's lock appends (FeatureReleaseStarted) wait for each other and then ignore the revision. */
let bypassFeatureLock = false;
const held: (() => void)[] = [];

/** The store as the API sees it, with the feature lock's optimistic concurrency switchable off. */
function lockBypassing(store: EventStore): EventStore {
  const append = async (stream: string, events: EventToAppend[], expected: ExpectedRevision) => {
    if (!bypassFeatureLock || !events.some((event) => event.type === "FeatureReleaseStarted")) {
      return store.append(stream, events, expected);
    }
    // Both racers have decided before either appends: both lock appends go through.
    await new Promise<void>((resolve) => {
      held.push(resolve);
      if (held.length >= 2) for (const release of held.splice(0)) release();
      setTimeout(resolve, 5_000);
    });
    return store.append(stream, events, "any");
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === "append") return append;
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

beforeAll(async () => {
  api = await startTestApi({ wrapStore: lockBypassing });
  projectId = await createProject(api, "Races");
  editor = await createToken(api, "racer", "EDITOR", projectId);
  // Phase 0 awaits an approval at once: the release stays IN_PROGRESS while the test looks at it.
  approvalPipeline = await createPublishedPipeline(api, projectId, [
    { name: "gate", requiresApproval: true, targets: [{ environment: "development" }] },
  ]);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

async function newFeature(key: string): Promise<string> {
  const data = await api.ok<{ createFeature: { id: string } }>(
    /* GraphQL */ `mutation($p: ID!, $k: String!, $pl: ID) { createFeature(input: { projectId: $p, key: $k, kind: GATE, pipelineId: $pl }) { id } }`,
    { p: projectId, k: key, pl: approvalPipeline },
  );
  return data.createFeature.id;
}

const START = /* GraphQL */ `mutation($f: ID!) { startRelease(featureId: $f) { id status } }`;

/** Events stored after `head`. */
async function storedSince(head: string | null): Promise<RecordedEvent[]> {
  return api.store.readAll(head === null ? {} : { after: head });
}

describe("one running release per feature", () => {
  it("two concurrent startRelease calls: exactly one Release, the other refused, nothing else written", async () => {
    const featureId = await newFeature("raced");
    const head = await api.store.headPosition();
    const results = await Promise.all(
      [1, 2].map(() => api.gql<{ startRelease: { id: string } }>(START, { f: featureId }, editor)),
    );
    const won = results.filter((r) => r.errors === undefined);
    expect(won).toHaveLength(1);
    expect(won[0]?.data?.startRelease.id).toBe(`${featureId}.1`);
    const lost = results.find((r) => r.errors !== undefined) as GraphQLResponse;
    expect(["RELEASE_IN_PROGRESS", "CONFLICT"]).toContain(lost.errors?.[0]?.extensions?.code);
    const events = await storedSince(head);
    expect(events.filter((e) => e.type === "FeatureReleaseStarted")).toHaveLength(1);
    expect(events.filter((e) => e.type === "ReleaseStarted")).toHaveLength(1);
    // Everything stored belongs to the one release and its feature's lock.
    expect(new Set(events.map((e) => e.stream))).toEqual(new Set([`feature-${featureId}`, `release-${featureId}.1`]));
  });

  it("a feature's releases are numbered: after one ends, the next start is <featureId>.2", async () => {
    const featureId = await newFeature("numbered");
    const first = await api.ok<{ startRelease: { id: string } }>(START, { f: featureId }, editor);
    expect(first.startRelease.id).toBe(`${featureId}.1`);
    answered(await action(api, "abortRelease", first.startRelease.id, {}, editor));
    const second = await api.ok<{ startRelease: { id: string } }>(START, { f: featureId }, editor);
    expect(second.startRelease.id).toBe(`${featureId}.2`);
  });

  it("the release stream refuses a second start even when the feature's lock is bypassed", async () => {
    const featureId = await newFeature("unlocked");
    const head = await api.store.headPosition();
    bypassFeatureLock = true;
    let results: GraphQLResponse<{ startRelease: { id: string } }>[];
    try {
      results = await Promise.all(
        [1, 2].map(() => api.gql<{ startRelease: { id: string } }>(START, { f: featureId }, editor)),
      );
    } finally {
      bypassFeatureLock = false;
    }
    // The lock was bypassed (two FeatureReleaseStarted stored), yet only one release exists.
    const events = await storedSince(head);
    expect(events.filter((e) => e.type === "FeatureReleaseStarted")).toHaveLength(2);
    expect(events.filter((e) => e.type === "ReleaseStarted").map((e) => e.stream)).toEqual([`release-${featureId}.1`]);
    expect(results.filter((r) => r.errors === undefined)).toHaveLength(1);
    expect(results.flatMap((r) => r.errors ?? []).map((e) => e.extensions?.code)).toEqual(["RELEASE_IN_PROGRESS"]);
    // The lock stays with the release that exists.
    const feature = await api.ok<{ feature: { activeRelease: { id: string } | null } }>(
      `query($id: ID!) { feature(id: $id) { activeRelease { id } } }`,
      { id: featureId },
    );
    expect(feature.feature.activeRelease?.id).toBe(`${featureId}.1`);
  });
});

// "This update changes nothing a release would roll out" (the feature decider's definitionChanges): on a
// feature with a pipeline, it applies at once and answers the Feature; no release starts.
describe("an update with nothing to roll out", () => {
  const UPDATE = /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) { updateFeature(id: $id, input: $input) {
    __typename ... on Feature { description activeRelease { id } releases { id } } } }`;
  type Answer = { updateFeature: { __typename: string; description: string | null; releases: unknown[] } };
  const releasesStored = async (head: string | null) =>
    (await storedSince(head)).filter(
      (event) => event.stream.startsWith("release-") || event.type === "FeatureReleaseStarted",
    );

  it("a description-only update changes the description at once and starts no release", async () => {
    const featureId = await newFeature("described");
    const head = await api.store.headPosition();
    const answer = await api.ok<Answer>(
      UPDATE,
      { id: featureId, input: { description: " Checkout v2 ", environments: [] } },
      editor,
    );
    expect(answer.updateFeature).toMatchObject({ __typename: "Feature", description: "Checkout v2", releases: [] });
    expect(await releasesStored(head)).toEqual([]);
  });

  it('description "" clears it at once; an empty release is never started', async () => {
    const featureId = await newFeature("blanked");
    await api.ok<Answer>(UPDATE, { id: featureId, input: { description: "words", environments: [] } }, editor);
    const head = await api.store.headPosition();
    const answer = await api.ok<Answer>(
      UPDATE,
      { id: featureId, input: { description: "", environments: [] } },
      editor,
    );
    expect(answer.updateFeature).toMatchObject({ __typename: "Feature", description: null, releases: [] });
    expect(await releasesStored(head)).toEqual([]);
  });

  it("an update equal to the current definitions (and description) stores nothing and answers the Feature", async () => {
    const featureId = await newFeature("unchanged");
    const head = await api.store.headPosition();
    const answer = await api.ok<Answer>(
      UPDATE,
      { id: featureId, input: { environments: [{ environment: "development", definition: { enabled: false } }] } },
      editor,
    );
    expect(answer.updateFeature).toMatchObject({ __typename: "Feature", releases: [] });
    expect(await storedSince(head)).toEqual([]);
  });

  it("an update that changes a definition starts a release, with the description", async () => {
    const featureId = await newFeature("changed");
    const answer = await api.ok<{ updateFeature: { __typename: string; id: string } }>(
      /* GraphQL */ `mutation($id: ID!) { updateFeature(id: $id, input: { description: "on", environments: [{ environment: "development", definition: { enabled: true } }] }) { __typename ... on Release { id } } }`,
      { id: featureId },
      editor,
    );
    expect(answer.updateFeature).toEqual({ __typename: "Release", id: `${featureId}.1` });
  });
});

describe("audit replay through the graph", () => {
  const AS_OF = /* GraphQL */ `query($id: ID!, $position: String) {
    featureAsOf(id: $id, position: $position) {
      version
      pipeline { id status }
      activeRelease { id status phases { status } feature { version } }
      releases { id status version }
      environments { environment rolledOutTargets { environment segment } }
    }
  }`;
  interface FeatureAsOf {
    version: number;
    pipeline: { id: string; status: string } | null;
    activeRelease: { id: string; status: string; phases: { status: string }[]; feature: { version: number } } | null;
    releases: { id: string; status: string; version: number }[];
    environments: { environment: string; rolledOutTargets: { environment: string; segment: string | null }[] }[];
  }
  const featureAsOf = async (id: string, position: string): Promise<FeatureAsOf> =>
    (await api.ok<{ featureAsOf: FeatureAsOf }>(AS_OF, { id, position })).featureAsOf;
  const positionOf = async (stream: string, type: string): Promise<string> => {
    const event = (await api.store.readStream(stream)).find((e) => e.type === type);
    if (event === undefined) throw new Error(`no ${type} in ${stream}`);
    return event.position;
  };
  const rolledOut = (view: FeatureAsOf) =>
    Object.fromEntries(view.environments.map((e) => [e.environment, e.rolledOutTargets]));

  it("featureAsOf serves the active release, releases, pipeline and rolled-out targets as of its point, before and after the release ends", async () => {
    const pipelineId = await createPublishedPipeline(api, projectId, [
      { name: "us-west", targets: [{ environment: "production", segment: "us-west" }] },
      { name: "everywhere", requiresApproval: true, targets: [{ environment: "production" }] },
    ]);
    const created = await api.ok<{ createFeature: { id: string } }>(
      /* GraphQL */ `mutation($p: ID!, $pl: ID) { createFeature(input: { projectId: $p, key: "replayed", kind: GATE, pipelineId: $pl }) { id } }`,
      { p: projectId, pl: pipelineId },
    );
    const featureId = created.createFeature.id;
    const started = await api.ok<{ updateFeature: { id: string } }>(
      /* GraphQL */ `mutation($id: ID!) { updateFeature(id: $id, input: { environments: [{ environment: "production", definition: { enabled: true } }] }) { ... on Release { id } } }`,
      { id: featureId },
      editor,
    );
    const releaseId = started.updateFeature.id;
    const stream = `release-${releaseId}`;
    // Live: us-west rolled out, the whole of production awaits an approval.
    await eventually(async () => {
      const live = await api.ok<{ feature: { environments: FeatureAsOf["environments"] } }>(
        `query($id: ID!) { feature(id: $id) { environments { environment rolledOutTargets { environment segment } } } }`,
        { id: featureId },
      );
      expect(live.feature.environments.find((e) => e.environment === "production")?.rolledOutTargets).toEqual([
        { environment: "production", segment: "us-west" },
      ]);
    });

    // The feature's lock is stored just before ReleaseStarted: at the lock, the release did not exist yet.
    const atLock = await featureAsOf(featureId, await positionOf(`feature-${featureId}`, "FeatureReleaseStarted"));
    expect(atLock.activeRelease).toBeNull();
    expect(atLock.releases).toEqual([]);
    const startedAt = await positionOf(stream, "ReleaseStarted");
    const rolledOutAt = await positionOf(stream, "ReleasePhaseRolledOut");
    const atStart = await featureAsOf(featureId, startedAt);
    expect(atStart.activeRelease).toMatchObject({
      id: releaseId,
      status: "IN_PROGRESS",
      phases: [{ status: "PENDING" }, { status: "PENDING" }],
    });
    expect(atStart.activeRelease?.feature.version).toBe(atStart.version);
    expect(atStart.releases).toEqual([{ id: releaseId, status: "IN_PROGRESS", version: 1 }]);
    expect(atStart.pipeline).toEqual({ id: pipelineId, status: "PUBLISHED" });
    expect(rolledOut(atStart)).toEqual({ development: [], staging: [], production: [] });
    const atRollout = await featureAsOf(featureId, rolledOutAt);
    expect(atRollout.activeRelease?.phases[0]?.status).toBe("ROLLED_OUT");
    expect(rolledOut(atRollout)).toEqual({
      development: [],
      staging: [],
      production: [{ environment: "production", segment: "us-west" }],
    });

    // The release completes and the pipeline is detached: the replayed answers do not change.
    answered(await action(api, "approveRelease", releaseId, {}));
    await eventually(async () => {
      const live = await api.ok<{ feature: { activeRelease: unknown; pipeline: unknown } }>(
        `query($id: ID!) { feature(id: $id) { activeRelease { id } pipeline { id } } }`,
        { id: featureId },
      );
      expect(live.feature.activeRelease).toBeNull();
    });
    await api.ok(`mutation($f: ID!) { detachPipeline(featureId: $f) { id } }`, { f: featureId }, editor);
    expect(await featureAsOf(featureId, startedAt)).toEqual(atStart);
    expect(await featureAsOf(featureId, rolledOutAt)).toEqual(atRollout);

    // pipelineAsOf: the features that had it attached then (none has it now), as they were then.
    const pipelines = await api.ok<{
      pipeline: { attachedFeatures: unknown[] };
      pipelineAsOf: { attachedFeatures: { id: string; activeRelease: { id: string; status: string } | null }[] };
    }>(
      `query($id: ID!, $position: String) {
        pipeline(id: $id) { attachedFeatures { id } }
        pipelineAsOf(id: $id, position: $position) { attachedFeatures { id activeRelease { id status } } }
      }`,
      { id: pipelineId, position: rolledOutAt },
    );
    expect(pipelines.pipeline.attachedFeatures).toEqual([]);
    expect(pipelines.pipelineAsOf.attachedFeatures).toEqual([
      { id: featureId, activeRelease: { id: releaseId, status: "IN_PROGRESS" } },
    ]);

    // releaseAsOf: its feature as of the same point (the release was its active one then).
    const release = await api.ok<{
      releaseAsOf: {
        status: string;
        feature: { activeRelease: { id: string } | null; pipeline: { id: string } | null };
      };
    }>(
      `query($id: ID!, $position: String) { releaseAsOf(id: $id, position: $position) { status feature { activeRelease { id } pipeline { id } } } }`,
      { id: releaseId, position: rolledOutAt },
    );
    expect(release.releaseAsOf).toEqual({
      status: "IN_PROGRESS",
      feature: { activeRelease: { id: releaseId }, pipeline: { id: pipelineId } },
    });
  });
});

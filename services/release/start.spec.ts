// The one release start (services/release/start.ts): the feature's lock, ReleaseStarted with production's
// id, one active release per feature, and the lock given back when ReleaseStarted cannot be stored.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../core/errors.ts";
import type { Actor, Phase } from "../core/model.ts";
import { streams } from "../core/streams.ts";
import { type CommandExecutor, loadStream, storeExecutor } from "../event-store/command-handler.ts";
import { createSqliteEventStore, type SqliteEventStore } from "../event-store/sqlite/sqlite-event-store.ts";
import { type Feature, featureDecider } from "../feature/feature.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { Project } from "../project/project.ts";
import { type ReleaseStartRequest, startRelease } from "./start.ts";

const at = "2026-11-21T10:00:00.000Z";
const alice: Actor = { name: "alice", role: "EDITOR" };
const project: Project = {
  id: "p1",
  name: "Shop",
  environments: ["staging", "production"],
  segments: [],
  createdAt: at,
  version: 1,
};
const phase = (environment: string): Phase => ({
  name: environment,
  waitFor: null,
  waitForMs: null,
  requiresApproval: true,
  approvalsRequired: 1,
  action: "APPLY_CHANGE",
  targets: [{ environment, segment: null }],
});
const pipeline: Pipeline = {
  id: "pl1",
  projectId: "p1",
  name: "staged",
  description: null,
  status: "PUBLISHED",
  version: 2,
  selfApproval: "ALLOWED",
  phases: [phase("staging"), phase("production")],
  createdAt: at,
  publishedAt: at,
  deletedAt: null,
  clonedFrom: null,
  attachedFeatureIds: [],
};
const metadata = { actor: "alice", correlationId: "c1", causationId: null, projectId: "p1" };

let store: SqliteEventStore;
let executor: CommandExecutor;

beforeEach(async () => {
  store = createSqliteEventStore({ path: ":memory:" });
  executor = storeExecutor(store);
  await executor.execute(
    featureDecider,
    streams.feature("f1"),
    {
      type: "CreateFeature",
      data: { featureId: "f1", project, key: "checkout", kind: "GATE", pipeline, environments: [] },
      actor: alice,
      now: at,
    },
    { ...metadata, occurredAt: at },
  );
});
afterEach(async () => {
  await store.close();
});

const feature = async (): Promise<Feature> => {
  const { state } = await loadStream(store, featureDecider, streams.feature("f1"));
  if (state === null) throw new Error("no feature");
  return state;
};
const request = async (overrides: Partial<ReleaseStartRequest> = {}): Promise<ReleaseStartRequest> => ({
  feature: await feature(),
  project,
  pipeline,
  trigger: "UPDATE",
  inputs: [{ environment: "production", definition: { enabled: true } }],
  reason: null,
  actor: alice,
  now: at,
  metadata,
  ...overrides,
});
const typesOf = async (stream: string): Promise<string[]> =>
  (await store.readStream(stream)).map((event) => event.type);

describe("release start", () => {
  it("takes the feature's lock, then stores ReleaseStarted as `<featureId>.<n>` with the change over the locked definitions", async () => {
    const { release, feature: locked } = await startRelease(executor, await request());
    expect(release.id).toBe("f1.1");
    expect(locked.activeReleaseId).toBe("f1.1");
    expect(await typesOf(streams.feature("f1"))).toEqual(["FeatureCreated", "FeatureReleaseStarted"]);
    expect(await typesOf(streams.release("f1.1"))).toEqual(["ReleaseStarted"]);
    expect(release.change.map((entry) => [entry.environment, entry.definition.enabled])).toEqual([
      ["staging", false],
      ["production", true],
    ]);
  });

  it("refuses a second active release with RELEASE_IN_PROGRESS and writes nothing", async () => {
    await startRelease(executor, await request());
    const before = await store.headPosition();
    await expect(startRelease(executor, await request({ trigger: "START", inputs: null }))).rejects.toMatchObject({
      code: "RELEASE_IN_PROGRESS",
    });
    expect(await store.headPosition()).toBe(before);
  });

  it("numbers the next release after the first ended", async () => {
    await startRelease(executor, await request());
    await executor.execute(
      featureDecider,
      streams.feature("f1"),
      { type: "EndRelease", data: { releaseId: "f1.1", status: "ABORTED" }, actor: alice, now: at },
      { ...metadata, occurredAt: at },
    );
    const { release } = await startRelease(executor, await request({ trigger: "START", inputs: null }));
    expect(release.id).toBe("f1.2");
  });

  it("answers RELEASE_IN_PROGRESS to the loser of two racing starts (same id), keeping the winner's lock", async () => {
    const stale = await request();
    await startRelease(executor, await request());
    // The loser loaded the feature before the winner's lock: its lock command is refused by the decider.
    await expect(startRelease(executor, stale)).rejects.toMatchObject({ code: "RELEASE_IN_PROGRESS" });
    expect((await feature()).activeReleaseId).toBe("f1.1");
  });

  it("gives the lock back when ReleaseStarted cannot be stored (and the stream shows it was not)", async () => {
    let releaseWrites = 0;
    const failing: CommandExecutor = {
      execute: (decider, stream, command, meta) => {
        // The start fails; reading the stream back (to tell a lost reply from a failed write) works.
        if (stream.startsWith(streams.release("")) && releaseWrites++ === 0) {
          throw new DomainError("INTERNAL", "store unavailable");
        }
        return executor.execute(decider, stream, command, meta);
      },
    };
    await expect(startRelease(failing, await request())).rejects.toMatchObject({ code: "INTERNAL" });
    expect((await feature()).activeReleaseId).toBeNull();
    expect(await typesOf(streams.feature("f1"))).toEqual([
      "FeatureCreated",
      "FeatureReleaseStarted",
      "FeatureReleaseEnded",
    ]);
  });

  it("a lost reply on ReleaseStarted (stored, then the append failed) keeps the lock: the release exists", async () => {
    const lostReply: CommandExecutor = {
      execute: async (decider, stream, command, meta) => {
        const result = await executor.execute(decider, stream, command, meta);
        if (stream.startsWith(streams.release("")) && result.events.length > 0) {
          throw new Error("connection reset after the write");
        }
        return result;
      },
    };
    const { release } = await startRelease(lostReply, await request());
    expect(release.id).toBe("f1.1");
    expect((await feature()).activeReleaseId).toBe("f1.1");
    expect(await typesOf(streams.feature("f1"))).toEqual(["FeatureCreated", "FeatureReleaseStarted"]);
    expect(await typesOf(streams.release("f1.1"))).toEqual(["ReleaseStarted"]);
  });

  it("keeps the lock when it cannot tell whether ReleaseStarted was stored (reconcile frees it if not)", async () => {
    const unknown: CommandExecutor = {
      execute: (decider, stream, command, meta) => {
        if (stream.startsWith(streams.release(""))) throw new Error("store unreachable");
        return executor.execute(decider, stream, command, meta);
      },
    };
    await expect(startRelease(unknown, await request())).rejects.toThrow(/store unreachable/);
    expect((await feature()).activeReleaseId).toBe("f1.1");
  });

  it("refuses a feature without a pipeline before writing", async () => {
    const detached = { ...(await feature()), pipelineId: null };
    await expect(startRelease(executor, await request({ feature: detached }))).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    expect(await typesOf(streams.feature("f1"))).toEqual(["FeatureCreated"]);
  });
});

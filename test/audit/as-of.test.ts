// Audit replay: an entity as of a time or a position equals the state it really had then — the state the
// command handler returned when the command that ended there ran, recorded during the scenario.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AsOfOptions,
  type AsOfPoint,
  featureAsOf,
  foldAsOf,
  pipelineAsOf,
  releaseAsOf,
} from "../../services/audit/as-of.ts";
import { isDomainError } from "../../services/core/errors.ts";
import { streams } from "../../services/core/streams.ts";
import type { EventStore } from "../../services/event-store/port.ts";
import { evolveProject, type Project } from "../../services/project/project.ts";
import type { CommitRecord } from "../../services/projections/testing/simulation.ts";
import type { Release } from "../../services/release/release.ts";
import { runScenario, type Scenario } from "./fixture.ts";

// (Projects never change after creation, so the API has no projectAsOf; the scenario checks it anyway.)
const projectAsOf = (store: EventStore, id: string, point: AsOfPoint, options?: AsOfOptions) =>
  foldAsOf<Project | null>(
    store,
    streams.project(id),
    evolveProject as (state: Project | null, event: { type: string; data: unknown }) => Project | null,
    point,
    options,
  );

/** A feature as of the point together with its active release as of the same point. */
async function featureWithReleaseAsOf(store: EventStore, id: string, point: AsOfPoint) {
  const feature = await featureAsOf(store, id, point);
  const releaseId = feature?.activeReleaseId ?? null;
  const activeRelease = releaseId === null ? null : await releaseAsOf(store, releaseId, point);
  return { feature, activeRelease };
}

let scenario: Scenario;

const asOf: Record<
  Exclude<CommitRecord["kind"], "token">,
  (store: EventStore, id: string, point: { at?: string; position?: string }) => Promise<unknown>
> = {
  project: projectAsOf,
  pipeline: pipelineAsOf,
  feature: featureAsOf,
  release: releaseAsOf,
};

beforeAll(async () => {
  scenario = await runScenario({ seed: 2026, steps: 700 });
}, 120_000);

afterAll(async () => {
  await scenario?.close();
});

describe("as of a position", () => {
  it("equals the state each command left, for every command of the scenario", async () => {
    let checked = 0;
    for (const record of scenario.records) {
      if (record.kind === "token" || record.position === null) continue;
      const state = await asOf[record.kind](scenario.store, record.id, { position: record.position });
      expect(state, `${record.kind} ${record.id} at ${record.position}`).toEqual(record.state);
      checked++;
    }
    expect(checked).toBeGreaterThan(800);
  });

  it("is null before the entity's first event, and for an unknown entity", async () => {
    const first = scenario.records.find((r) => r.kind === "feature") as CommitRecord;
    const before = String(BigInt(first.position as string) - 1n).padStart(20, "0");
    expect(await featureAsOf(scenario.store, first.id, { position: before })).toBeNull();
    expect(await featureAsOf(scenario.store, "no-such-feature", { position: first.position as string })).toBeNull();
  });

  it("gives the feature's active release as of the same point", async () => {
    let withActive = 0;
    for (const record of scenario.records) {
      if (record.kind !== "release" || record.position === null) continue;
      const release = record.state as Release;
      // The feature's lock is taken before the release starts and freed after it ends: at every release
      // event, the feature has this release active.
      const { feature, activeRelease } = await featureWithReleaseAsOf(scenario.store, release.featureId, {
        position: record.position,
      });
      expect(feature?.activeReleaseId).toBe(release.id);
      expect(activeRelease).toEqual(release);
      withActive++;
    }
    expect(withActive).toBeGreaterThan(100);
  });

  it("reads long streams page by page with the same result", async () => {
    const record = [...scenario.records].reverse().find((r) => r.kind === "feature") as CommitRecord;
    const state = await featureAsOf(
      scenario.store,
      record.id,
      { position: record.position as string },
      { pageSize: 1 },
    );
    expect(state).toEqual(scenario.readModels.feature(record.id));
  });
});

describe("as of a time", () => {
  it("equals the state after the last command at or before that instant", async () => {
    // Several commands can share an instant (a release step and the feature updates it causes):
    // the state at that time is the one after the last of them.
    const lastAt = new Map<string, CommitRecord>();
    for (const record of scenario.records) {
      if (record.kind !== "token") lastAt.set(`${record.kind}:${record.id}:${record.at}`, record);
    }
    let checked = 0;
    for (const record of lastAt.values()) {
      if (record.kind === "token") continue;
      const state = await asOf[record.kind](scenario.store, record.id, { at: record.at });
      expect(state, `${record.kind} ${record.id} at ${record.at}`).toEqual(record.state);
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });

  it("between two commands, is the state after the earlier one; before creation, null", async () => {
    const byEntity = new Map<string, CommitRecord[]>();
    for (const record of scenario.records) {
      if (record.kind !== "feature") continue;
      const list = byEntity.get(record.id) ?? [];
      list.push(record);
      byEntity.set(record.id, list);
    }
    let checked = 0;
    for (const list of byEntity.values()) {
      for (let i = 1; i < list.length; i++) {
        const previous = list[i - 1] as CommitRecord;
        const current = list[i] as CommitRecord;
        if (previous.at === current.at) continue;
        const justBefore = new Date(Date.parse(current.at) - 1).toISOString();
        expect(await featureAsOf(scenario.store, current.id, { at: justBefore })).toEqual(previous.state);
        checked++;
      }
      const first = list[0] as CommitRecord;
      const earlier = new Date(Date.parse(first.at) - 1).toISOString();
      expect(await featureAsOf(scenario.store, first.id, { at: earlier })).toBeNull();
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe("the point", () => {
  const expectValidation = async (run: () => Promise<unknown>, field: string) => {
    let thrown: unknown;
    try {
      await run();
    } catch (error) {
      thrown = error;
    }
    expect(isDomainError(thrown) && thrown.code === "VALIDATION" && thrown.field === field).toBe(true);
  };

  it("is exactly one of `at` or `position`, and must be valid", async () => {
    const id = [...scenario.simulation.features.keys()][0] as string;
    const position = scenario.log[10]?.position as string;
    await expectValidation(() => featureAsOf(scenario.store, id, {}), "at");
    await expectValidation(() => featureAsOf(scenario.store, id, { at: null, position: null }), "at");
    await expectValidation(() => featureAsOf(scenario.store, id, { at: "2026-01-01T00:00:00Z", position }), "position");
    await expectValidation(() => releaseAsOf(scenario.store, id, { at: "last tuesday" }), "at");
    await expectValidation(() => pipelineAsOf(scenario.store, id, { position: "C1/P1" }), "position");
  });
});

// Decider specs for retiring a feature (archive, unarchive, delete) and for features whose project gains
// environments after they were created (issue "Edit and retire").

import { describe, expect, it } from "vitest";
import { type Actor, type Definition, disabledDefinition, SYSTEM_ACTOR } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { Project } from "../project/project.ts";
import { definitionsIn } from "./definition.ts";
import type { FeatureArchived, FeatureCreated, FeatureDeleted, FeatureEvent, FeatureReleaseStarted } from "./events.ts";
import { type FeatureCommand, featureDecider } from "./feature.ts";

const alice: Actor = { name: "alice", role: "EDITOR" };
const t0 = "2026-11-29T10:00:00.000Z";
const t1 = "2026-11-29T11:00:00.000Z";
const spec = specification(featureDecider);

const project: Project = {
  id: "p1",
  name: "Checkout",
  environments: ["development", "production"],
  segments: [],
  createdAt: t0,
  version: 1,
};
/** The project after it gained "staging" between its two environments. */
const grown: Project = { ...project, environments: ["development", "staging", "production"], version: 2 };
const pipeline: Pipeline = {
  id: "pl1",
  projectId: "p1",
  name: "Standard",
  description: null,
  status: "PUBLISHED",
  version: 2,
  selfApproval: "ALLOWED",
  phases: [],
  createdAt: t0,
  publishedAt: t0,
  deletedAt: null,
  clonedFrom: null,
  attachedFeatureIds: [],
};
const on: Definition = { enabled: true, value: null, rules: [] };
const off = disabledDefinition();

const command = <C extends FeatureCommand>(type: C["type"], data: C["data"], actor = alice): C =>
  ({ type, data, actor, now: t1 }) as C;
const archive = (reason?: string | null) => command("ArchiveFeature", { reason });
const unarchive = (reason?: string | null) => command("UnarchiveFeature", { reason });
const remove = (reason?: string | null) => command("DeleteFeature", { reason });

const created: FeatureCreated = {
  type: "FeatureCreated",
  data: {
    featureId: "f1",
    projectId: "p1",
    key: "old-banner",
    kind: "GATE",
    description: null,
    pipelineId: null,
    environments: [
      { environment: "development", definition: on },
      { environment: "production", definition: off },
    ],
    at: t0,
  },
};
const withPipeline: FeatureCreated = { ...created, data: { ...created.data, pipelineId: "pl1" } };
const archived: FeatureArchived = {
  type: "FeatureArchived",
  data: { featureId: "f1", by: "alice", reason: "launched everywhere", at: t1 },
};
const deleted: FeatureDeleted = {
  type: "FeatureDeleted",
  data: { featureId: "f1", key: "old-banner", by: "alice", reason: null, at: t1 },
};
const releasing: FeatureReleaseStarted = {
  type: "FeatureReleaseStarted",
  data: { featureId: "f1", releaseId: "f1.1", pipelineId: "pl1", pipelineVersion: 2, at: t1 },
};

describe("Feature retirement", () => {
  describe("archive", () => {
    it("is archived by the actor with the reason", () => {
      spec
        .given([created])
        .when(archive("  launched everywhere "))
        .thenState((feature, events) => {
          expect(events).toEqual([archived]);
          expect(feature).toMatchObject({ archivedAt: t1, archivedBy: "alice", version: 2 });
        });
    });

    it("stores nothing when already archived (a retry)", () => {
      spec.given([created, archived]).when(archive("again")).then([]);
    });

    it("is refused with RELEASE_IN_PROGRESS during a release", () => {
      spec
        .given([withPipeline, releasing])
        .when(archive())
        .thenThrows("RELEASE_IN_PROGRESS", "feature old-banner has release f1.1 in progress: cannot archive it");
    });

    it("answers NOT_FOUND for a feature that does not exist or was deleted", () => {
      spec.given([]).when(archive()).thenThrows("NOT_FOUND");
      spec.given([created, archived, deleted]).when(archive()).thenThrows("NOT_FOUND");
    });
  });

  describe("an archived feature is read-only", () => {
    it("refuses updates, pipeline changes and releases with IMMUTABLE", () => {
      const given = [withPipeline, archived];
      spec
        .given([created, archived])
        .when(command("UpdateFeature", { project, environments: [{ environment: "production", definition: on }] }))
        .thenThrows("IMMUTABLE", "feature old-banner is archived: cannot update it (unarchive it first)");
      spec.given(given).when(command("AttachPipeline", { pipeline })).thenThrows("IMMUTABLE", "archived");
      spec.given(given).when(command("DetachPipeline", {})).thenThrows("IMMUTABLE", "archived");
      spec
        .given(given)
        .when(command("BeginRelease", { releaseId: "f1.1", pipeline }))
        .thenThrows("IMMUTABLE", "cannot release it");
    });
  });

  describe("unarchive", () => {
    it("is unarchived with the reason, and editable again", () => {
      const state = spec
        .given([created, archived])
        .when(unarchive("still needed"))
        .thenState((feature, events) => {
          expect(events).toEqual([
            { type: "FeatureUnarchived", data: { featureId: "f1", by: "alice", reason: "still needed", at: t1 } },
          ]);
          expect(feature).toMatchObject({ archivedAt: null, archivedBy: null });
        });
      const events = featureDecider.decide(
        command("UpdateFeature", { project, environments: [{ environment: "production", definition: on }] }),
        state,
      );
      expect(events.map((e) => e.type)).toEqual(["FeatureUpdated"]);
    });

    it("stores nothing when the feature is not archived", () => {
      spec.given([created]).when(unarchive()).then([]);
    });
  });

  describe("delete", () => {
    it("deletes an archived feature, keeping its key in the event", () => {
      spec
        .given([created, archived])
        .when(remove("cleanup"))
        .thenState((feature, events) => {
          expect(events).toEqual([
            {
              type: "FeatureDeleted",
              data: { featureId: "f1", key: "old-banner", by: "alice", reason: "cleanup", at: t1 },
            },
          ]);
          expect(feature?.deletedAt).toBe(t1);
        });
    });

    it("refuses a feature that is not archived with INVALID_STATE", () => {
      spec
        .given([created])
        .when(remove())
        .thenThrows("INVALID_STATE", "feature old-banner is not archived: archive it before deleting it");
    });

    it("leaves a feature that answers NOT_FOUND to every command, and a stream no creation reuses", () => {
      const given: FeatureEvent[] = [created, archived, deleted];
      for (const next of [
        remove(),
        unarchive(),
        command("UpdateFeature", { project, environments: [] }),
        command("EndRelease", { releaseId: "f1.1", status: "ABORTED" as const }, SYSTEM_ACTOR),
      ]) {
        spec.given(given).when(next).thenThrows("NOT_FOUND", "feature not found");
      }
      spec
        .given(given)
        .when(
          command("CreateFeature", {
            featureId: "f1",
            project,
            key: "old-banner",
            kind: "GATE",
            pipeline: null,
          }),
        )
        .thenThrows("CONFLICT", 'feature f1 (key "old-banner") was deleted: a new feature with its key gets a new id');
    });
  });

  describe("when the project gained an environment after the feature was created", () => {
    it("reads the new environment as disabled with no value, in the project's order", () => {
      expect(definitionsIn(grown.environments, created.data.environments)).toEqual([
        { environment: "development", definition: on },
        { environment: "staging", definition: off },
        { environment: "production", definition: off },
      ]);
    });

    it("leaves out an environment the project no longer has", () => {
      expect(definitionsIn(["production"], created.data.environments)).toEqual([
        { environment: "production", definition: off },
      ]);
    });

    it("stores nothing for the new environment when an update does not touch it", () => {
      spec
        .given([created])
        .when(
          command("UpdateFeature", { project: grown, environments: [{ environment: "production", definition: on }] }),
        )
        .then([
          {
            type: "FeatureUpdated",
            data: {
              featureId: "f1",
              environments: [{ environment: "production", definition: on }],
              cause: "DIRECT",
              releaseId: null,
              at: t1,
            },
          },
        ]);
    });

    it("stores the new environment's definition once set, and keeps it", () => {
      spec
        .given([created])
        .when(command("UpdateFeature", { project: grown, environments: [{ environment: "staging", definition: on }] }))
        .thenState((feature) =>
          expect(definitionsIn(grown.environments, feature?.environments ?? [])).toEqual([
            { environment: "development", definition: on },
            { environment: "staging", definition: on },
            { environment: "production", definition: off },
          ]),
        );
    });

    it("adds the new environments (disabled) with the release lock, so the release can roll out there", () => {
      const state = spec
        .given([withPipeline])
        .when(command("BeginRelease", { releaseId: "f1.1", pipeline, environments: grown.environments }))
        .thenState((feature, events) => {
          expect(events).toEqual([{ ...releasing, data: { ...releasing.data, addedEnvironments: ["staging"] } }]);
          expect(feature?.environments.map((e) => e.environment)).toEqual(["development", "production", "staging"]);
        });
      const rollout = featureDecider.decide(
        command(
          "ApplyReleaseDefinitions",
          { releaseId: "f1.1", environments: [{ environment: "staging", definition: on }], cause: "ROLLOUT" as const },
          SYSTEM_ACTOR,
        ),
        state,
      );
      expect(rollout).toHaveLength(1);
    });

    it("adds nothing with the lock when the feature has every environment", () => {
      spec
        .given([withPipeline])
        .when(command("BeginRelease", { releaseId: "f1.1", pipeline, environments: project.environments }))
        .then([releasing]);
    });
  });
});

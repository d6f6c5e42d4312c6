import { describe, expect, it } from "vitest";
import {
  type Actor,
  type Definition,
  disabledDefinition,
  type EnvironmentDefinition,
  SYSTEM_ACTOR,
} from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { Project } from "../project/project.ts";
import type { EnvironmentDefinitionInput } from "./definition.ts";
import type {
  FeatureCreated,
  FeatureEvent,
  FeaturePipelineAttached,
  FeatureReleaseEnded,
  FeatureReleaseStarted,
  FeatureUpdated,
} from "./events.ts";
import {
  type ApplyReleaseDefinitions,
  type AttachPipeline,
  type BeginRelease,
  type CreateFeature,
  type DetachPipeline,
  definitionChanges,
  type EndRelease,
  evolveFeature,
  type Feature,
  type FeatureCommand,
  featureDecider,
  type UpdateFeature,
} from "./feature.ts";

const editor: Actor = { name: "alice", role: "EDITOR" };
const t0 = "2026-11-21T10:00:00.000Z";
const t1 = "2026-11-21T11:00:00.000Z";
const spec = specification(featureDecider);

const project: Project = {
  id: "p1",
  name: "Checkout",
  environments: ["development", "staging", "production"],
  segments: [{ key: "beta", attribute: "plan", operator: "IN", values: ["beta"] }],
  createdAt: t0,
  version: 1,
};

const pipeline = (id: string, extra: Partial<Pipeline> = {}): Pipeline => ({
  id,
  projectId: "p1",
  name: id,
  description: null,
  status: "PUBLISHED",
  version: 2,
  selfApproval: "ALLOWED",
  phases: [
    {
      name: "All",
      waitFor: null,
      waitForMs: null,
      requiresApproval: false,
      approvalsRequired: 1,
      action: "APPLY_CHANGE",
      targets: [{ environment: "production", segment: null }],
    },
  ],
  createdAt: t0,
  publishedAt: t0,
  deletedAt: null,
  clonedFrom: null,
  attachedFeatureIds: [],
  ...extra,
});
const pl1 = pipeline("pl1");
const pl2 = pipeline("pl2", { version: 5 });
const draft = pipeline("pl-draft", { status: "DRAFT", publishedAt: null });
const removed = pipeline("pl-deleted", { status: "DELETED", deletedAt: t0 });
const elsewhere = pipeline("pl-other", { projectId: "p2" });

const on: Definition = { enabled: true, value: null, rules: [] };
const off = disabledDefinition();
const betaRule: Definition = {
  enabled: false,
  value: null,
  rules: [{ segment: "beta", enabled: true, value: null, rolloutPercentage: 50 }],
};
const envs = (development: Definition, staging: Definition, production: Definition): EnvironmentDefinition[] => [
  { environment: "development", definition: development },
  { environment: "staging", definition: staging },
  { environment: "production", definition: production },
];

const command = <C extends FeatureCommand>(type: C["type"], data: C["data"], actor = editor): C =>
  ({ type, data, actor, now: t1 }) as C;
const create = (data: Partial<CreateFeature["data"]> = {}): CreateFeature =>
  command<CreateFeature>("CreateFeature", {
    featureId: "f1",
    project,
    key: "new-checkout",
    kind: "GATE",
    description: "The new checkout",
    pipeline: null,
    ...data,
  });
const update = (
  environments: EnvironmentDefinitionInput[],
  extra: Partial<Omit<UpdateFeature["data"], "environments">> = {},
): UpdateFeature => command<UpdateFeature>("UpdateFeature", { project, environments, ...extra });
const attach = (p: Pipeline): AttachPipeline => command<AttachPipeline>("AttachPipeline", { pipeline: p });
const detach = (): DetachPipeline => command<DetachPipeline>("DetachPipeline", {});
const begin = (releaseId = "r1", p: Pipeline = pl1, description?: string | null): BeginRelease =>
  command<BeginRelease>("BeginRelease", { releaseId, pipeline: p, ...(description !== undefined && { description }) });
const apply = (
  releaseId: string,
  environments: EnvironmentDefinition[],
  cause: ApplyReleaseDefinitions["data"]["cause"] = "ROLLOUT",
  phaseIndex?: number,
): ApplyReleaseDefinitions =>
  command<ApplyReleaseDefinitions>(
    "ApplyReleaseDefinitions",
    { releaseId, environments, cause, ...(phaseIndex !== undefined && { phaseIndex }) },
    SYSTEM_ACTOR,
  );
const end = (releaseId = "r1", status: EndRelease["data"]["status"] = "COMPLETED"): EndRelease =>
  command<EndRelease>("EndRelease", { releaseId, status }, SYSTEM_ACTOR);

const created: FeatureCreated = {
  type: "FeatureCreated",
  data: {
    featureId: "f1",
    projectId: "p1",
    key: "new-checkout",
    kind: "GATE",
    description: "The new checkout",
    pipelineId: null,
    environments: envs(off, off, off),
    at: t0,
  },
};
const createdWithPipeline: FeatureCreated = { ...created, data: { ...created.data, pipelineId: "pl1" } };
const started = (releaseId = "r1", pipelineId = "pl1", pipelineVersion = 2): FeatureReleaseStarted => ({
  type: "FeatureReleaseStarted",
  data: { featureId: "f1", releaseId, pipelineId, pipelineVersion, at: t1 },
});
const ended = (releaseId = "r1", status: "COMPLETED" | "ABORTED" = "COMPLETED"): FeatureReleaseEnded => ({
  type: "FeatureReleaseEnded",
  data: { featureId: "f1", releaseId, status, at: t1 },
});
const updated = (data: Omit<FeatureUpdated["data"], "featureId" | "at">): FeatureUpdated => ({
  type: "FeatureUpdated",
  data: { featureId: "f1", ...data, at: t1 },
});

const replay = (events: FeatureEvent[]): Feature | null => events.reduce(evolveFeature, featureDecider.initialState());

describe("Feature", () => {
  describe("when it does not exist", () => {
    it("is created with every project environment disabled and no pipeline", () => {
      spec
        .given([])
        .when(create())
        .then([{ ...created, data: { ...created.data, at: t1 } }]);
    });

    it("becomes a feature at version 1 without releases", () => {
      spec
        .given([])
        .when(create())
        .thenState((feature) =>
          expect(feature).toEqual({
            id: "f1",
            projectId: "p1",
            key: "new-checkout",
            kind: "GATE",
            description: "The new checkout",
            pipelineId: null,
            environments: envs(off, off, off),
            activeReleaseId: null,
            releaseIds: [],
            version: 1,
            createdAt: t1,
            updatedAt: t1,
            archivedAt: null,
            archivedBy: null,
            deletedAt: null,
          }),
        );
    });

    it("is created with the given definitions, in the project's order, and a published pipeline attached", () => {
      spec
        .given([])
        .when(
          create({
            pipeline: pl1,
            environments: [
              { environment: "production", definition: betaRule },
              { environment: "development", definition: { enabled: true } },
            ],
          }),
        )
        .then([
          {
            type: "FeatureCreated",
            data: { ...created.data, pipelineId: "pl1", environments: envs(on, off, betaRule), at: t1 },
          },
        ]);
    });

    it("is created as a dynamic config with values", () => {
      const value = { buttonColor: "green", retries: 3 };
      spec
        .given([])
        .when(
          create({
            kind: "DYNAMIC_CONFIG",
            description: null,
            environments: [{ environment: "staging", definition: { enabled: true, value } }],
          }),
        )
        .thenState((feature) =>
          expect(feature).toMatchObject({
            kind: "DYNAMIC_CONFIG",
            description: null,
            environments: envs(off, { enabled: true, value, rules: [] }, off),
          }),
        );
    });

    it("accepts Statsig-like keys", () => {
      for (const key of ["a", "0", "new_checkout.v2-beta", "k".repeat(100)]) {
        spec
          .given([])
          .when(create({ key }))
          .thenState((feature) => expect(feature?.key).toBe(key));
      }
    });

    it("refuses keys that are not Statsig-like", () => {
      for (const key of ["", "New-Checkout", "new checkout", "-new", "_new", "new/checkout", "k".repeat(101)]) {
        spec
          .given([])
          .when(create({ key }))
          .thenThrows(
            "VALIDATION",
            `key: "${key}" must be 1-100 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit (like a Statsig gate id)`,
          );
      }
    });

    it("refuses an unknown kind", () => {
      spec
        .given([])
        .when(create({ kind: "FLAG" as "GATE" }))
        .thenThrows("VALIDATION", "kind: must be GATE or DYNAMIC_CONFIG (got FLAG)");
    });

    it("trims the description, stores a blank or absent one as null, and refuses one over 5000 characters", () => {
      spec
        .given([])
        .when(create({ description: "  hi  " }))
        .thenState((f) => expect(f?.description).toBe("hi"));
      spec
        .given([])
        .when(create({ description: undefined }))
        .thenState((f) => expect(f?.description).toBeNull());
      spec
        .given([])
        .when(create({ description: "d".repeat(2001) }))
        .thenThrows("VALIDATION", "description: must be at most 2000 characters");
    });

    it("validates the definitions (a gate has no value)", () => {
      spec
        .given([])
        .when(create({ environments: [{ environment: "production", definition: { enabled: true, value: 1 } }] }))
        .thenThrows("VALIDATION", "environments[0].definition.value: a gate has no value");
    });

    it("refuses a pipeline that is not published", () => {
      spec
        .given([])
        .when(create({ pipeline: draft }))
        .thenThrows("PIPELINE_NOT_PUBLISHED", "pipeline pl-draft is DRAFT: only a published pipeline can be attached");
      spec
        .given([])
        .when(create({ pipeline: removed }))
        .thenThrows("PIPELINE_NOT_PUBLISHED", "pipeline pl-deleted is DELETED");
    });

    it("answers NOT_FOUND for another project's pipeline", () => {
      spec
        .given([])
        .when(create({ pipeline: elsewhere }))
        .thenThrows("NOT_FOUND", "pipeline pl-other not found in project p1");
    });

    it("answers NOT_FOUND to every other command", () => {
      const others: FeatureCommand[] = [
        update([]),
        attach(pl1),
        detach(),
        begin(),
        apply("r1", envs(on, on, on)),
        end(),
      ];
      for (const other of others) spec.given([]).when(other).thenThrows("NOT_FOUND", "feature not found");
    });
  });

  describe("when it exists without a pipeline", () => {
    it("refuses to be created again: the key is taken", () => {
      spec.given([created]).when(create()).thenThrows("CONFLICT", 'feature key "new-checkout" is taken in project p1');
    });

    it("is updated directly, listing only the environments whose definition changes", () => {
      spec
        .given([created])
        .when(
          update([
            { environment: "development", definition: { enabled: false } },
            { environment: "production", definition: { enabled: true } },
          ]),
        )
        .then([
          updated({ environments: [{ environment: "production", definition: on }], cause: "DIRECT", releaseId: null }),
        ]);
    });

    it("holds the new definitions at version 2 after a direct update", () => {
      spec
        .given([created])
        .when(update([{ environment: "production", definition: betaRule }]))
        .thenState((feature) =>
          expect(feature).toMatchObject({ environments: envs(off, off, betaRule), version: 2, updatedAt: t1 }),
        );
    });

    it("stores nothing when neither the definitions nor the description change", () => {
      spec.given([created]).when(update([])).then([]);
      spec
        .given([created])
        .when(update([{ environment: "staging", definition: { enabled: false, value: null, rules: [] } }]))
        .then([]);
      spec
        .given([created])
        .when(update([], { description: " The new checkout " }))
        .then([]);
    });

    it("changes the description alone", () => {
      spec
        .given([created])
        .when(update([], { description: "Renamed" }))
        .then([updated({ description: "Renamed", environments: [], cause: "DIRECT", releaseId: null })]);
    });

    it("clears the description with null, and leaves it when absent", () => {
      spec
        .given([created])
        .when(update([], { description: null }))
        .thenState((f) => expect(f?.description).toBeNull());
      spec
        .given([created])
        .when(update([{ environment: "production", definition: { enabled: true } }]))
        .thenState((f) => expect(f?.description).toBe("The new checkout"));
    });

    it("validates the update's definitions", () => {
      spec
        .given([created])
        .when(update([{ environment: "qa", definition: { enabled: true } }]))
        .thenThrows("VALIDATION", 'environments[0].environment: unknown environment "qa"');
      spec
        .given([created])
        .when(
          update([
            {
              environment: "production",
              definition: { enabled: true, rules: [{ segment: "beta", enabled: true, rolloutPercentage: 101 }] },
            },
          ]),
        )
        .thenThrows("VALIDATION", "environments[0].definition.rules[0].rolloutPercentage: must be between 0 and 100");
    });

    it("refuses an update against another project's definition", () => {
      spec
        .given([created])
        .when(update([], { project: { ...project, id: "p2" } }))
        .thenThrows("INTERNAL", "feature f1 is not in project p2");
    });

    it("has a published pipeline attached, replacing none", () => {
      const attached: FeaturePipelineAttached = {
        type: "FeaturePipelineAttached",
        data: { featureId: "f1", pipelineId: "pl1", replaced: null, at: t1 },
      };
      spec.given([created]).when(attach(pl1)).then([attached]);
      spec
        .given([created])
        .when(attach(pl1))
        .thenState((f) => expect(f).toMatchObject({ pipelineId: "pl1", version: 2 }));
    });

    it("refuses to attach a pipeline that is not published, or another project's", () => {
      spec.given([created]).when(attach(draft)).thenThrows("PIPELINE_NOT_PUBLISHED", "pipeline pl-draft is DRAFT");
      spec.given([created]).when(attach(removed)).thenThrows("PIPELINE_NOT_PUBLISHED", "is DELETED");
      spec
        .given([created])
        .when(attach(elsewhere))
        .thenThrows("NOT_FOUND", "pipeline pl-other not found in project p1");
    });

    it("refuses to detach when no pipeline is attached", () => {
      spec.given([created]).when(detach()).thenThrows("INVALID_STATE", "feature new-checkout has no pipeline attached");
    });

    it("refuses to begin a release without a pipeline", () => {
      spec
        .given([created])
        .when(begin())
        .thenThrows("INVALID_STATE", "has no pipeline attached: attach one to release");
    });

    it("refuses release definitions of a release it never started", () => {
      spec
        .given([created])
        .when(apply("r9", envs(on, on, on)))
        .thenThrows("INVALID_STATE", "release r9 is not the active release of feature new-checkout (active: none)");
      spec.given([created]).when(apply("r9", [])).thenThrows("INVALID_STATE");
    });

    it("ignores the end of a release it is not running", () => {
      spec.given([created]).when(end("r9")).then([]);
    });
  });

  describe("when it has a pipeline attached", () => {
    const history = [createdWithPipeline];

    it("refuses a direct update that changes a definition: such changes go through a release", () => {
      spec
        .given(history)
        .when(update([{ environment: "production", definition: { enabled: true } }]))
        .thenThrows(
          "INVALID_STATE",
          "feature new-checkout has pipeline pl1 attached: its definition changes go through a release",
        );
    });

    // "This update changes nothing a release would roll out": it applies at once, no release.
    it("applies a description-only update at once", () => {
      spec
        .given(history)
        .when(update([], { description: "  Checkout, second try " }))
        .then([
          {
            type: "FeatureUpdated",
            data: {
              featureId: "f1",
              description: "Checkout, second try",
              environments: [],
              cause: "DIRECT",
              releaseId: null,
              at: t1,
            },
          },
        ]);
    });

    it("clears the description at once on a blank one, with nothing to release", () => {
      spec
        .given(history)
        .when(update([{ environment: "production", definition: { enabled: false } }], { description: "" }))
        .then([
          {
            type: "FeatureUpdated",
            data: { featureId: "f1", description: null, environments: [], cause: "DIRECT", releaseId: null, at: t1 },
          },
        ]);
    });

    it("stores nothing for an update equal to the current definitions and description (trimmed)", () => {
      spec
        .given(history)
        .when(
          update([{ environment: "staging", definition: { enabled: false } }], { description: " The new checkout " }),
        )
        .then([]);
    });

    it("names the changes a release would roll out: none for equal definitions, the changed environments otherwise", () => {
      const feature = evolveFeature(null, createdWithPipeline);
      if (feature === null) throw new Error("no feature");
      expect(definitionChanges(feature, project, [{ environment: "staging", definition: { enabled: false } }])).toEqual(
        [],
      );
      expect(definitionChanges(feature, project, [])).toEqual([]);
      expect(
        definitionChanges(feature, project, [{ environment: "production", definition: { enabled: true } }]).map(
          (entry) => entry.environment,
        ),
      ).toEqual(["production"]);
    });

    it("stores nothing when the same pipeline is attached again", () => {
      spec.given(history).when(attach(pl1)).then([]);
    });

    it("replaces the attached pipeline with another", () => {
      spec
        .given(history)
        .when(attach(pl2))
        .then([
          { type: "FeaturePipelineAttached", data: { featureId: "f1", pipelineId: "pl2", replaced: "pl1", at: t1 } },
        ]);
    });

    it("has its pipeline detached", () => {
      spec
        .given(history)
        .when(detach())
        .then([{ type: "FeaturePipelineDetached", data: { featureId: "f1", pipelineId: "pl1", at: t1 } }]);
      spec
        .given(history)
        .when(detach())
        .thenState((f) => expect(f).toMatchObject({ pipelineId: null, version: 2 }));
    });

    it("is updated directly again once the pipeline is detached", () => {
      spec
        .given([...history, { type: "FeaturePipelineDetached", data: { featureId: "f1", pipelineId: "pl1", at: t1 } }])
        .when(update([{ environment: "production", definition: { enabled: true } }]))
        .then([
          updated({ environments: [{ environment: "production", definition: on }], cause: "DIRECT", releaseId: null }),
        ]);
    });

    it("begins a release of the attached pipeline, recording the pipeline's version", () => {
      spec
        .given(history)
        .when(begin("r1", pl1))
        .then([started("r1", "pl1", 2)]);
      spec
        .given(history)
        .when(begin("r1", pl1))
        .thenState((f) => expect(f).toMatchObject({ activeReleaseId: "r1", releaseIds: ["r1"], version: 2 }));
    });

    it("changes the description at once when a release begins with a new one", () => {
      spec
        .given(history)
        .when(begin("r1", pl1, "Green button"))
        .then([
          updated({ description: "Green button", environments: [], cause: "DIRECT", releaseId: "r1" }),
          started("r1"),
        ]);
      spec
        .given(history)
        .when(begin("r1", pl1, "Green button"))
        .thenState((f) => expect(f).toMatchObject({ description: "Green button", activeReleaseId: "r1", version: 3 }));
    });

    it("records no description change when a release begins with the same or no description", () => {
      spec
        .given(history)
        .when(begin("r1", pl1, "The new checkout"))
        .then([started("r1")]);
      spec
        .given(history)
        .when(begin("r1", pl1, undefined))
        .then([started("r1")]);
    });

    it("refuses to begin a release with a pipeline other than the attached one (a concurrent attach)", () => {
      spec
        .given(history)
        .when(begin("r1", pl2))
        .thenThrows("CONFLICT", "feature new-checkout now has pipeline pl1 attached, not pl2: retry");
    });

    it("refuses to begin a release when the attached pipeline is not published", () => {
      spec
        .given(history)
        .when(begin("r1", pipeline("pl1", { status: "DRAFT" })))
        .thenThrows("PIPELINE_NOT_PUBLISHED", "pipeline pl1 is DRAFT: cannot release");
    });
  });

  describe("when a release is active", () => {
    const history = [createdWithPipeline, started("r1")];

    it("refuses updates, attach, detach and another release with RELEASE_IN_PROGRESS", () => {
      const cases: [FeatureCommand, string][] = [
        [update([{ environment: "production", definition: { enabled: true } }]), "cannot update it"],
        [attach(pl2), "cannot change its pipeline"],
        [attach(pl1), "cannot change its pipeline"],
        [detach(), "cannot detach its pipeline"],
        [begin("r2"), "cannot start another release"],
      ];
      for (const [refused, doing] of cases) {
        spec
          .given(history)
          .when(refused)
          .thenThrows(
            "RELEASE_IN_PROGRESS",
            `feature new-checkout has release r1 in progress: ${doing} until it completes or is aborted`,
          );
      }
    });

    it("stores a phase's rolled-out environments with the phase index", () => {
      spec
        .given(history)
        .when(apply("r1", [{ environment: "production", definition: on }], "ROLLOUT", 1))
        .then([
          updated({
            environments: [{ environment: "production", definition: on }],
            cause: "ROLLOUT",
            releaseId: "r1",
            phaseIndex: 1,
          }),
        ]);
    });

    it("holds the rolled-out definition afterwards", () => {
      spec
        .given(history)
        .when(apply("r1", [{ environment: "staging", definition: betaRule }], "ROLLOUT", 0))
        .thenState((f) => expect(f).toMatchObject({ environments: envs(off, betaRule, off), version: 3 }));
    });

    it("lists only the environments that change, in the feature's order, without phaseIndex when none is given", () => {
      const [event] = spec
        .given(history)
        .when(
          apply(
            "r1",
            [
              { environment: "production", definition: on },
              { environment: "staging", definition: off },
              { environment: "development", definition: on },
            ],
            "COMPLETE",
          ),
        )
        .then([
          updated({
            environments: [
              { environment: "development", definition: on },
              { environment: "production", definition: on },
            ],
            cause: "COMPLETE",
            releaseId: "r1",
          }),
        ]);
      expect(event?.data).not.toHaveProperty("phaseIndex");
    });

    it("stores a revert", () => {
      spec
        .given([
          ...history,
          updated({ environments: envs(on, on, on), cause: "ROLLOUT", releaseId: "r1", phaseIndex: 0 }),
        ])
        .when(apply("r1", envs(off, off, on), "REVERT"))
        .then([
          updated({
            environments: [
              { environment: "development", definition: off },
              { environment: "staging", definition: off },
            ],
            cause: "REVERT",
            releaseId: "r1",
          }),
        ]);
    });

    it("stores nothing when the release's definitions are already in place", () => {
      spec
        .given(history)
        .when(apply("r1", envs(off, off, off), "COMPLETE"))
        .then([]);
      spec
        .given(history)
        .when(apply("r1", [], "ROLLOUT", 2))
        .then([]);
    });

    it("refuses definitions from another release", () => {
      spec
        .given(history)
        .when(apply("r2", envs(on, on, on)))
        .thenThrows("INVALID_STATE", "release r2 is not the active release of feature new-checkout (active: r1)");
    });

    it("refuses release definitions for unknown or repeated environments, or a DIRECT cause", () => {
      spec
        .given(history)
        .when(apply("r1", [{ environment: "qa", definition: on }]))
        .thenThrows("VALIDATION", 'environments[0].environment: unknown or repeated environment "qa"');
      spec
        .given(history)
        .when(
          apply("r1", [
            { environment: "staging", definition: on },
            { environment: "staging", definition: off },
          ]),
        )
        .thenThrows("VALIDATION", "environments[1].environment");
      spec
        .given(history)
        .when(apply("r1", [], "DIRECT" as "ROLLOUT"))
        .thenThrows("VALIDATION", "cause: must be one of ROLLOUT, COMPLETE, REVERT (got DIRECT)");
    });

    it("ends the release, completed or aborted", () => {
      spec
        .given(history)
        .when(end("r1", "COMPLETED"))
        .then([ended("r1", "COMPLETED")]);
      spec
        .given(history)
        .when(end("r1", "ABORTED"))
        .then([ended("r1", "ABORTED")]);
    });

    it("has no active release once it ends, and keeps it in releaseIds", () => {
      spec
        .given(history)
        .when(end("r1"))
        .thenState((f) => expect(f).toMatchObject({ activeReleaseId: null, releaseIds: ["r1"], version: 3 }));
    });

    it("ignores the end of another release", () => {
      spec.given(history).when(end("r2")).then([]);
    });

    it("refuses an unknown end status", () => {
      spec
        .given(history)
        .when(end("r1", "PAUSED" as "ABORTED"))
        .thenThrows("VALIDATION", "status: must be COMPLETED or ABORTED (got PAUSED)");
    });
  });

  describe("when its release has ended", () => {
    const rolledOut = updated({ environments: envs(on, on, on), cause: "COMPLETE", releaseId: "r1" });
    const history = [createdWithPipeline, started("r1"), rolledOut, ended("r1")];

    it("ignores a second end (idempotent)", () => {
      spec.given(history).when(end("r1")).then([]);
    });

    it("accepts a retried apply that changes nothing, and refuses one that would", () => {
      spec
        .given(history)
        .when(apply("r1", envs(on, on, on), "COMPLETE"))
        .then([]);
      spec
        .given(history)
        .when(apply("r1", envs(off, on, on), "REVERT"))
        .thenThrows("INVALID_STATE", "release r1 is not the active release of feature new-checkout (active: none)");
    });

    it("begins a new release, keeping every release oldest first", () => {
      spec
        .given(history)
        .when(begin("r2", pipeline("pl1", { version: 3 })))
        .then([started("r2", "pl1", 3)]);
      spec
        .given(history)
        .when(begin("r2"))
        .thenState((f) => expect(f).toMatchObject({ activeReleaseId: "r2", releaseIds: ["r1", "r2"] }));
    });

    it("refuses to begin a release with an id it already used", () => {
      spec.given(history).when(begin("r1")).thenThrows("CONFLICT", "release r1 of feature new-checkout already exists");
    });

    it("has its pipeline detached and replaced again", () => {
      spec
        .given(history)
        .when(detach())
        .thenState((f) => expect(f?.pipelineId).toBeNull());
      spec
        .given(history)
        .when(attach(pl2))
        .thenState((f) => expect(f?.pipelineId).toBe("pl2"));
    });
  });

  describe("version", () => {
    it("counts every stored event", () => {
      const events: FeatureEvent[] = [
        createdWithPipeline,
        started("r1"),
        updated({ environments: envs(on, off, off), cause: "ROLLOUT", releaseId: "r1", phaseIndex: 0 }),
        ended("r1"),
        { type: "FeaturePipelineDetached", data: { featureId: "f1", pipelineId: "pl1", at: t1 } },
      ];
      expect(events.map((_, i) => replay(events.slice(0, i + 1))?.version)).toEqual([1, 2, 3, 4, 5]);
    });
  });

  describe("evolveFeature", () => {
    it("ignores events of a feature it has not seen created", () => {
      expect(replay([started("r1"), ended("r1")])).toBeNull();
    });

    it("replays a prefix of the stream as the feature was then (featureAsOf)", () => {
      const events = [
        createdWithPipeline,
        started("r1"),
        updated({ environments: envs(on, on, on), cause: "COMPLETE", releaseId: "r1" }),
      ];
      expect(replay(events.slice(0, 2))).toMatchObject({ environments: envs(off, off, off), activeReleaseId: "r1" });
      expect(replay(events)).toMatchObject({ environments: envs(on, on, on), activeReleaseId: "r1" });
    });

    it("keeps the active release when another release's end is replayed", () => {
      expect(replay([createdWithPipeline, started("r1"), ended("r0")])?.activeReleaseId).toBe("r1");
    });
  });
});

import { describe, expect, it } from "vitest";
import type { Actor, Phase } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { Project } from "../project/project.ts";
import type { PipelineCreated, PipelineDeleted, PipelineEvent, PipelinePublished, PipelineUpdated } from "./events.ts";
import {
  type AttachFeature,
  type ClonePipeline,
  type CreatePipeline,
  type DeletePipeline,
  type DetachFeature,
  evolvePipeline,
  normalizePhases,
  type PhaseInput,
  type Pipeline,
  type PipelineCommand,
  type PublishPipeline,
  pipelineDecider,
  type UpdatePipeline,
} from "./pipeline.ts";

const editor: Actor = { name: "alice", role: "EDITOR" };
const t0 = "2026-11-21T10:00:00.000Z";
const t1 = "2026-11-21T11:00:00.000Z";
const t2 = "2026-11-21T12:00:00.000Z";
const spec = specification(pipelineDecider);

const project: Project = {
  id: "p1",
  name: "Checkout",
  environments: ["development", "staging", "production"],
  segments: [
    { key: "us-west", attribute: "region", operator: "IN", values: ["us-west"] },
    { key: "eu", attribute: "region", operator: "IN", values: ["eu-west", "eu-central"] },
  ],
  createdAt: t0,
  version: 1,
};

const phaseInputs: PhaseInput[] = [
  { name: "Dev", targets: [{ environment: "development" }] },
  {
    name: "Prod us-west",
    waitFor: "PT90M",
    requiresApproval: true,
    approvalsRequired: 2,
    targets: [{ environment: "production", segment: "us-west" }],
  },
  { name: "Prod", waitFor: "P1D", action: "ENABLE", targets: [{ environment: "production", segment: null }] },
];

const phases: Phase[] = [
  {
    name: "Dev",
    waitFor: null,
    waitForMs: null,
    requiresApproval: false,
    approvalsRequired: 1,
    action: "APPLY_CHANGE",
    targets: [{ environment: "development", segment: null }],
  },
  {
    name: "Prod us-west",
    waitFor: "PT1H30M",
    waitForMs: 90 * 60_000,
    requiresApproval: true,
    approvalsRequired: 2,
    action: "APPLY_CHANGE",
    targets: [{ environment: "production", segment: "us-west" }],
  },
  {
    name: "Prod",
    waitFor: "P1D",
    waitForMs: 86_400_000,
    requiresApproval: false,
    approvalsRequired: 1,
    action: "ENABLE",
    targets: [{ environment: "production", segment: null }],
  },
];

const command = <C extends PipelineCommand>(type: C["type"], data: C["data"], now = t1): C =>
  ({ type, data, actor: editor, now }) as C;

const create = (data: Partial<CreatePipeline["data"]> = {}): CreatePipeline =>
  command<CreatePipeline>(
    "CreatePipeline",
    { pipelineId: "pl1", project, name: "Standard", description: "dev → prod", phases: phaseInputs, ...data },
    t0,
  );
const update = (data: Omit<UpdatePipeline["data"], "project"> & { project?: Project }): UpdatePipeline =>
  command<UpdatePipeline>("UpdatePipeline", { project, ...data });
const publish = (): PublishPipeline => command<PublishPipeline>("PublishPipeline", {});
const remove = (attachedFeatureIds: string[] = []): DeletePipeline =>
  command<DeletePipeline>("DeletePipeline", { attachedFeatureIds }, t2);
const clone = (source: Pipeline, name?: string | null): ClonePipeline =>
  command<ClonePipeline>("ClonePipeline", { pipelineId: "pl2", source, name });

const created: PipelineCreated = {
  type: "PipelineCreated",
  data: {
    pipelineId: "pl1",
    projectId: "p1",
    name: "Standard",
    description: "dev → prod",
    selfApproval: "ALLOWED",
    phases,
    clonedFrom: null,
    at: t0,
  },
};
const published: PipelinePublished = { type: "PipelinePublished", data: { pipelineId: "pl1", at: t1 } };
const deleted: PipelineDeleted = { type: "PipelineDeleted", data: { pipelineId: "pl1", at: t2 } };
const renamed: PipelineUpdated = { type: "PipelineUpdated", data: { pipelineId: "pl1", name: "Renamed", at: t1 } };

const replay = (events: PipelineEvent[]): Pipeline | null =>
  events.reduce(evolvePipeline, pipelineDecider.initialState());
const withPhases = (...inputs: PhaseInput[]) => create({ phases: inputs });
const phase = (extra: Partial<PhaseInput> = {}): PhaseInput => ({
  name: "P",
  targets: [{ environment: "production" }],
  ...extra,
});

describe("Pipeline", () => {
  describe("when it does not exist", () => {
    it("is created as a draft with normalized phases", () => {
      spec.given([]).when(create()).then([created]);
    });

    it("becomes a DRAFT at version 1, not published, not deleted", () => {
      spec
        .given([])
        .when(create())
        .thenState((pipeline) =>
          expect(pipeline).toEqual({
            id: "pl1",
            projectId: "p1",
            name: "Standard",
            description: "dev → prod",
            status: "DRAFT",
            version: 1,
            selfApproval: "ALLOWED",
            phases,
            createdAt: t0,
            publishedAt: null,
            deletedAt: null,
            clonedFrom: null,
            attachedFeatureIds: [],
          }),
        );
    });

    it("defaults selfApproval to ALLOWED and description to null, also when they are null", () => {
      spec
        .given([])
        .when(create({ description: undefined, selfApproval: undefined }))
        .thenState((p) => expect([p?.selfApproval, p?.description]).toEqual(["ALLOWED", null]));
      spec
        .given([])
        .when(create({ description: null, selfApproval: null }))
        .thenState((p) => expect([p?.selfApproval, p?.description]).toEqual(["ALLOWED", null]));
    });

    it("keeps selfApproval FORBIDDEN", () => {
      spec
        .given([])
        .when(create({ selfApproval: "FORBIDDEN" }))
        .thenState((p) => expect(p?.selfApproval).toBe("FORBIDDEN"));
    });

    it("trims the name and description, and stores a blank description as null", () => {
      spec
        .given([])
        .when(create({ name: " Standard ", description: "   " }))
        .thenState((p) => expect([p?.name, p?.description]).toEqual(["Standard", null]));
    });

    it("refuses an empty name, a name over 200 characters, a description over 2000", () => {
      spec
        .given([])
        .when(create({ name: "  " }))
        .thenThrows("VALIDATION", "name: must not be empty");
      spec
        .given([])
        .when(create({ name: "n".repeat(201) }))
        .thenThrows("VALIDATION", "name: must be at most 200");
      spec
        .given([])
        .when(create({ description: "d".repeat(2001) }))
        .thenThrows("VALIDATION", "description: must be at most 2000");
    });

    it("refuses an unknown selfApproval", () => {
      spec
        .given([])
        .when(create({ selfApproval: "SOMETIMES" as "ALLOWED" }))
        .thenThrows("VALIDATION", "selfApproval: must be ALLOWED or FORBIDDEN (got SOMETIMES)");
    });

    it("refuses a pipeline without phases", () => {
      spec.given([]).when(withPhases()).thenThrows("VALIDATION", "phases: at least one phase is required");
    });

    it("refuses a phase without a name, naming the phase", () => {
      spec
        .given([])
        .when(withPhases(phase(), phase({ name: " " })))
        .thenThrows("VALIDATION", "phases[1].name: must not be empty");
    });

    it("refuses a phase without targets", () => {
      spec
        .given([])
        .when(withPhases(phase({ targets: [] })))
        .thenThrows("VALIDATION", "phases[0].targets: at least one target is required");
    });

    it("refuses a target on an environment the project does not have", () => {
      spec
        .given([])
        .when(withPhases(phase({ targets: [{ environment: "production" }, { environment: "qa" }] })))
        .thenThrows(
          "VALIDATION",
          'phases[0].targets[1].environment: unknown environment "qa" (project environments: development, staging, production)',
        );
    });

    it("refuses a target on a segment the project does not have", () => {
      spec
        .given([])
        .when(withPhases(phase(), phase({ targets: [{ environment: "production", segment: "apac" }] })))
        .thenThrows(
          "VALIDATION",
          'phases[1].targets[0].segment: unknown segment "apac" (project segments: us-west, eu)',
        );
    });

    it("says the project has no segments when a segment target names one", () => {
      const bare: Project = { ...project, segments: [] };
      spec
        .given([])
        .when(create({ project: bare, phases: [phase({ targets: [{ environment: "production", segment: "eu" }] })] }))
        .thenThrows("VALIDATION", "(project segments: none)");
    });

    it("refuses the same target twice in a phase", () => {
      spec
        .given([])
        .when(
          withPhases(phase({ targets: [{ environment: "production" }, { environment: "production", segment: null }] })),
        )
        .thenThrows("VALIDATION", "phases[0].targets[1]: duplicate target production in this phase");
      spec
        .given([])
        .when(
          withPhases(
            phase({
              targets: [
                { environment: "production", segment: "eu" },
                { environment: "production", segment: "eu" },
              ],
            }),
          ),
        )
        .thenThrows("VALIDATION", "phases[0].targets[1]: duplicate target production / eu in this phase");
    });

    it("accepts a whole environment beside one of its segments, and a segment in two environments", () => {
      spec
        .given([])
        .when(
          withPhases(
            phase({
              targets: [
                { environment: "production" },
                { environment: "production", segment: "eu" },
                { environment: "staging", segment: "eu" },
              ],
            }),
          ),
        )
        .thenState((p) => expect(p?.phases[0]?.targets).toHaveLength(3));
    });

    it("accepts the same target in two phases (the release writes it once)", () => {
      spec
        .given([])
        .when(withPhases(phase(), phase()))
        .thenState((p) => expect(p?.phases).toHaveLength(2));
    });

    it("refuses a waitFor that is not an ISO-8601 duration, or uses months or years", () => {
      for (const bad of ["30m", "PT", "P", "", "1 day", "P1M", "P1Y", "PT-5M"]) {
        spec
          .given([])
          .when(withPhases(phase(), phase({ waitFor: bad })))
          .thenThrows("VALIDATION", `phases[1].waitFor: "${bad}" is not an ISO-8601 duration`);
      }
    });

    it("refuses a zero waitFor", () => {
      spec
        .given([])
        .when(withPhases(phase({ waitFor: "PT0S" })))
        .thenThrows("VALIDATION", "phases[0].waitFor: must be longer than zero");
    });

    it("accepts a waitFor of exactly 365 days and refuses one more millisecond", () => {
      spec
        .given([])
        .when(withPhases(phase({ waitFor: "P365D" })))
        .thenState((p) => expect(p?.phases[0]).toMatchObject({ waitFor: "P365D", waitForMs: 365 * 86_400_000 }));
      spec
        .given([])
        .when(withPhases(phase({ waitFor: "P365DT0.001S" })))
        .thenThrows("VALIDATION", "phases[0].waitFor: must be at most 365 days (P365D), got P365DT0.001S");
      spec
        .given([])
        .when(withPhases(phase({ waitFor: "P53W" })))
        .thenThrows("VALIDATION", "phases[0].waitFor: must be at most 365 days");
    });

    it("stores waitFor in canonical form beside its milliseconds", () => {
      const cases: [string, string, number][] = [
        ["PT30M", "PT30M", 1_800_000],
        ["PT120M", "PT2H", 7_200_000],
        ["P1W", "P7D", 604_800_000],
        ["PT36H", "P1DT12H", 129_600_000],
        ["PT0.5S", "PT0.5S", 500],
      ];
      for (const [given, canonical, ms] of cases) {
        spec
          .given([])
          .when(withPhases(phase({ waitFor: given })))
          .thenState((p) => expect(p?.phases[0]).toMatchObject({ waitFor: canonical, waitForMs: ms }));
      }
    });

    describe("a ramp", () => {
      const ramp = (extra: Record<string, unknown> = {}) =>
        phase({ ramp: { initialPercentage: 5, increaseBy: 20, every: "PT6H", ...extra } as never });

      it("is stored with `every` in canonical form beside its milliseconds", () => {
        spec
          .given([])
          .when(withPhases(ramp({ every: "PT360M" })))
          .thenState((p) =>
            expect(p?.phases[0]?.ramp).toEqual({
              initialPercentage: 5,
              increaseBy: 20,
              every: "PT6H",
              everyMs: 21_600_000,
            }),
          );
      });

      it("is absent when not given or null", () => {
        spec
          .given([])
          .when(withPhases(phase({ ramp: null })))
          .thenState((p) => expect(p?.phases[0]).not.toHaveProperty("ramp"));
      });

      it("accepts percentages of exactly 100 and just above 0", () => {
        spec
          .given([])
          .when(withPhases(ramp({ initialPercentage: 0.01, increaseBy: 100 })))
          .thenState((p) => expect(p?.phases[0]?.ramp).toMatchObject({ initialPercentage: 0.01, increaseBy: 100 }));
      });

      it("refuses percentages outside (0, 100], naming the field", () => {
        for (const [field, bad] of [
          ["initialPercentage", 0],
          ["initialPercentage", 100.5],
          ["increaseBy", -5],
          ["increaseBy", 0],
          ["initialPercentage", Number.NaN],
        ] as const) {
          spec
            .given([])
            .when(withPhases(phase(), ramp({ [field]: bad })))
            .thenThrows("VALIDATION", `phases[1].ramp.${field}: must be a percentage within (0, 100]`);
        }
      });

      it("accepts `every` from 1 second to 1 day and refuses anything outside", () => {
        for (const ok of ["PT1S", "P1D", "PT24H"]) {
          spec
            .given([])
            .when(withPhases(ramp({ every: ok })))
            .thenState((p) => expect(p?.phases[0]?.ramp).toBeDefined());
        }
        for (const bad of ["PT0.999S", "P1DT0.001S", "P2D"]) {
          spec
            .given([])
            .when(withPhases(ramp({ every: bad })))
            .thenThrows("VALIDATION", "phases[0].ramp.every: must be from 1 second (PT1S) to 1 day (P1D)");
        }
        spec
          .given([])
          .when(withPhases(ramp({ every: "6h" })))
          .thenThrows("VALIDATION", 'phases[0].ramp.every: "6h" is not an ISO-8601 duration');
      });
    });

    describe("guardrails", () => {
      const probe = { name: "health", kind: "HTTP_PROBE", url: "https://checkout.internal/healthz", interval: "PT1M" };
      const prom = {
        name: "error rate",
        kind: "PROMETHEUS_QUERY",
        url: "http://prometheus:9090",
        query: 'sum(rate(http_errors_total{app="checkout"}[5m]))',
        comparator: "LT",
        threshold: 0.05,
        interval: "PT30S",
        failuresToTrip: 2,
        onFailure: "ABORT",
      };
      const withGuardrails = (...guardrails: unknown[]) => withPhases(phase({ guardrails: guardrails as never }));

      it("are stored with defaults (3 failures to trip, PAUSE) and `interval` beside its milliseconds", () => {
        spec
          .given([])
          .when(withGuardrails(probe, prom))
          .thenState((p) =>
            expect(p?.phases[0]?.guardrails).toEqual([
              {
                ...probe,
                query: null,
                comparator: null,
                threshold: null,
                interval: "PT1M",
                intervalMs: 60_000,
                failuresToTrip: 3,
                onFailure: "PAUSE",
              },
              { ...prom, interval: "PT30S", intervalMs: 30_000 },
            ]),
          );
      });

      it("refuses more than 10 per phase, and two with one name", () => {
        const eleven = Array.from({ length: 11 }, (_, i) => ({ ...probe, name: `g${i}` }));
        spec
          .given([])
          .when(withGuardrails(...eleven))
          .thenThrows("VALIDATION", "phases[0].guardrails: at most 10");
        spec
          .given([])
          .when(withGuardrails(probe, { ...probe, name: "Health" }))
          .thenThrows("VALIDATION", 'phases[0].guardrails[1].name: duplicate guardrail name "Health"');
      });

      it("refuses URLs that are not http(s) or carry credentials", () => {
        for (const [url, message] of [
          ["ftp://x/metrics", "must be an http or https URL"],
          ["file:///etc/passwd", "must be an http or https URL"],
          ["https://user:secret@prom/", "must not carry credentials"],
          ["not a url", '"not a url" is not a URL'],
          [`https://x/${"a".repeat(2_000)}`, "must be at most 2000 characters"],
        ]) {
          spec
            .given([])
            .when(withGuardrails({ ...probe, url }))
            .thenThrows("VALIDATION", `phases[0].guardrails[0].url: ${message}`);
        }
      });

      it("bounds the interval to 1 second .. 1 day and failuresToTrip to 1 .. 100", () => {
        spec
          .given([])
          .when(withGuardrails({ ...probe, interval: "PT0.5S" }))
          .thenThrows("VALIDATION", "phases[0].guardrails[0].interval: must be from 1 second");
        spec
          .given([])
          .when(withGuardrails({ ...probe, interval: "P2D" }))
          .thenThrows("VALIDATION", "phases[0].guardrails[0].interval: must be from 1 second");
        for (const bad of [0, 101, 1.5]) {
          spec
            .given([])
            .when(withGuardrails({ ...probe, failuresToTrip: bad }))
            .thenThrows("VALIDATION", "phases[0].guardrails[0].failuresToTrip");
        }
      });

      it("needs a bounded query, a comparator and a threshold for PROMETHEUS_QUERY, and none for HTTP_PROBE", () => {
        spec
          .given([])
          .when(withGuardrails({ ...prom, query: "x".repeat(2_001) }))
          .thenThrows("VALIDATION", "phases[0].guardrails[0].query: must be at most 2000 characters");
        spec
          .given([])
          .when(withGuardrails({ ...prom, query: null }))
          .thenThrows("VALIDATION", "phases[0].guardrails[0].query: is required");
        spec
          .given([])
          .when(withGuardrails({ ...prom, comparator: "EQ" }))
          .thenThrows("VALIDATION", "phases[0].guardrails[0].comparator");
        spec
          .given([])
          .when(withGuardrails({ ...prom, threshold: null }))
          .thenThrows("VALIDATION", "phases[0].guardrails[0].threshold");
        spec
          .given([])
          .when(withGuardrails({ ...probe, query: "up" }))
          .thenThrows(
            "VALIDATION",
            "phases[0].guardrails[0].query: query, comparator and threshold are for PROMETHEUS_QUERY",
          );
      });
    });

    it("treats a null waitFor as none", () => {
      spec
        .given([])
        .when(withPhases(phase({ waitFor: null })))
        .thenState((p) => expect(p?.phases[0]).toMatchObject({ waitFor: null, waitForMs: null }));
    });

    it("refuses approvalsRequired below 1 when approval is required", () => {
      spec
        .given([])
        .when(withPhases(phase({ requiresApproval: true, approvalsRequired: 0 })))
        .thenThrows("VALIDATION", "phases[0].approvalsRequired: must be at least 1 when approval is required (got 0)");
    });

    it("refuses an approvalsRequired that is not an integer", () => {
      spec
        .given([])
        .when(withPhases(phase({ requiresApproval: true, approvalsRequired: 1.5 })))
        .thenThrows("VALIDATION", "phases[0].approvalsRequired: must be an integer");
    });

    it("keeps approvalsRequired as given when approval is not required, but never negative", () => {
      spec
        .given([])
        .when(withPhases(phase({ requiresApproval: false, approvalsRequired: 0 })))
        .thenState((p) => expect(p?.phases[0]).toMatchObject({ requiresApproval: false, approvalsRequired: 0 }));
      spec
        .given([])
        .when(withPhases(phase({ approvalsRequired: -1 })))
        .thenThrows("VALIDATION", "phases[0].approvalsRequired: must not be negative");
    });

    it("defaults requiresApproval, approvalsRequired and action, also when they are null", () => {
      spec
        .given([])
        .when(withPhases(phase({ requiresApproval: null, approvalsRequired: null, action: null })))
        .thenState((p) =>
          expect(p?.phases[0]).toMatchObject({ requiresApproval: false, approvalsRequired: 1, action: "APPLY_CHANGE" }),
        );
    });

    it("accepts the ENABLE and DISABLE actions and refuses others", () => {
      spec
        .given([])
        .when(withPhases(phase({ action: "ENABLE" }), phase({ action: "DISABLE" })))
        .thenState((p) => expect(p?.phases.map((x) => x.action)).toEqual(["ENABLE", "DISABLE"]));
      spec
        .given([])
        .when(withPhases(phase({ action: "DELETE" as "ENABLE" })))
        .thenThrows("VALIDATION", "phases[0].action: must be one of APPLY_CHANGE, ENABLE, DISABLE (got DELETE)");
    });

    it("answers NOT_FOUND to update, publish and delete", () => {
      spec
        .given([])
        .when(update({ name: "x" }))
        .thenThrows("NOT_FOUND", "pipeline not found");
      spec.given([]).when(publish()).thenThrows("NOT_FOUND", "pipeline not found");
      spec.given([]).when(remove()).thenThrows("NOT_FOUND", "pipeline not found");
    });

    describe("cloning into it", () => {
      const source = replay([created, published]) as Pipeline;

      it("creates a DRAFT with the source's phases, settings and clonedFrom", () => {
        spec
          .given([])
          .when(clone(source))
          .then([
            {
              type: "PipelineCreated",
              data: {
                pipelineId: "pl2",
                projectId: "p1",
                name: "Standard (copy)",
                description: "dev → prod",
                selfApproval: "ALLOWED",
                phases,
                clonedFrom: "pl1",
                at: t1,
              },
            },
          ]);
        spec
          .given([])
          .when(clone(source))
          .thenState((p) => expect(p).toMatchObject({ id: "pl2", status: "DRAFT", version: 1, clonedFrom: "pl1" }));
      });

      it("takes a given name, trimmed", () => {
        spec
          .given([])
          .when(clone(source, " Faster "))
          .thenState((p) => expect(p?.name).toBe("Faster"));
      });

      it("refuses a blank name", () => {
        spec.given([]).when(clone(source, "  ")).thenThrows("VALIDATION", "name: must not be empty");
      });

      it("keeps the default name within 200 characters", () => {
        const long = { ...source, name: "n".repeat(200) };
        spec
          .given([])
          .when(clone(long))
          .thenState((p) => expect(p?.name).toHaveLength(200));
      });

      it("clones a draft too", () => {
        const draft = replay([created]) as Pipeline;
        spec
          .given([])
          .when(clone(draft))
          .thenState((p) => expect(p?.clonedFrom).toBe("pl1"));
      });

      it("answers NOT_FOUND for a deleted source", () => {
        const gone = replay([created, published, deleted]) as Pipeline;
        spec.given([]).when(clone(gone)).thenThrows("NOT_FOUND", "pipeline pl1 was deleted");
      });
    });
  });

  describe("when DRAFT", () => {
    it("refuses to be created again, or to be the target of a clone", () => {
      spec.given([created]).when(create()).thenThrows("CONFLICT", "pipeline pl1 already exists");
      spec
        .given([created])
        .when(clone(replay([created]) as Pipeline))
        .thenThrows("CONFLICT", "pipeline pl1 already exists");
    });

    it("updates only the given fields", () => {
      spec
        .given([created])
        .when(update({ name: "Renamed" }))
        .then([renamed]);
    });

    it("updates every field at once", () => {
      spec
        .given([created])
        .when(
          update({
            name: "Fast",
            description: "dev only",
            selfApproval: "FORBIDDEN",
            phases: [{ name: "Dev", targets: [{ environment: "development" }] }],
          }),
        )
        .then([
          {
            type: "PipelineUpdated",
            data: {
              pipelineId: "pl1",
              name: "Fast",
              description: "dev only",
              selfApproval: "FORBIDDEN",
              phases: [phases[0] as Phase],
              at: t1,
            },
          },
        ]);
    });

    it("clears the description with null, and leaves it when absent", () => {
      spec
        .given([created])
        .when(update({ description: null }))
        .then([{ type: "PipelineUpdated", data: { pipelineId: "pl1", description: null, at: t1 } }]);
      spec
        .given([created])
        .when(update({ name: "Renamed", description: undefined }))
        .thenState((p) => expect(p?.description).toBe("dev → prod"));
    });

    it("treats a null name, selfApproval or phases as unchanged", () => {
      spec
        .given([created])
        .when(update({ name: null, selfApproval: null, phases: null }))
        .then([]);
    });

    it("stores nothing when nothing differs (a retried update is a no-op)", () => {
      spec.given([created]).when(update({})).then([]);
      spec
        .given([created])
        .when(update({ name: " Standard ", description: "dev → prod", selfApproval: "ALLOWED", phases: phaseInputs }))
        .then([]);
    });

    it("lists only the fields that differ", () => {
      spec
        .given([created])
        .when(update({ name: "Standard", selfApproval: "FORBIDDEN" }))
        .then([{ type: "PipelineUpdated", data: { pipelineId: "pl1", selfApproval: "FORBIDDEN", at: t1 } }]);
    });

    it("validates updated phases and fields like creation", () => {
      spec
        .given([created])
        .when(update({ phases: [phase({ waitFor: "P2Y" })] }))
        .thenThrows("VALIDATION", "phases[0].waitFor:");
      spec
        .given([created])
        .when(update({ phases: [] }))
        .thenThrows("VALIDATION", "phases: at least one phase");
      spec
        .given([created])
        .when(update({ name: "" }))
        .thenThrows("VALIDATION", "name: must not be empty");
      spec
        .given([created])
        .when(update({ selfApproval: "NEVER" as "ALLOWED" }))
        .thenThrows("VALIDATION", "selfApproval:");
    });

    it("refuses an update against another project's definition", () => {
      spec
        .given([created])
        .when(update({ project: { ...project, id: "p2" }, name: "x" }))
        .thenThrows("INTERNAL", "pipeline pl1 is not in project p2");
    });

    it("moves to version 2 with the update applied", () => {
      spec
        .given([created])
        .when(update({ name: "Renamed", phases: [phase()] }))
        .thenState((p) =>
          expect(p).toMatchObject({
            name: "Renamed",
            version: 2,
            status: "DRAFT",
            phases: [{ name: "P", targets: [{ environment: "production", segment: null }] }],
          }),
        );
    });

    it("is published", () => {
      spec.given([created]).when(publish()).then([published]);
      spec
        .given([created])
        .when(publish())
        .thenState((p) => expect(p).toMatchObject({ status: "PUBLISHED", publishedAt: t1, version: 2 }));
    });

    it("is deleted when no feature has it attached", () => {
      spec.given([created]).when(remove()).then([deleted]);
    });
  });

  describe("when PUBLISHED", () => {
    it("refuses updates as IMMUTABLE, pointing to clone", () => {
      spec
        .given([created, published])
        .when(update({ name: "x" }))
        .thenThrows("IMMUTABLE", "pipeline pl1 is PUBLISHED: cannot update it (clone it to make an editable draft)");
    });

    it("refuses updates as IMMUTABLE even when nothing would change", () => {
      spec.given([created, published]).when(update({})).thenThrows("IMMUTABLE");
    });

    it("refuses to be published again as IMMUTABLE", () => {
      spec.given([created, published]).when(publish()).thenThrows("IMMUTABLE", "is PUBLISHED: cannot publish it");
    });

    it("refuses deletion while features have it attached, naming them", () => {
      spec
        .given([created, published])
        .when(remove(["f1", "f2"]))
        .thenThrows("PIPELINE_IN_USE", "attached to 2 feature(s) (f1, f2): detach it first");
    });

    it("is deleted when no feature has it attached", () => {
      spec.given([created, published]).when(remove()).then([deleted]);
      spec
        .given([created, published])
        .when(remove())
        .thenState((p) => expect(p).toMatchObject({ status: "DELETED", deletedAt: t2, publishedAt: t1, version: 3 }));
    });
  });

  describe("when DELETED", () => {
    const history = [created, published, deleted];

    it("refuses updates and publishing as IMMUTABLE", () => {
      spec
        .given(history)
        .when(update({ name: "x" }))
        .thenThrows("IMMUTABLE", "pipeline pl1 is DELETED: cannot update it");
      spec.given([created, deleted]).when(publish()).thenThrows("IMMUTABLE", "is DELETED: cannot publish it");
    });

    it("refuses a second delete as IMMUTABLE", () => {
      spec.given(history).when(remove()).thenThrows("IMMUTABLE", "pipeline pl1 is already deleted");
    });

    it("reports IMMUTABLE before PIPELINE_IN_USE", () => {
      spec
        .given(history)
        .when(remove(["f1"]))
        .thenThrows("IMMUTABLE");
    });
  });

  // PIPELINE_IN_USE's home: the attachments the pipeline's own stream records (services/feature/attachment.ts
  // records them before the feature's event), so a delete and an attach serialize on this stream.
  describe("attachments recorded on its stream", () => {
    const attached = (featureId: string): PipelineEvent => ({
      type: "PipelineFeatureAttached",
      data: { pipelineId: "pl1", featureId, at: t1 },
    });
    const detached = (featureId: string): PipelineEvent => ({
      type: "PipelineFeatureDetached",
      data: { pipelineId: "pl1", featureId, at: t1 },
    });
    const attach = (featureId: string) => command<AttachFeature>("AttachFeature", { featureId });
    const detach = (featureId: string) => command<DetachFeature>("DetachFeature", { featureId });

    it("records a feature being attached to a published pipeline, once", () => {
      spec
        .given([created, published])
        .when(attach("f1"))
        .then([attached("f1")]);
      spec
        .given([created, published, attached("f1")])
        .when(attach("f1"))
        .then([]);
    });

    it("refuses to record an attachment to a draft or a deleted pipeline", () => {
      spec.given([created]).when(attach("f1")).thenThrows("PIPELINE_NOT_PUBLISHED", "is DRAFT");
      spec.given([created, published, deleted]).when(attach("f1")).thenThrows("PIPELINE_NOT_PUBLISHED", "is DELETED");
      spec.given([]).when(attach("f1")).thenThrows("NOT_FOUND");
    });

    it("refuses deletion while its stream records an attachment, even one the caller did not see", () => {
      spec
        .given([created, published, attached("f1")])
        .when(remove())
        .thenThrows("PIPELINE_IN_USE", "attached to 1 feature(s) (f1)");
      spec
        .given([created, published, attached("f1")])
        .when(remove(["f1", "f2"]))
        .thenThrows("PIPELINE_IN_USE", "attached to 2 feature(s) (f1, f2)");
    });

    it("is deleted once every recorded feature was detached", () => {
      spec
        .given([created, published, attached("f1"), detached("f1")])
        .when(remove())
        .then([deleted]);
    });

    it("removes a record idempotently", () => {
      spec
        .given([created, published, attached("f1")])
        .when(detach("f1"))
        .then([detached("f1")]);
      spec.given([created, published]).when(detach("f1")).then([]);
      spec.given([]).when(detach("f1")).then([]);
    });

    it("does not count attachments as versions of the pipeline (what a release snapshots)", () => {
      expect(replay([created, published, attached("f1"), attached("f2"), detached("f1")])).toMatchObject({
        version: 2,
        attachedFeatureIds: ["f2"],
      });
    });
  });

  describe("version", () => {
    it("counts every stored event", () => {
      const versions = [created, renamed, renamed, published, deleted].map(
        (_, i, all) => replay(all.slice(0, i + 1))?.version,
      );
      expect(versions).toEqual([1, 2, 3, 4, 5]);
    });
  });

  describe("evolvePipeline", () => {
    it("ignores changes to a pipeline it has not seen created", () => {
      expect(replay([renamed, published, deleted])).toBeNull();
    });

    it("replays a prefix of the stream as the pipeline was then (pipelineAsOf)", () => {
      expect(replay([created, renamed])).toMatchObject({ name: "Renamed", status: "DRAFT", publishedAt: null });
    });
  });

  describe("normalizePhases", () => {
    it("names fields under the given prefix", () => {
      expect(() => normalizePhases(project, [phase({ name: "" })], "input.phases")).toThrow(
        "input.phases[0].name: must not be empty",
      );
    });

    it("carries the field on the error", () => {
      try {
        normalizePhases(project, [phase(), phase({ waitFor: "soon" })]);
        expect.fail("should throw");
      } catch (error) {
        expect(error).toMatchObject({ code: "VALIDATION", field: "phases[1].waitFor" });
      }
    });
  });
});

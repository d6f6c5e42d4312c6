import { describe, expect, it } from "vitest";
import type { Actor } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { ProjectCreated } from "./events.ts";
import { type CreateProject, evolveProject, projectDecider } from "./project.ts";

const admin: Actor = { name: "admin", role: "ADMIN" };
const now = "2026-11-21T10:00:00.000Z";
const spec = specification(projectDecider);

const create = (data: Partial<CreateProject["data"]> = {}): CreateProject => ({
  type: "CreateProject",
  data: {
    projectId: "p1",
    name: "Checkout",
    environments: ["development", "staging", "production"],
    segments: [{ key: "us-west", attribute: "region", operator: "IN", values: ["us-west-1", "us-west-2"] }],
    ...data,
  },
  actor: admin,
  now,
});

const created: ProjectCreated = {
  type: "ProjectCreated",
  data: {
    projectId: "p1",
    name: "Checkout",
    environments: ["development", "staging", "production"],
    segments: [{ key: "us-west", attribute: "region", operator: "IN", values: ["us-west-1", "us-west-2"] }],
    at: now,
  },
};

describe("Project", () => {
  describe("when it does not exist", () => {
    it("is created with its environments in order and its segments", () => {
      spec.given([]).when(create()).then([created]);
    });

    it("becomes a project at version 1", () => {
      spec
        .given([])
        .when(create())
        .thenState((project) =>
          expect(project).toEqual({
            id: "p1",
            name: "Checkout",
            environments: ["development", "staging", "production"],
            segments: created.data.segments,
            createdAt: now,
            version: 1,
          }),
        );
    });

    it("trims the name, and the segment attribute", () => {
      const [event] = spec
        .given([])
        .when(
          create({
            name: "  Checkout  ",
            segments: [{ key: "beta", attribute: " plan ", operator: "NOT_IN", values: ["free"] }],
          }),
        )
        .then([
          {
            type: "ProjectCreated",
            data: {
              ...created.data,
              segments: [{ key: "beta", attribute: "plan", operator: "NOT_IN", values: ["free"] }],
            },
          },
        ]);
      expect(event?.type === "ProjectCreated" && event.data.name).toBe("Checkout");
    });

    it("has no segments when none are given", () => {
      spec
        .given([])
        .when(create({ segments: undefined }))
        .then([{ type: "ProjectCreated", data: { ...created.data, segments: [] } }]);
      spec
        .given([])
        .when(create({ segments: null }))
        .then([{ type: "ProjectCreated", data: { ...created.data, segments: [] } }]);
    });

    it("accepts a name of 200 characters and refuses 201", () => {
      spec
        .given([])
        .when(create({ name: "x".repeat(200) }))
        .thenState((project) => expect(project?.name).toHaveLength(200));
      spec
        .given([])
        .when(create({ name: "x".repeat(201) }))
        .thenThrows("VALIDATION", /^name: must be at most 200 characters/);
    });

    it("refuses an empty or blank name", () => {
      spec
        .given([])
        .when(create({ name: "" }))
        .thenThrows("VALIDATION", "name: must not be empty");
      spec
        .given([])
        .when(create({ name: "   " }))
        .thenThrows("VALIDATION", "name: must not be empty");
    });

    it("refuses a project without environments", () => {
      spec
        .given([])
        .when(create({ environments: [] }))
        .thenThrows("VALIDATION", "environments: at least one environment is required");
    });

    it("refuses an empty environment name, naming its index", () => {
      spec
        .given([])
        .when(create({ environments: ["development", ""] }))
        .thenThrows("VALIDATION", "environments[1]: must not be empty");
    });

    it("refuses an environment name that is not slug-like", () => {
      for (const bad of ["prod env", "-prod", "prod/eu", "é"]) {
        spec
          .given([])
          .when(create({ environments: [bad] }))
          .thenThrows("VALIDATION", `environments[0]: "${bad}" must be 1-100 letters, digits`);
      }
    });

    it("accepts slug-like environment names in any case", () => {
      spec
        .given([])
        .when(create({ environments: ["Dev", "us-west.prod_2", "0"] }))
        .thenState((project) => expect(project?.environments).toEqual(["Dev", "us-west.prod_2", "0"]));
    });

    it("refuses duplicate environments, ignoring case", () => {
      spec
        .given([])
        .when(create({ environments: ["staging", "production", "staging"] }))
        .thenThrows("VALIDATION", 'environments[2]: duplicate environment "staging"');
      spec
        .given([])
        .when(create({ environments: ["production", "Production"] }))
        .thenThrows("VALIDATION", 'environments[1]: duplicate environment "Production"');
    });

    it("refuses duplicate segment keys", () => {
      spec
        .given([])
        .when(
          create({
            segments: [
              { key: "eu", attribute: "region", operator: "IN", values: ["eu"] },
              { key: "eu", attribute: "country", operator: "IN", values: ["fr"] },
            ],
          }),
        )
        .thenThrows("VALIDATION", 'segments[1].key: duplicate segment key "eu"');
    });

    it("refuses an empty or non-slug segment key", () => {
      spec
        .given([])
        .when(create({ segments: [{ key: "", attribute: "region", operator: "IN", values: ["eu"] }] }))
        .thenThrows("VALIDATION", "segments[0].key: must not be empty");
      spec
        .given([])
        .when(create({ segments: [{ key: "eu users", attribute: "region", operator: "IN", values: ["eu"] }] }))
        .thenThrows("VALIDATION", "segments[0].key:");
    });

    it("refuses a segment with an empty attribute", () => {
      spec
        .given([])
        .when(create({ segments: [{ key: "eu", attribute: " ", operator: "IN", values: ["eu"] }] }))
        .thenThrows("VALIDATION", "segments[0].attribute: must not be empty");
    });

    it("refuses a segment without values", () => {
      spec
        .given([])
        .when(create({ segments: [{ key: "eu", attribute: "region", operator: "IN", values: [] }] }))
        .thenThrows("VALIDATION", "segments[0].values: at least one value is required");
    });

    it("refuses a segment with an unknown operator or a non-string value", () => {
      const badOperator = {
        key: "eu",
        attribute: "region",
        operator: "LIKE",
        values: ["eu"],
      } as unknown as NonNullable<CreateProject["data"]["segments"]>[number];
      spec
        .given([])
        .when(create({ segments: [badOperator] }))
        .thenThrows("VALIDATION", "segments[0].operator: must be IN or NOT_IN (got LIKE)");
      const badValue = { key: "eu", attribute: "region", operator: "IN", values: ["eu", 3] } as unknown as NonNullable<
        CreateProject["data"]["segments"]
      >[number];
      spec
        .given([])
        .when(create({ segments: [badValue] }))
        .thenThrows("VALIDATION", "segments[0].values[1]: must be a string");
    });
  });

  describe("when it exists", () => {
    it("refuses to be created again", () => {
      spec.given([created]).when(create()).thenThrows("CONFLICT", "project p1 already exists");
    });
  });

  describe("evolveProject (read models)", () => {
    it("builds the project from its events", () => {
      expect(evolveProject(null, created)).toMatchObject({ id: "p1", version: 1, createdAt: now });
    });
  });
});

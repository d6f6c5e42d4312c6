// Decider specs for editing a project after creation: rename, environments, segments (issue "Edit and retire").

import { describe, expect, it } from "vitest";
import type { Actor, Segment } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { ProjectCreated, ProjectEvent } from "./events.ts";
import {
  type AddEnvironment,
  type DeleteSegment,
  projectDecider,
  type RemoveEnvironment,
  type RenameProject,
  type UpsertSegment,
} from "./project.ts";

const admin: Actor = { name: "admin", role: "ADMIN" };
const now = "2026-11-29T10:00:00.000Z";
const spec = specification(projectDecider);

const usWest: Segment = { key: "us-west", attribute: "region", operator: "IN", values: ["us-west-1", "us-west-2"] };
const created: ProjectCreated = {
  type: "ProjectCreated",
  data: {
    projectId: "p1",
    name: "Checkout",
    environments: ["development", "staging", "production"],
    segments: [usWest],
    at: "2026-11-21T10:00:00.000Z",
  },
};

const rename = (name: string, reason?: string | null): RenameProject => ({
  type: "RenameProject",
  data: { name, reason },
  actor: admin,
  now,
});
const add = (name: string, position?: number | null, reason?: string | null): AddEnvironment => ({
  type: "AddEnvironment",
  data: { name, position, reason },
  actor: admin,
  now,
});
const remove = (name: string, usedBy: string[] = [], reason?: string | null): RemoveEnvironment => ({
  type: "RemoveEnvironment",
  data: { name, usedBy, reason },
  actor: admin,
  now,
});
const upsert = (segment: UpsertSegment["data"]["segment"], reason?: string | null): UpsertSegment => ({
  type: "UpsertSegment",
  data: { segment, reason },
  actor: admin,
  now,
});
const deleteSegment = (key: string, usedBy: string[] = [], reason?: string | null): DeleteSegment => ({
  type: "DeleteSegment",
  data: { key, usedBy, reason },
  actor: admin,
  now,
});

describe("Project editing", () => {
  describe("when the project does not exist", () => {
    it("refuses every edit with NOT_FOUND", () => {
      spec.given([]).when(rename("X")).thenThrows("NOT_FOUND");
      spec.given([]).when(add("qa")).thenThrows("NOT_FOUND");
      spec.given([]).when(remove("qa")).thenThrows("NOT_FOUND");
      spec.given([]).when(upsert(usWest)).thenThrows("NOT_FOUND");
      spec.given([]).when(deleteSegment("us-west")).thenThrows("NOT_FOUND");
    });
  });

  describe("rename", () => {
    it("is renamed, trimmed, with the previous name and the reason", () => {
      spec
        .given([created])
        .when(rename("  Payments ", "  team renamed "))
        .then([
          {
            type: "ProjectRenamed",
            data: { projectId: "p1", name: "Payments", previousName: "Checkout", reason: "team renamed", at: now },
          },
        ]);
    });

    it("takes the new name and a new version", () => {
      spec
        .given([created])
        .when(rename("Payments"))
        .thenState((project) => expect(project).toMatchObject({ name: "Payments", version: 2 }));
    });

    it("stores nothing when the name does not change", () => {
      spec.given([created]).when(rename(" Checkout ")).then([]);
    });

    it("refuses a blank or too long name, in the creation's words", () => {
      spec.given([created]).when(rename("  ")).thenThrows("VALIDATION", "name: must not be empty");
      spec
        .given([created])
        .when(rename("x".repeat(201)))
        .thenThrows("VALIDATION", /^name: must be at most 200 characters/);
    });
  });

  describe("add an environment", () => {
    it("goes at the end by default", () => {
      const state = spec
        .given([created])
        .when(add("qa", undefined, "new QA stage"))
        .thenState((project, events) => {
          expect(events).toEqual([
            {
              type: "ProjectEnvironmentAdded",
              data: { projectId: "p1", environment: "qa", position: 3, reason: "new QA stage", at: now },
            },
          ]);
          expect(project?.environments).toEqual(["development", "staging", "production", "qa"]);
        });
      expect(state?.version).toBe(2);
    });

    it("goes at the position given (0 = first, length = last)", () => {
      spec
        .given([created])
        .when(add("qa", 1))
        .thenState((project) => expect(project?.environments).toEqual(["development", "qa", "staging", "production"]));
      spec
        .given([created])
        .when(add("local", 0))
        .thenState((project) => expect(project?.environments[0]).toBe("local"));
      spec
        .given([created])
        .when(add("dr", 3))
        .thenState((project) => expect(project?.environments.at(-1)).toBe("dr"));
    });

    it("refuses a position outside 0..length", () => {
      spec
        .given([created])
        .when(add("qa", 4))
        .thenThrows("VALIDATION", "position: must be an integer from 0 to 3 (got 4)");
      spec.given([created]).when(add("qa", -1)).thenThrows("VALIDATION", "position: must be an integer from 0 to 3");
      spec.given([created]).when(add("qa", 1.5)).thenThrows("VALIDATION", "position:");
    });

    it("refuses a 101st environment, naming the bound", () => {
      const full: ProjectCreated = {
        ...created,
        data: { ...created.data, environments: Array.from({ length: 100 }, (_, i) => `env-${i}`) },
      };
      spec.given([full]).when(add("one-more")).thenThrows("VALIDATION", "name: at most 100 environments per project");
    });

    it("refuses a name that exists, ignoring case (CONFLICT)", () => {
      spec.given([created]).when(add("Staging")).thenThrows("CONFLICT", 'project p1 already has environment "staging"');
    });

    it("refuses a name that is not slug-like, in the creation's words", () => {
      spec
        .given([created])
        .when(add("qa env"))
        .thenThrows("VALIDATION", 'name: "qa env" must be 1-100 letters, digits');
      spec.given([created]).when(add("")).thenThrows("VALIDATION", "name: must not be empty");
    });
  });

  describe("remove an environment", () => {
    it("is removed when nothing uses it, with the reason", () => {
      spec
        .given([created])
        .when(remove("staging", [], "merged into development"))
        .thenState((project, events) => {
          expect(events).toEqual([
            {
              type: "ProjectEnvironmentRemoved",
              data: { projectId: "p1", environment: "staging", reason: "merged into development", at: now },
            },
          ]);
          expect(project?.environments).toEqual(["development", "production"]);
        });
    });

    it("refuses while something uses it, naming what", () => {
      spec
        .given([created])
        .when(remove("staging", ["feature checkout-v2", "pipeline Standard"]))
        .thenThrows(
          "VALIDATION",
          'name: environment "staging" is in use by feature checkout-v2, pipeline Standard: change or remove those first',
        );
    });

    it("names at most ten users and counts the rest", () => {
      const users = Array.from({ length: 13 }, (_, i) => `feature f${i}`);
      spec.given([created]).when(remove("staging", users)).thenThrows("VALIDATION", "feature f9 and 3 more");
    });

    it("refuses an unknown environment, listing the project's", () => {
      spec
        .given([created])
        .when(remove("qa"))
        .thenThrows(
          "VALIDATION",
          'name: unknown environment "qa" (project environments: development, staging, production)',
        );
    });

    it("refuses to remove the only environment", () => {
      spec
        .given([
          created,
          {
            type: "ProjectEnvironmentRemoved",
            data: { projectId: "p1", environment: "development", reason: null, at: now },
          },
          {
            type: "ProjectEnvironmentRemoved",
            data: { projectId: "p1", environment: "staging", reason: null, at: now },
          },
        ])
        .when(remove("production"))
        .thenThrows("VALIDATION", "only environment");
    });

    it("can add back an environment that was removed", () => {
      const removed: ProjectEvent = {
        type: "ProjectEnvironmentRemoved",
        data: { projectId: "p1", environment: "staging", reason: null, at: now },
      };
      spec
        .given([created, removed])
        .when(add("staging", 1))
        .thenState((project) => expect(project?.environments).toEqual(["development", "staging", "production"]));
    });
  });

  describe("upsert a segment", () => {
    const eu = { key: "eu", attribute: " country ", operator: "IN" as const, values: ["fr", "de"] };

    it("creates a new key (attribute trimmed) with the reason", () => {
      spec
        .given([created])
        .when(upsert(eu, "EU launch"))
        .thenState((project, events) => {
          const segment = { key: "eu", attribute: "country", operator: "IN", values: ["fr", "de"] };
          expect(events).toEqual([
            { type: "ProjectSegmentCreated", data: { projectId: "p1", segment, reason: "EU launch", at: now } },
          ]);
          expect(project?.segments).toEqual([usWest, segment]);
        });
    });

    it("updates an existing key's values and operator, with before and after", () => {
      const after: Segment = { key: "us-west", attribute: "region", operator: "NOT_IN", values: ["us-west-3"] };
      spec
        .given([created])
        .when(upsert(after, "new region"))
        .thenState((project, events) => {
          expect(events).toEqual([
            {
              type: "ProjectSegmentUpdated",
              data: { projectId: "p1", key: "us-west", before: usWest, after, reason: "new region", at: now },
            },
          ]);
          expect(project?.segments).toEqual([after]);
        });
    });

    it("refuses a 101st segment and more than 1,000 values, naming the bounds", () => {
      const full: ProjectCreated = {
        ...created,
        data: {
          ...created.data,
          segments: Array.from({ length: 100 }, (_, i) => ({ ...usWest, key: `s-${i}` })),
        },
      };
      spec.given([full]).when(upsert(eu)).thenThrows("VALIDATION", "input.key: at most 100 segments per project");
      spec
        .given([created])
        .when(upsert({ ...eu, values: Array.from({ length: 1001 }, (_, i) => `v${i}`) }))
        .thenThrows("VALIDATION", "input.values: at most 1000 values per segment (got 1001)");
    });

    it("stores nothing when the segment is the same", () => {
      spec
        .given([created])
        .when(upsert({ ...usWest, values: [...usWest.values] }))
        .then([]);
    });

    it("refuses an invalid segment, naming the input field", () => {
      spec
        .given([created])
        .when(upsert({ ...eu, values: [] }))
        .thenThrows("VALIDATION", "input.values: at least one value is required");
      spec
        .given([created])
        .when(upsert({ ...eu, attribute: " " }))
        .thenThrows("VALIDATION", "input.attribute: must not be empty");
      spec
        .given([created])
        .when(upsert({ ...eu, key: "e u" }))
        .thenThrows("VALIDATION", "input.key:");
      spec
        .given([created])
        .when(upsert({ ...eu, operator: "LIKE" as "IN" }))
        .thenThrows("VALIDATION", "input.operator: must be IN or NOT_IN (got LIKE)");
    });
  });

  describe("delete a segment", () => {
    it("is deleted when nothing uses it, keeping what it was", () => {
      spec
        .given([created])
        .when(deleteSegment("us-west", [], "region closed"))
        .thenState((project, events) => {
          expect(events).toEqual([
            {
              type: "ProjectSegmentDeleted",
              data: { projectId: "p1", key: "us-west", before: usWest, reason: "region closed", at: now },
            },
          ]);
          expect(project?.segments).toEqual([]);
        });
    });

    it("refuses while a rule or a pipeline target uses it, naming them", () => {
      spec
        .given([created])
        .when(deleteSegment("us-west", ["feature dark-mode (rule in production)", "pipeline Regions"]))
        .thenThrows(
          "VALIDATION",
          'key: segment "us-west" is in use by feature dark-mode (rule in production), pipeline Regions: change or remove those first',
        );
    });

    it("refuses an unknown key, listing the project's", () => {
      spec
        .given([created])
        .when(deleteSegment("eu"))
        .thenThrows("VALIDATION", 'key: unknown segment "eu" (project segments: us-west)');
    });
  });
});

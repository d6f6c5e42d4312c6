// Decider specs for renamePipeline: metadata only, a published pipeline's phases stay immutable.

import { describe, expect, it } from "vitest";
import type { Actor } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { PipelineCreated, PipelineDeleted, PipelinePublished } from "./events.ts";
import { pipelineDecider, type RenamePipeline } from "./pipeline.ts";

const editor: Actor = { name: "alice", role: "EDITOR" };
const t0 = "2026-11-29T10:00:00.000Z";
const t1 = "2026-11-29T11:00:00.000Z";
const spec = specification(pipelineDecider);

const created: PipelineCreated = {
  type: "PipelineCreated",
  data: {
    pipelineId: "pl1",
    projectId: "p1",
    name: "Standard",
    description: "Dev, then prod",
    selfApproval: "ALLOWED",
    phases: [
      {
        name: "Production",
        waitFor: null,
        waitForMs: null,
        requiresApproval: false,
        approvalsRequired: 1,
        action: "APPLY_CHANGE",
        targets: [{ environment: "production", segment: null }],
      },
    ],
    clonedFrom: null,
    at: t0,
  },
};
const published: PipelinePublished = { type: "PipelinePublished", data: { pipelineId: "pl1", at: t0 } };
const deleted: PipelineDeleted = { type: "PipelineDeleted", data: { pipelineId: "pl1", at: t0 } };

const rename = (data: RenamePipeline["data"]): RenamePipeline => ({
  type: "RenamePipeline",
  data,
  actor: editor,
  now: t1,
});

describe("Pipeline rename", () => {
  it("renames and re-describes a published pipeline, keeping its phases and status", () => {
    spec
      .given([created, published])
      .when(rename({ name: " Standard v2 ", description: "Dev, staging, prod", reason: "clearer" }))
      .thenState((pipeline, events) => {
        expect(events).toEqual([
          {
            type: "PipelineRenamed",
            data: {
              pipelineId: "pl1",
              name: "Standard v2",
              description: "Dev, staging, prod",
              reason: "clearer",
              at: t1,
            },
          },
        ]);
        expect(pipeline).toMatchObject({
          name: "Standard v2",
          description: "Dev, staging, prod",
          status: "PUBLISHED",
          version: 3,
        });
        expect(pipeline?.phases).toEqual(created.data.phases);
      });
  });

  it("renames a draft too", () => {
    spec
      .given([created])
      .when(rename({ name: "Fast" }))
      .then([{ type: "PipelineRenamed", data: { pipelineId: "pl1", name: "Fast", reason: null, at: t1 } }]);
  });

  it("leaves the description when absent and clears it when null or blank", () => {
    spec
      .given([created, published])
      .when(rename({ name: "Standard", description: null }))
      .then([{ type: "PipelineRenamed", data: { pipelineId: "pl1", description: null, reason: null, at: t1 } }]);
    spec
      .given([created, published])
      .when(rename({ name: "Standard", description: "  " }))
      .thenState((pipeline) => expect(pipeline?.description).toBeNull());
  });

  it("stores nothing when nothing changes", () => {
    spec
      .given([created, published])
      .when(rename({ name: "Standard" }))
      .then([]);
    spec
      .given([created, published])
      .when(rename({ name: "Standard", description: "Dev, then prod" }))
      .then([]);
  });

  it("refuses a blank or too long name", () => {
    spec
      .given([created, published])
      .when(rename({ name: " " }))
      .thenThrows("VALIDATION", "name: must not be empty");
    spec
      .given([created, published])
      .when(rename({ name: "x".repeat(201) }))
      .thenThrows("VALIDATION", /^name: must be at most 200 characters/);
  });

  it("refuses a deleted pipeline (IMMUTABLE) and a missing one (NOT_FOUND)", () => {
    spec
      .given([created, published, deleted])
      .when(rename({ name: "Back" }))
      .thenThrows("IMMUTABLE", "pipeline pl1 is deleted: cannot rename it");
    spec
      .given([])
      .when(rename({ name: "X" }))
      .thenThrows("NOT_FOUND");
  });
});

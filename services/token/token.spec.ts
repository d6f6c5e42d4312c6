import { describe, expect, it } from "vitest";
import type { Actor, Role } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { ApiTokenCreated } from "./events.ts";
import { type CreateApiToken, evolveToken, type RotateApiTokenSecret, tokenDecider } from "./token.ts";

const admin: Actor = { name: "admin", role: "ADMIN" };
const now = "2026-11-21T10:00:00.000Z";
const hash = "a".repeat(64);
const spec = specification(tokenDecider);

const create = (data: Partial<CreateApiToken["data"]> = {}): CreateApiToken => ({
  type: "CreateApiToken",
  data: {
    tokenId: "t1",
    name: "ci-bot",
    role: "EDITOR",
    projectId: "p1",
    secretHash: hash,
    projectExists: true,
    ...data,
  },
  actor: admin,
  now,
});

const created: ApiTokenCreated = {
  type: "ApiTokenCreated",
  data: { tokenId: "t1", name: "ci-bot", role: "EDITOR", projectId: "p1", secretHash: hash, at: now },
};

describe("API token", () => {
  describe("when it does not exist", () => {
    it("is created bound to an existing project, with only the secret's hash", () => {
      spec.given([]).when(create()).then([created]);
    });

    it("is created unbound to any project", () => {
      spec
        .given([])
        .when(create({ projectId: null, projectExists: false, role: "ADMIN" }))
        .then([{ type: "ApiTokenCreated", data: { ...created.data, projectId: null, role: "ADMIN" } }]);
    });

    it("becomes a token with its role and project", () => {
      spec
        .given([])
        .when(create({ name: "  ci-bot " }))
        .thenState((token) =>
          expect(token).toEqual({
            id: "t1",
            name: "ci-bot",
            role: "EDITOR",
            projectId: "p1",
            secretHash: hash,
            createdAt: now,
          }),
        );
    });

    it("refuses an empty name", () => {
      spec
        .given([])
        .when(create({ name: " " }))
        .thenThrows("VALIDATION", "name: must not be empty");
    });

    it("refuses an unknown role", () => {
      spec
        .given([])
        .when(create({ role: "OWNER" as Role }))
        .thenThrows("VALIDATION", "role: must be one of VIEWER, EDITOR, APPROVER, ADMIN (got OWNER)");
    });

    it("refuses a project that does not exist", () => {
      spec
        .given([])
        .when(create({ projectExists: false }))
        .thenThrows("NOT_FOUND", "project p1 not found");
    });

    it("refuses anything but a SHA-256 hex digest as the secret hash, so a raw secret is never stored", () => {
      spec
        .given([])
        .when(create({ secretHash: "s3cret" }))
        .thenThrows("INTERNAL", "SHA-256");
    });
  });

  describe("when it exists", () => {
    it("refuses to be created again", () => {
      spec.given([created]).when(create()).thenThrows("CONFLICT", "API token t1 already exists");
    });

    it("gets a new secret: only the new hash is recorded, and the token now answers to it", () => {
      const rotate: RotateApiTokenSecret = {
        type: "RotateApiTokenSecret",
        data: { tokenId: "t1", secretHash: "b".repeat(64) },
        actor: { name: "system", role: "ADMIN" },
        now,
      };
      spec
        .given([created])
        .when(rotate)
        .then([{ type: "ApiTokenSecretRotated", data: { tokenId: "t1", secretHash: "b".repeat(64), at: now } }]);
      spec
        .given([created])
        .when(rotate)
        .thenState((token) => expect(token?.secretHash).toBe("b".repeat(64)));
    });

    it("rotating to the secret it already has records nothing", () => {
      spec
        .given([created])
        .when({ type: "RotateApiTokenSecret", data: { tokenId: "t1", secretHash: hash }, actor: admin, now })
        .then([]);
    });
  });

  describe("rotating a token that does not exist", () => {
    it("is refused as NOT_FOUND", () => {
      spec
        .given([])
        .when({ type: "RotateApiTokenSecret", data: { tokenId: "t1", secretHash: hash }, actor: admin, now })
        .thenThrows("NOT_FOUND", "API token t1 not found");
    });
  });

  it("evolveToken builds the token for read models", () => {
    expect(evolveToken(null, created)?.secretHash).toBe(hash);
  });
});

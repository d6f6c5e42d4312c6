import { describe, expect, it } from "vitest";
import type { Actor, Role } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { ApiTokenCreated, ApiTokenRevoked } from "./events.ts";
import {
  activeTokenNamed,
  type CreateApiToken,
  evolveToken,
  isTokenActive,
  normalizeTokenName,
  type RevokeApiToken,
  type RotateApiTokenSecret,
  sameActor,
  tokenDecider,
} from "./token.ts";

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
  data: {
    tokenId: "t1",
    name: "ci-bot",
    role: "EDITOR",
    projectId: "p1",
    secretHash: hash,
    at: now,
    createdBy: "admin",
    expiresAt: null,
  },
};

const revoke: RevokeApiToken = { type: "RevokeApiToken", data: { tokenId: "t1" }, actor: admin, now };
const revokedEvent: ApiTokenRevoked = { type: "ApiTokenRevoked", data: { tokenId: "t1", by: "admin", at: now } };

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
            createdBy: "admin",
            expiresAt: null,
            revokedAt: null,
            revokedBy: null,
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

  describe("names", () => {
    it("refuses the reserved names system and unknown, in any case or width", () => {
      for (const name of ["system", " System ", "ＳＹＳＴＥＭ", "unknown", "UNKNOWN"]) {
        spec.given([]).when(create({ name })).thenThrows("VALIDATION", "is reserved");
      }
    });

    it("refuses a name over 200 characters", () => {
      spec
        .given([])
        .when(create({ name: "n".repeat(201) }))
        .thenThrows("VALIDATION", "name: must be at most 200 characters");
    });

    it("stores the name NFKC-normalised (full-width letters become ASCII) and trimmed, keeping its case", () => {
      spec
        .given([])
        .when(create({ name: " Ａｍｙ " }))
        .thenState((token) => expect(token?.name).toBe("Amy"));
    });

    it("compares names NFKC, trimmed and case-insensitively", () => {
      expect(normalizeTokenName(" Amy ")).toBe("amy");
      expect(sameActor("Eve", "eve")).toBe(true);
      expect(sameActor("ｅｖｅ", "EVE")).toBe(true);
      expect(sameActor("eve", "evé")).toBe(false);
    });
  });

  describe("expiry", () => {
    it("records a future expiry", () => {
      const expiresAt = "2026-12-01T00:00:00.000Z";
      spec
        .given([])
        .when(create({ expiresAt }))
        .then([{ type: "ApiTokenCreated", data: { ...created.data, expiresAt } }]);
    });

    it("refuses an expiry that is not in the future", () => {
      spec
        .given([])
        .when(create({ expiresAt: now }))
        .thenThrows("VALIDATION", "expiresAt: must be in the future");
    });

    it("a token is active until its expiry passes or it is revoked", () => {
      const token = evolveToken(null, {
        ...created,
        data: { ...created.data, expiresAt: "2026-11-21T11:00:00.000Z" },
      });
      if (token === null) throw new Error("no token");
      expect(isTokenActive(token, new Date("2026-11-21T10:59:59.999Z"))).toBe(true);
      expect(isTokenActive(token, new Date("2026-11-21T11:00:00.000Z"))).toBe(false);
      const revoked = evolveToken(token, revokedEvent);
      expect(revoked === null ? true : isTokenActive(revoked, new Date(now))).toBe(false);
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

    it("is revoked by an ADMIN, recording who and when", () => {
      spec.given([created]).when(revoke).then([revokedEvent]);
    });

    it("revoking it again changes nothing", () => {
      spec.given([created, revokedEvent]).when(revoke).then([]);
    });
  });

  describe("when it is missing", () => {
    it("cannot be revoked", () => {
      spec.given([]).when(revoke).thenThrows("NOT_FOUND", "API token t1 not found");
    });
  });

  describe("activeTokenNamed", () => {
    it("finds an active token by any spelling of its name, and no revoked or expired one", () => {
      const token = evolveToken(null, created);
      if (token === null) throw new Error("no token");
      const lookup = { tokenByName: (name: string) => (name === "ci-bot" ? token : null) };
      expect(activeTokenNamed(lookup, " CI-BOT ", new Date(now))?.role).toBe("EDITOR");
      expect(activeTokenNamed(lookup, "someone", new Date(now))).toBeNull();
      const revoked = evolveToken(token, revokedEvent);
      const revokedLookup = { tokenByName: () => revoked };
      expect(activeTokenNamed(revokedLookup, "ci-bot", new Date(now))).toBeNull();
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

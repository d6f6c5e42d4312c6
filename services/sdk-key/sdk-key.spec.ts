import { describe, expect, it } from "vitest";
import type { Actor } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { SdkKeyCreated, SdkKeyRevoked } from "./events.ts";
import { type CreateSdkKey, evolveSdkKey, type RevokeSdkKey, sdkKeyDecider } from "./sdk-key.ts";

const admin: Actor = { name: "admin", role: "ADMIN" };
const now = "2026-11-29T10:00:00.000Z";
const later = "2026-11-29T11:00:00.000Z";
const hash = "b".repeat(64);
const spec = specification(sdkKeyDecider);

const create = (data: Partial<CreateSdkKey["data"]> = {}): CreateSdkKey => ({
  type: "CreateSdkKey",
  data: {
    keyId: "k1",
    projectId: "p1",
    environment: "production",
    name: " checkout-service ",
    secretHash: hash,
    projectEnvironments: ["staging", "production"],
    ...data,
  },
  actor: admin,
  now,
});
const revoke: RevokeSdkKey = { type: "RevokeSdkKey", data: {}, actor: admin, now: later };

const created: SdkKeyCreated = {
  type: "SdkKeyCreated",
  data: {
    keyId: "k1",
    projectId: "p1",
    environment: "production",
    name: "checkout-service",
    secretHash: hash,
    at: now,
    by: "admin",
  },
};
const revoked: SdkKeyRevoked = { type: "SdkKeyRevoked", data: { keyId: "k1", at: later, by: "admin" } };

describe("SDK key", () => {
  describe("when it does not exist", () => {
    it("is created for an environment of the project, with only the secret's hash and a trimmed name", () => {
      spec.given([]).when(create()).then([created]);
    });

    it("refuses an environment the project does not have, naming the field and the environments", () => {
      spec
        .given([])
        .when(create({ environment: "prod" }))
        .thenThrows("VALIDATION", "staging, production");
    });

    it("refuses a blank or too long name", () => {
      spec
        .given([])
        .when(create({ name: "  " }))
        .thenThrows("VALIDATION", "name");
      spec
        .given([])
        .when(create({ name: "x".repeat(201) }))
        .thenThrows("VALIDATION", "at most 200");
    });

    it("refuses anything but a SHA-256 digest as the stored secret (a raw secret never reaches the log)", () => {
      spec
        .given([])
        .when(create({ secretHash: "rp_sdk_raw-secret" }))
        .thenThrows("INTERNAL");
    });

    it("cannot be revoked", () => {
      spec.given([]).when(revoke).thenThrows("NOT_FOUND");
    });
  });

  describe("when it exists", () => {
    it("is revoked, by whom and when", () => {
      spec.given([created]).when(revoke).then([revoked]);
      const state = evolveSdkKey(evolveSdkKey(null, created), revoked);
      expect(state).toMatchObject({ revokedAt: later, revokedBy: "admin", secretHash: hash });
    });

    it("cannot be created again", () => {
      spec.given([created]).when(create()).thenThrows("CONFLICT");
    });
  });

  describe("when it is revoked", () => {
    it("refuses a second revocation, saying when it was revoked", () => {
      spec.given([created, revoked]).when(revoke).thenThrows("INVALID_STATE", later);
    });
  });
});

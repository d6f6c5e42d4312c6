import { describe, expect, it } from "vitest";
import type { Actor } from "../core/model.ts";
import { specification } from "../core/testing/specification.ts";
import type { DeliveryEvent, WebhookCreated } from "./events.ts";
import { openSecret, sealSecret, signatureOf, webhookKeyFrom } from "./secrets.ts";
import { type CreateWebhook, type Delivery, evolveDelivery, webhookDecider } from "./webhook.ts";

const admin: Actor = { name: "admin", role: "ADMIN" };
const now = "2026-11-29T10:00:00.000Z";
const key = webhookKeyFrom("k".repeat(40));
const sealed = sealSecret(key, "whsec_test");
const spec = specification(webhookDecider);

const create = (data: Partial<CreateWebhook["data"]> = {}): CreateWebhook => ({
  type: "CreateWebhook",
  data: {
    webhookId: "w1",
    projectId: "p1",
    url: "https://hooks.example.com/x",
    events: ["RELEASE_COMPLETED"],
    secret: sealed,
    projectExists: true,
    webhooksInProject: 0,
    ...data,
  },
  actor: admin,
  now,
});

const created: WebhookCreated = {
  type: "WebhookCreated",
  data: {
    webhookId: "w1",
    projectId: "p1",
    url: "https://hooks.example.com/x",
    events: ["RELEASE_COMPLETED"],
    secret: sealed,
    by: "admin",
    at: now,
  },
};

describe("a webhook that does not exist", () => {
  it("is created with its URL normalised and its events in the contract's order, deduplicated", () => {
    spec
      .given([])
      .when(
        create({
          url: " HTTPS://Hooks.Example.com/x ",
          events: ["FREEZE_CHANGED", "APPROVAL_REQUESTED", "FREEZE_CHANGED"],
        }),
      )
      .then([
        {
          type: "WebhookCreated",
          data: {
            ...created.data,
            url: "https://hooks.example.com/x",
            events: ["APPROVAL_REQUESTED", "FREEZE_CHANGED"],
          },
        },
      ]);
  });

  it.each([
    ["ftp://hooks.example.com", "url"],
    ["https://u:p@hooks.example.com", "url"],
    ["not a url", "url"],
    ["", "url"],
  ])("refuses the URL %j", (url, field) => {
    spec.given([]).when(create({ url })).thenThrows("VALIDATION", field);
  });

  it("refuses no events and unknown events", () => {
    spec
      .given([])
      .when(create({ events: [] }))
      .thenThrows("VALIDATION", "events");
    spec
      .given([])
      .when(create({ events: ["RELEASE_EXPLODED" as never] }))
      .thenThrows("VALIDATION", "events");
  });

  it("refuses a missing project, and a project at its webhook bound", () => {
    spec
      .given([])
      .when(create({ projectExists: false }))
      .thenThrows("NOT_FOUND", "p1");
    spec
      .given([])
      .when(create({ webhooksInProject: 20 }))
      .thenThrows("VALIDATION", "20");
  });

  it("refuses a secret that is not sealed", () => {
    spec
      .given([])
      .when(create({ secret: { keyId: "plain", sealed: "whsec_x" } }))
      .thenThrows("INTERNAL", "sealed");
  });
});

describe("an existing webhook", () => {
  it("is deleted once; deleting it again stores nothing", () => {
    const deleted = { type: "WebhookDeleted" as const, data: { webhookId: "w1", by: "admin", at: now } };
    spec
      .given([created])
      .when({ type: "DeleteWebhook", data: { webhookId: "w1" }, actor: admin, now })
      .then([deleted]);
    spec
      .given([created, deleted])
      .when({ type: "DeleteWebhook", data: { webhookId: "w1" }, actor: admin, now })
      .then([]);
  });

  it("cannot be created twice", () => {
    spec.given([created]).when(create()).thenThrows("CONFLICT", "w1");
  });
});

describe("signing secrets", () => {
  it("open only under the key that sealed them, and sign as GitHub does (sha256=<hex HMAC of the body>)", () => {
    expect(openSecret(key, sealed)).toBe("whsec_test");
    expect(() => openSecret(webhookKeyFrom("another key of 32 characters or more"), sealed)).toThrow(
      /WEBHOOK_SECRET_KEY/,
    );
    const tampered = { ...sealed, sealed: `${sealed.sealed.slice(0, -2)}AA` };
    expect(() => openSecret(key, tampered)).toThrow();
    // RFC 4231 test case 2.
    expect(signatureOf("Jefe", "what do ya want for nothing?")).toBe(
      "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });
});

describe("a delivery", () => {
  const base = {
    deliveryId: "d1",
    webhookId: "w1",
    projectId: "p1",
    event: "RELEASE_COMPLETED" as const,
    releaseId: "f.1",
    sourceEventId: "e1",
  };
  const attempt = (n: number, statusCode: number | null, at = now): DeliveryEvent => ({
    type: "WebhookDeliveryAttempted",
    data: {
      ...base,
      attempt: n,
      statusCode,
      ok: statusCode === 200,
      error: statusCode === null ? "refused" : null,
      at,
    },
  });
  const fold = (events: DeliveryEvent[]): Delivery | null => events.reduce<Delivery | null>(evolveDelivery, null);

  it("is PENDING while attempts fail, DELIVERED at the first 2xx, and stays so whatever comes late", () => {
    expect(fold([attempt(1, 503), attempt(2, null)])).toMatchObject({
      status: "PENDING",
      attempts: 2,
      lastStatusCode: null,
      lastError: "refused",
    });
    const delivered = fold([attempt(1, 503), attempt(2, 200, "2026-11-29T10:00:20.000Z"), attempt(2, 200)]);
    expect(delivered).toMatchObject({ status: "DELIVERED", attempts: 2, lastStatusCode: 200 });
    expect(
      fold([attempt(1, 200), { type: "WebhookDeliveryFailed", data: { ...base, reason: "late", at: now } }])?.status,
    ).toBe("DELIVERED");
  });

  it("is FAILED once given up", () => {
    expect(
      fold([attempt(1, 500), { type: "WebhookDeliveryFailed", data: { ...base, reason: "gave up", at: now } }]),
    ).toMatchObject({ status: "FAILED", attempts: 1, lastStatusCode: 500, lastError: "gave up" });
  });
});

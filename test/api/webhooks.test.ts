// Webhooks through the API: ADMIN only, URLs validated with nothing written on a refusal, the signing
// secret shown once and never stored in the clear, another project's webhooks answer as missing ones.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, createToken } from "./documents.ts";
import { startTestApi, type TestApi } from "./harness.ts";

let api: TestApi;
let projectA: string;
let projectB: string;
let editor: string;
let adminOfB: string;

const CREATE = /* GraphQL */ `
  mutation($projectId: ID!, $url: String!, $events: [WebhookEvent!]!) {
    createWebhook(projectId: $projectId, url: $url, events: $events) {
      secret
      webhook { id url events createdAt project { id } deliveries { id } }
    }
  }`;
const DELETE = /* GraphQL */ `mutation($id: ID!) { deleteWebhook(id: $id) { id url } }`;
const LIST = /* GraphQL */ `query($id: ID!) { project(id: $id) { webhooks { id url events } } }`;

interface Created {
  createWebhook: { secret: string; webhook: { id: string; url: string; events: string[]; project: { id: string } } };
}

beforeAll(async () => {
  api = await startTestApi({ worker: false });
  projectA = await createProject(api, "A");
  projectB = await createProject(api, "B");
  editor = await createToken(api, "eddie", "EDITOR");
  adminOfB = await createToken(api, "bea", "ADMIN", projectB);
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe("createWebhook", () => {
  it("creates a webhook, shows its secret once and stores it only sealed", async () => {
    const created = await api.ok<Created>(CREATE, {
      projectId: projectA,
      url: "https://hooks.example.com/releases?team=checkout",
      events: ["RELEASE_COMPLETED", "APPROVAL_REQUESTED", "APPROVAL_REQUESTED"],
    });
    const { secret, webhook } = created.createWebhook;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(webhook.url).toBe("https://hooks.example.com/releases?team=checkout");
    expect(webhook.events).toEqual(["APPROVAL_REQUESTED", "RELEASE_COMPLETED"]);
    expect(webhook.project.id).toBe(projectA);
    const log = JSON.stringify((await api.store.readAll()).map((e) => [e.type, e.data, e.metadata]));
    expect(log).toContain(webhook.id);
    expect(log).not.toContain(secret);
    expect(log).not.toContain(secret.slice(6));
    const listed = await api.ok<{ project: { webhooks: { id: string }[] } }>(LIST, { id: projectA });
    expect(listed.project.webhooks.map((w) => w.id)).toContain(webhook.id);
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it.each([
    ["ftp://files.example.com/hook", "url"],
    ["https://user:pa55@hooks.example.com/x", "url"],
    ["https://:token@hooks.example.com/x", "url"],
    ["/relative/path", "url"],
    ["javascript:alert(1)", "url"],
    [`https://hooks.example.com/${"a".repeat(2_001)}`, "url"],
  ])("refuses the URL %.40s with VALIDATION and writes nothing", async (url, field) => {
    const head = await api.store.headPosition();
    const result = await api.gql(CREATE, { projectId: projectA, url, events: ["RELEASE_COMPLETED"] });
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["VALIDATION"]);
    expect(result.errors?.[0]?.extensions?.field).toBe(field);
    expect(await api.store.headPosition()).toBe(head);
  });

  it("refuses an empty event list with VALIDATION", async () => {
    const head = await api.store.headPosition();
    const result = await api.gql(CREATE, { projectId: projectA, url: "https://hooks.example.com", events: [] });
    expect(result.errors?.map((e) => e.extensions)).toEqual([
      expect.objectContaining({ code: "VALIDATION", field: "events" }),
    ]);
    expect(await api.store.headPosition()).toBe(head);
  });

  it("is ADMIN only, and another project's token sees neither the project nor its webhooks", async () => {
    const variables = { projectId: projectA, url: "https://hooks.example.com/a", events: ["RELEASE_ABORTED"] };
    const byEditor = await api.gql(CREATE, variables, editor);
    expect(byEditor.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    const byOtherProject = await api.gql(CREATE, variables, adminOfB);
    expect(byOtherProject.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    const missing = await api.gql(CREATE, { ...variables, projectId: "no-such-project" });
    expect(missing.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    const list = await api.gql<{ project: { webhooks: unknown[] } | null }>(LIST, { id: projectA }, editor);
    expect(list.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
  });
});

describe("deleteWebhook", () => {
  it("removes the webhook from the project's list; deleting again answers it unchanged", async () => {
    const created = await api.ok<Created>(CREATE, {
      projectId: projectB,
      url: "http://127.0.0.1:9/hook",
      events: ["FREEZE_CHANGED"],
    });
    const { id } = created.createWebhook.webhook;
    const otherProject = await api.gql(DELETE, { id }, await createToken(api, "ann", "ADMIN", projectA));
    expect(otherProject.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
    const byEditor = await api.gql(DELETE, { id }, editor);
    expect(byEditor.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    expect((await api.ok<{ deleteWebhook: { id: string } }>(DELETE, { id }, adminOfB)).deleteWebhook.id).toBe(id);
    const head = await api.store.headPosition();
    expect((await api.ok<{ deleteWebhook: { id: string } }>(DELETE, { id })).deleteWebhook.id).toBe(id);
    expect(await api.store.headPosition()).toBe(head);
    const listed = await api.ok<{ project: { webhooks: { id: string }[] } }>(LIST, { id: projectB });
    expect(listed.project.webhooks.map((w) => w.id)).not.toContain(id);
    const unknown = await api.gql(DELETE, { id: "no-such-webhook" });
    expect(unknown.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
  });
});

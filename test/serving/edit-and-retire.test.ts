// Edit and retire reach SDK configurations: an archived feature leaves the document (and the stream sends
// a patch removing it), unarchiving brings it back; an environment the project gains serves every
// existing feature disabled with no value; a segment's new values reach the document at once.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject } from "../api/documents.ts";
import { startTestApi, type TestApi } from "../api/harness.ts";
import { openStream } from "./sse-client.ts";

let api: TestApi;
let base: string;
let projectId: string;
let promoId: string;
let secret: string;

interface Doc {
  version: string;
  segments: { key: string; values: string[] }[];
  features: { key: string; definition: { enabled: boolean; value: unknown; rules: unknown[] } }[];
}

const keyFor = async (environment: string): Promise<string> =>
  (
    await api.ok<{ createSdkKey: { secret: string } }>(
      `mutation($p: ID!, $e: String!) { createSdkKey(projectId: $p, environment: $e, name: $e) { secret } }`,
      { p: projectId, e: environment },
    )
  ).createSdkKey.secret;

const config = async (key: string): Promise<Doc> =>
  (await fetch(`${base}/sdk/v1/config`, { headers: { authorization: `Bearer ${key}` } })).json() as Promise<Doc>;

beforeAll(async () => {
  api = await startTestApi({ worker: false });
  base = api.url.replace(/\/graphql$/, "");
  projectId = await createProject(api, "Retire");
  const created = await api.ok<{ createFeature: { id: string } }>(
    `mutation($p: ID!) { createFeature(input: { projectId: $p, key: "promo", kind: GATE, environments: [{ environment: "production", definition: { enabled: true } }] }) { id } }`,
    { p: projectId },
  );
  promoId = created.createFeature.id;
  await api.ok(`mutation($p: ID!) { createFeature(input: { projectId: $p, key: "other", kind: GATE }) { id } }`, {
    p: projectId,
  });
  secret = await keyFor("production");
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe("SDK configurations after edits", () => {
  it("an archived feature leaves the document and the stream; unarchived, it comes back", async () => {
    expect((await config(secret)).features.map((f) => f.key)).toEqual(["promo", "other"]);
    const stream = await openStream(base, secret);
    await stream.next((e) => e.event === "put");
    await api.ok(`mutation($id: ID!) { archiveFeature(id: $id, reason: "over") { id } }`, { id: promoId });
    const patch = JSON.parse((await stream.next((e) => e.event === "patch")).data) as { removed: string[] };
    expect(patch.removed).toEqual(["promo"]);
    expect((await config(secret)).features.map((f) => f.key)).toEqual(["other"]);
    stream.close();
    await api.ok(`mutation($id: ID!) { unarchiveFeature(id: $id) { id } }`, { id: promoId });
    expect((await config(secret)).features.find((f) => f.key === "promo")?.definition.enabled).toBe(true);
  });

  it("a new environment serves every existing feature disabled with no value", async () => {
    await api.ok(`mutation($p: ID!) { addEnvironment(projectId: $p, name: "eu-prod") { id } }`, { p: projectId });
    const doc = await config(await keyFor("eu-prod"));
    expect(doc.features.map((f) => [f.key, f.definition])).toEqual([
      ["promo", { enabled: false, value: null, rules: [] }],
      ["other", { enabled: false, value: null, rules: [] }],
    ]);
  });

  it("a segment's new values reach the document at once", async () => {
    const before = await config(secret);
    await api.ok(
      `mutation($p: ID!) { upsertSegment(projectId: $p, input: { key: "us-west", attribute: "region", operator: IN, values: ["us-west-9"] }) { id } }`,
      { p: projectId },
    );
    const after = await config(secret);
    expect(after.version).not.toBe(before.version);
    expect(after.segments.find((s) => s.key === "us-west")?.values).toEqual(["us-west-9"]);
  });
});

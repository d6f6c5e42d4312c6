// API token names are unique across the installation: a name is the actor of every event a token stores
// and the identity an approval counts, so two tokens with one name would be one person twice (or two
// people as one). The token's id derives from its name, so even concurrent creations cannot both win.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, createToken } from "./documents.ts";
import { startTestApi, type TestApi } from "./harness.ts";

let api: TestApi;
let projectA: string;

const CREATE = /* GraphQL */ `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { name secret } }`;

const tokenEvents = async (): Promise<unknown[]> =>
  (await api.store.readAll()).filter((event) => event.type === "ApiTokenCreated").map((event) => event.data);

beforeAll(async () => {
  api = await startTestApi({ worker: false });
  projectA = await createProject(api, "A");
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe("token names", () => {
  it("a second token with a taken name answers CONFLICT and writes nothing, whatever its role or project", async () => {
    await createToken(api, "bob", "APPROVER", projectA);
    const head = await api.store.headPosition();
    for (const input of [
      { name: "bob", role: "APPROVER", projectId: projectA },
      { name: "bob", role: "EDITOR", projectId: null },
      { name: "  bob ", role: "VIEWER", projectId: projectA },
    ]) {
      const result = await api.gql(CREATE, { input });
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["CONFLICT"]);
      expect(result.errors?.[0]?.message).toContain('"bob"');
    }
    expect(await api.store.headPosition()).toBe(head);
  });

  it("the bootstrap token holds the name admin", async () => {
    const result = await api.gql(CREATE, { input: { name: "admin", role: "VIEWER" } });
    expect(result.errors?.[0]?.extensions?.code).toBe("CONFLICT");
  });

  it("concurrent creations of one name: exactly one token is stored", async () => {
    const before = (await tokenEvents()).length;
    const results = await Promise.all(
      ["APPROVER", "EDITOR", "VIEWER", "APPROVER"].map((role) =>
        api.gql<{ createApiToken: { secret: string } }>(CREATE, {
          input: { name: "carol", role, projectId: projectA },
        }),
      ),
    );
    const won = results.filter((r) => r.errors === undefined);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === "CONFLICT")).toHaveLength(3);
    expect((await tokenEvents()).length).toBe(before + 1);
    const secret = won[0]?.data?.createApiToken.secret ?? "";
    const me = await api.ok<{ viewer: { tokenName: string } }>(`{ viewer { tokenName } }`, {}, secret);
    expect(me.viewer.tokenName).toBe("carol");
  });

  it("names that differ only in case or Unicode width are one name: CONFLICT, nothing written", async () => {
    await createToken(api, "dave", "APPROVER", projectA);
    const head = await api.store.headPosition();
    for (const name of ["Dave", " DAVE", "ｄａｖｅ"]) {
      const result = await api.gql(CREATE, { input: { name, role: "APPROVER", projectId: projectA } });
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["CONFLICT"]);
    }
    expect(await api.store.headPosition()).toBe(head);
    // Different names are different tokens.
    expect(await createToken(api, "dave2", "APPROVER", projectA)).not.toBe(await createToken(api, "eve", "APPROVER"));
  });
});

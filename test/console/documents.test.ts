// Every GraphQL document the console sends is valid against the server's schema — the check a codegen
// step would make (decision 0018). The pages for fields other branches add (SDK keys, API tokens) are
// validated against the schema extended with their contract-next names until the real fields exist.

import { extendSchema, type GraphQLSchema, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import * as documents from "../../console/src/documents.ts";
import { schema } from "../../schema/index.ts";

// contract-next "Serving" and "Tokens and limits", as far as the console uses them.
const NEXT: Record<string, string> = {
  sdkKeys: /* GraphQL */ `
    type SdkKey { id: ID! name: String! project: Project! environment: String! createdAt: DateTime! createdBy: String! revokedAt: DateTime }
    type CreatedSdkKey { key: SdkKey! secret: String! }
    extend type Project { sdkKeys(includeRevoked: Boolean = false): [SdkKey!]! }
    extend type Mutation {
      createSdkKey(projectId: ID!, environment: String!, name: String!): CreatedSdkKey!
      revokeSdkKey(id: ID!): SdkKey!
    }`,
  apiTokens: /* GraphQL */ `
    type ApiToken { id: ID! name: String! role: Role! projectId: ID createdAt: DateTime! createdBy: String! expiresAt: DateTime revokedAt: DateTime }
    extend type Query { apiTokens(projectId: ID, includeRevoked: Boolean = false): [ApiToken!]! }
    extend type Mutation { revokeApiToken(id: ID!): ApiToken! }`,
};

function withContractNext(base: GraphQLSchema): GraphQLSchema {
  let extended = base;
  if (base.getType("SdkKey") === undefined) extended = extendSchema(extended, parse(NEXT.sdkKeys ?? ""));
  if (base.getType("ApiToken") === undefined) extended = extendSchema(extended, parse(NEXT.apiTokens ?? ""));
  return extended;
}

const NEXT_DOCUMENTS = new Set(["SDK_KEYS", "CREATE_SDK_KEY", "REVOKE_SDK_KEY", "API_TOKENS", "REVOKE_API_TOKEN"]);

const all: [string, string][] = [
  ...Object.entries(documents).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  ...(
    [
      "approveRelease",
      "pauseRelease",
      "unpauseRelease",
      "skipPhase",
      "abortRelease",
      "fullRollout",
      "rollbackToPhase",
      "breakGlass",
    ] as const
  ).map((field): [string, string] => [`actionDocument(${field})`, documents.actionDocument(field)]),
];

describe("the console's GraphQL documents", () => {
  it("are found (every exported document and each release action)", () => {
    expect(all.length).toBeGreaterThan(30);
  });

  it.each(all)("%s is valid against the schema", (name, source) => {
    const target = NEXT_DOCUMENTS.has(name) ? withContractNext(schema) : schema;
    expect(validate(target, parse(source)).map((error) => error.message)).toEqual([]);
  });
});

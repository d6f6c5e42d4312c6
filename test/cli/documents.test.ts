// Every action document rp sends is valid against the server's schema (break-glass's reason is required).

import { parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { ACTIONS, type ActionName, actionDocument } from "../../cli/documents.ts";
import { schema } from "../../schema/index.ts";

describe("rp's action documents", () => {
  it.each(Object.keys(ACTIONS) as ActionName[])("%s validates against the schema", (name) => {
    expect(validate(schema, parse(actionDocument(name))).map((error) => error.message)).toEqual([]);
  });

  it("break-glass declares its reason as required", () => {
    expect(actionDocument("break-glass")).toContain("$text: String!");
    expect(actionDocument("break-glass")).toContain("breakGlass(id: $id, reason: $text)");
  });
});

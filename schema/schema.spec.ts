// The printed schema is checked in (schema/schema.graphql): this fails when the code and the file differ.
// Run `npm run schema:print` after changing a type, and review the diff.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { printedSchema, SCHEMA_FILE } from "./print.ts";

describe("schema/schema.graphql", () => {
  it("is the schema the code builds (run `npm run schema:print` to update it)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(printedSchema());
  });
});

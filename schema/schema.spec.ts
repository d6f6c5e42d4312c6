// The printed schema (schema/schema.graphql) and the API reference generated from it (docs/api.md) are
// checked in: this fails when the code and the files differ. Run `npm run schema:print` after changing a
// type, and review the diff. Every part of the schema a client meets has a description.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { schema } from "./index.ts";
import { printedReference, printedSchema, REFERENCE_FILE, SCHEMA_FILE } from "./print.ts";
import { missingDescriptions, renderReference } from "./reference.ts";

describe("schema/schema.graphql", () => {
  it("is the schema the code builds (run `npm run schema:print` to update it)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(printedSchema());
  });
});

describe("docs/api.md", () => {
  it("is the reference the code's schema renders (run `npm run schema:print` to update it)", () => {
    expect(readFileSync(REFERENCE_FILE, "utf8")).toBe(printedReference());
  });

  it("documents every type, field, argument, input field and enum value", () => {
    expect(missingDescriptions(schema)).toEqual([]);
  });

  it("has a section for every type and root field, and links only to sections it has", () => {
    const reference = renderReference(schema);
    const headings = new Set(
      [...reference.matchAll(/^#{2,3} (.+)$/gm)].map((match) =>
        (match[1] ?? "").toLowerCase().replace(/[^a-z0-9_-]/g, ""),
      ),
    );
    for (const name of ["Release", "ReleasePhase", "ErrorCode", "Duration"])
      expect(headings).toContain(name.toLowerCase());
    for (const root of ["query.release", "mutation.approverelease", "subscription.releaseupdated"]) {
      expect(headings).toContain(root.replace(".", ""));
    }
    const links = [...reference.matchAll(/\]\(#([a-z0-9_-]+)\)/g)].map((match) => match[1]);
    expect(links.filter((link) => !headings.has(link ?? ""))).toEqual([]);
  });
});

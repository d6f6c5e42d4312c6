// `npm run schema:print`: writes the printed schema to schema/schema.graphql (checked in; schema.spec.ts
// fails when the code and the file differ). `npm run schema:check` (CI) only compares, and exits 1 on drift.

import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { printSchema } from "graphql";
import { schema } from "./index.ts";

export const SCHEMA_FILE = fileURLToPath(new URL("./schema.graphql", import.meta.url));

/** The schema as SDL, in the order the type files declare it. */
export const printedSchema = (): string => `${printSchema(schema)}\n`;

if (import.meta.main) {
  if (process.argv.includes("--check")) {
    if (readFileSync(SCHEMA_FILE, "utf8") !== printedSchema()) {
      process.stderr.write(
        "schema/schema.graphql differs from the code's schema: run `npm run schema:print` and review the diff\n",
      );
      process.exit(1);
    }
    process.stdout.write("schema/schema.graphql matches the code\n");
  } else {
    writeFileSync(SCHEMA_FILE, printedSchema());
    process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
  }
}

// `npm run schema:print`: writes the printed schema to schema/schema.graphql (checked in; schema.spec.ts
// fails when the code and the file differ).

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { printSchema } from "graphql";
import { schema } from "./index.ts";

export const SCHEMA_FILE = fileURLToPath(new URL("./schema.graphql", import.meta.url));

/** The schema as SDL, in the order the type files declare it. */
export const printedSchema = (): string => `${printSchema(schema)}\n`;

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, printedSchema());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}

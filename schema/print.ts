// `npm run schema:print`: writes the printed schema to schema/schema.graphql and the API reference generated
// from its descriptions to docs/api.md (both checked in; schema.spec.ts fails when the code and the files
// differ). `npm run schema:check` (CI) only compares, and exits 1 on drift of either.

import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { printSchema } from "graphql";
import { schema } from "./index.ts";
import { renderReference } from "./reference.ts";

export const SCHEMA_FILE = fileURLToPath(new URL("./schema.graphql", import.meta.url));
export const REFERENCE_FILE = fileURLToPath(new URL("../docs/api.md", import.meta.url));

/** The schema as SDL, in the order the type files declare it. */
export const printedSchema = (): string => `${printSchema(schema)}\n`;

/** docs/api.md as the code's schema renders it. */
export const printedReference = (): string => renderReference(schema);

const read = (file: string): string | null => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
};

if (import.meta.main) {
  const outputs = [
    { file: SCHEMA_FILE, name: "schema/schema.graphql", text: printedSchema() },
    { file: REFERENCE_FILE, name: "docs/api.md", text: printedReference() },
  ];
  if (process.argv.includes("--check")) {
    const stale = outputs.filter((output) => read(output.file) !== output.text);
    for (const output of stale) {
      process.stderr.write(
        `${output.name} differs from the code's schema: run \`npm run schema:print\` and review the diff\n`,
      );
    }
    if (stale.length > 0) process.exit(1);
    process.stdout.write("schema/schema.graphql and docs/api.md match the code\n");
  } else {
    for (const output of outputs) {
      writeFileSync(output.file, output.text);
      process.stdout.write(`wrote ${output.file}\n`);
    }
  }
}

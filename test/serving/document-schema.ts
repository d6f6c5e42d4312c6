// The published JSON Schema of the SDK configuration document, compiled with Ajv: tests validate what
// the API serves against it (documents, and the change stream's patches).

import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";

const schemaPath = new URL("../../services/serving/config-document.schema.json", import.meta.url);
const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as { $id: string };

const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addSchema(schema);
const documentValidator = ajv.getSchema(schema.$id);
const patchValidator = ajv.getSchema(`${schema.$id}#/$defs/patch`);
if (!documentValidator || !patchValidator) throw new Error("the SDK document schema did not compile");

/** Throws with Ajv's errors unless `value` is a valid configuration document. */
export function assertValidDocument(value: unknown): void {
  if (!documentValidator?.(value)) {
    throw new Error(`invalid SDK document: ${ajv.errorsText(documentValidator?.errors, { separator: "; " })}`);
  }
}

/** Throws with Ajv's errors unless `value` is a valid change-stream patch. */
export function assertValidPatch(value: unknown): void {
  if (!patchValidator?.(value)) {
    throw new Error(`invalid SDK patch: ${ajv.errorsText(patchValidator?.errors, { separator: "; " })}`);
  }
}

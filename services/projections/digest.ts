// A stable fingerprint of everything the read models hold: the same log must give the same digest,
// whichever process built it and however it was fed (live, or a full replay).

import { createHash } from "node:crypto";
import type { ReadModels } from "./read-models.ts";

/** JSON with object keys sorted (undefined members dropped, as JSON.stringify does). */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return JSON.stringify(value.toString());
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? "null" : stableStringify(item))).join(",")}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined && typeof record[key] !== "function")
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(record[key])}`).join(",")}}`;
}

/** SHA-256 (hex) of the read models' canonical snapshot. */
export function digest(readModels: ReadModels): string {
  return createHash("sha256").update(stableStringify(readModels.snapshot())).digest("hex");
}

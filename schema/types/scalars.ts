// The contract's scalars. Input errors are thrown as DomainError VALIDATION; the API's error plugin names
// the argument or input field at fault (graphql-js only knows the value).

import { Kind, type ValueNode, valueFromASTUntyped } from "graphql";
import { formatDuration, MAX_WAIT_MS, parseDuration } from "../../services/core/duration.ts";
import { DomainError } from "../../services/core/errors.ts";
import { builder } from "../builder.ts";

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseDateTime(value: unknown): string {
  if (typeof value !== "string" || !ISO_INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
    throw new DomainError(
      "VALIDATION",
      `${JSON.stringify(value)} is not an ISO-8601 date-time with a time zone (e.g. 2026-11-21T10:00:00.000Z)`,
    );
  }
  return new Date(Date.parse(value)).toISOString();
}

/** Validates an ISO-8601 duration in (0, P365D] and returns its canonical text. */
export function parseDurationInput(value: unknown): string {
  const ms = typeof value === "string" ? parseDuration(value) : null;
  if (ms === null) {
    throw new DomainError(
      "VALIDATION",
      `${JSON.stringify(value)} is not an ISO-8601 duration (e.g. PT30M, PT2H, P1D; years and months are not accepted)`,
    );
  }
  if (ms <= 0) throw new DomainError("VALIDATION", `${JSON.stringify(value)} must be longer than zero`);
  if (ms > MAX_WAIT_MS) throw new DomainError("VALIDATION", `${JSON.stringify(value)} must be at most P365D`);
  return formatDuration(ms);
}

const literal = (node: ValueNode, variables?: Record<string, unknown> | null): unknown =>
  valueFromASTUntyped(node, variables ?? undefined);

builder.scalarType("DateTime", {
  description: 'ISO-8601 instant, UTC, e.g. "2026-11-21T10:00:00.000Z"',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(Date.parse(value)).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (node) => parseDateTime(node.kind === Kind.STRING ? node.value : literal(node)),
});

builder.scalarType("Duration", {
  description: 'ISO-8601 duration, e.g. "PT30M", "PT2H", "P1D"; > 0 and <= P365D',
  serialize: (value) => (typeof value === "number" ? formatDuration(value) : value),
  parseValue: parseDurationInput,
  parseLiteral: (node) => parseDurationInput(node.kind === Kind.STRING ? node.value : literal(node)),
});

builder.scalarType("JSON", {
  description: "Any JSON value.",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node, variables) => literal(node, variables),
});

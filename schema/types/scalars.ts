// The contract's scalars. Input errors are thrown as DomainError VALIDATION; the API's error plugin names
// the argument or input field at fault (graphql-js only knows the value).

import { Kind, type ValueNode, valueFromASTUntyped } from "graphql";
import { BOUNDS, jsonDepth } from "../../services/core/bounds.ts";
import { formatDuration, MAX_WAIT_MS, parseDuration } from "../../services/core/duration.ts";
import { DomainError } from "../../services/core/errors.ts";
import { builder } from "../builder.ts";

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

/**
 * A strict ISO-8601 instant: every field in its range (no 2026-02-30, no 24:00, no second 60, offsets up
 * to ±23:59) — `Date.parse` alone rolls impossible dates over into the next month.
 */
export function parseDateTime(value: unknown): string {
  const refuse = (why = ""): never => {
    throw new DomainError(
      "VALIDATION",
      `${JSON.stringify(typeof value === "string" ? value.slice(0, 100) : value)} is not an ISO-8601 date-time with a time zone (e.g. 2026-11-21T10:00:00.000Z)${why}`,
    );
  };
  if (typeof value !== "string" || value.length > 40) return refuse();
  const match = ISO_INSTANT.exec(value);
  if (match === null) return refuse();
  const [year, month, day, hour, minute, second, , offsetHours, offsetMinutes] = match
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  if ((month ?? 0) < 1 || (month ?? 0) > 12) return refuse(": no such month");
  if ((day ?? 0) < 1 || (day ?? 0) > daysIn(year ?? 0, month ?? 0)) return refuse(": no such day in that month");
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) return refuse(": no such time of day");
  if ((offsetHours ?? 0) > 23 || (offsetMinutes ?? 0) > 59) return refuse(": no such offset");
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return refuse();
  return new Date(ms).toISOString();
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

/** A JSON input nests at most BOUNDS.jsonDepth levels: checked without recursion, before anything walks it. */
function boundedJson(value: unknown): unknown {
  if (jsonDepth(value) > BOUNDS.jsonDepth) {
    throw new DomainError("VALIDATION", `a JSON value must be at most ${BOUNDS.jsonDepth} levels deep`);
  }
  return value;
}

builder.scalarType("JSON", {
  description: `Any JSON value, at most ${BOUNDS.jsonDepth} levels deep.`,
  serialize: (value) => value,
  parseValue: boundedJson,
  parseLiteral: (node, variables) => boundedJson(literal(node, variables)),
});

// Every bound on what a command may carry (PRODUCT.md "Tokens and limits"), in one place so the deciders,
// the API and the README agree. Each is checked by the decider that owns the field and refused with
// VALIDATION naming the field and the bound; nothing is written. Together they keep every release's
// workflow input and every event far below Temporal's 2 MB payload limit and EventStoreDB's 16 MB event
// limit (see docs/decisions/0031-bounds-and-payload-sizes.md for the arithmetic).

export const BOUNDS = {
  /** Names of projects, pipelines, phases, tokens; feature keys. */
  nameChars: 200,
  /** Descriptions, reasons and comments. */
  textChars: 2_000,
  phasesPerPipeline: 50,
  targetsPerPhase: 50,
  approvalsRequired: 20,
  environmentsPerProject: 100,
  segmentsPerProject: 100,
  valuesPerSegment: 1_000,
  /** A segment value's length. */
  segmentValueChars: 200,
  /** A definition's JSON value (and each rule's), serialised as JSON, in UTF-8 bytes. */
  jsonValueBytes: 64 * 1024,
  /** Nesting of a JSON value: a scalar is depth 0, `[1]` depth 1. */
  jsonDepth: 32,
  rulesPerDefinition: 200,
  /** A feature's definitions of every environment together, serialised as JSON (bytes). */
  definitionsBytes: 256 * 1024,
  /**
   * A release's state once every phase rolled out (its pipeline, definitions before and after, and the
   * definitions each phase rolled out to its targets), serialised as JSON: checked when it starts. The
   * workflow carries this state and answers it to every Update, under Temporal's 2 MB payload limit; the
   * other half is room for approvals and actions.
   */
  releaseStateBytes: 1024 * 1024,
  /** A URL a project gives (a webhook's). */
  urlChars: 2_000,
  webhooksPerProject: 20,
  /** A ramp's `every` (and a guardrail's `interval`): from 1 second to 1 day, in ms. */
  progressionIntervalMinMs: 1_000,
  progressionIntervalMaxMs: 86_400_000,
  guardrailsPerPhase: 10,
  /** A guardrail's URL and its Prometheus query, in characters. */
  guardrailUrlChars: 2_000,
  guardrailQueryChars: 2_000,
  /** Consecutive failures that trip a guardrail: 1 to this. */
  failuresToTrip: 100,
} as const;

/**
 * The nesting depth of a JSON-like value, walked without recursion (a 100,000-deep array must not
 * overflow the stack before it is refused). Stops counting once past `limit`.
 */
export function jsonDepth(value: unknown, limit: number = BOUNDS.jsonDepth): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== "object") continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    const children = Array.isArray(current) ? current : Object.values(current as Record<string, unknown>);
    for (const child of children) if (child !== null && typeof child === "object") stack.push([child, level]);
  }
  return deepest;
}

/** UTF-8 bytes of `text` (no Buffer or TextEncoder: this runs in the workflow sandbox too). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** UTF-8 bytes of `value` serialised as JSON. */
export const jsonBytes = (value: unknown): number => utf8Bytes(JSON.stringify(value) ?? "null");

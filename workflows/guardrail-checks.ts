// One run of a guardrail's check (the checkGuardrail activity): an HTTP probe or a Prometheus instant
// query. Never throws: a check that cannot run (unreachable, an error answer, no data) is reported with
// `couldRun: false`, which only ever pauses a release (decision 0041).

import type { Guardrail } from "../services/core/model.ts";

export interface GuardrailCheckResult {
  passed: boolean;
  couldRun: boolean;
  /** What was seen, for the release's guardrail state and the audit log (e.g. "HTTP 503"). */
  result: string;
}

/** How long one check may take: its interval, at most 10 s. */
export const checkTimeoutMs = (guardrail: Guardrail): number => Math.min(10_000, guardrail.intervalMs);

const causeOf = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
};

const isTimeout = (error: unknown): boolean =>
  error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");

async function probe(guardrail: Guardrail, timeoutMs: number): Promise<GuardrailCheckResult> {
  try {
    const response = await fetch(guardrail.url, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
      headers: { "user-agent": "release-pipelines-guardrail/1" },
    });
    await response.body?.cancel();
    const result = `HTTP ${response.status}`;
    return { passed: response.status >= 200 && response.status < 300, couldRun: true, result };
  } catch (error) {
    if (isTimeout(error)) return { passed: false, couldRun: true, result: `no answer within ${timeoutMs} ms` };
    return { passed: false, couldRun: false, result: `could not run: ${causeOf(error)}` };
  }
}

const COMPARE: Record<
  NonNullable<Guardrail["comparator"]>,
  { symbol: string; test: (a: number, b: number) => boolean }
> = {
  LT: { symbol: "<", test: (a, b) => a < b },
  LTE: { symbol: "<=", test: (a, b) => a <= b },
  GT: { symbol: ">", test: (a, b) => a > b },
  GTE: { symbol: ">=", test: (a, b) => a >= b },
};

/** The Prometheus HTTP API's instant-query endpoint for a guardrail's URL (a server's base URL, or the endpoint itself). */
export function queryEndpoint(url: string, query: string): string {
  const base = url.replace(/\/+$/, "");
  const endpoint = base.endsWith("/api/v1/query") ? base : `${base}/api/v1/query`;
  const target = new URL(endpoint);
  target.searchParams.set("query", query);
  return target.toString();
}

interface PrometheusAnswer {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** The first sample's value of an instant query's answer, or why there is none. */
function sampleOf(body: PrometheusAnswer): number | string {
  if (body.status !== "success")
    return `Prometheus answered ${body.status ?? "no status"}: ${body.error ?? "no error text"}`;
  const { resultType, result } = body.data ?? {};
  let raw: unknown;
  if (resultType === "vector" && Array.isArray(result)) {
    if (result.length === 0) return "no data (empty vector)";
    raw = (result[0] as { value?: unknown[] })?.value?.[1];
  } else if (resultType === "scalar" && Array.isArray(result)) {
    raw = result[1];
  } else {
    return `unsupported result type ${String(resultType)} (an instant vector or scalar is needed)`;
  }
  const value = typeof raw === "string" ? Number.parseFloat(raw) : Number.NaN;
  return Number.isFinite(value) ? value : `no numeric value (${String(raw)})`;
}

async function prometheus(guardrail: Guardrail, timeoutMs: number): Promise<GuardrailCheckResult> {
  const { query, comparator, threshold } = guardrail;
  if (query === null || comparator === null || threshold === null) {
    return { passed: false, couldRun: false, result: "could not run: query, comparator or threshold missing" };
  }
  let body: PrometheusAnswer;
  try {
    const response = await fetch(queryEndpoint(guardrail.url, query), {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: "application/json", "user-agent": "release-pipelines-guardrail/1" },
    });
    const text = await response.text();
    try {
      body = JSON.parse(text) as PrometheusAnswer;
    } catch {
      return { passed: false, couldRun: false, result: `could not run: HTTP ${response.status}, not JSON` };
    }
  } catch (error) {
    const why = isTimeout(error) ? `no answer within ${timeoutMs} ms` : causeOf(error);
    return { passed: false, couldRun: false, result: `could not run: ${why}` };
  }
  const value = sampleOf(body);
  if (typeof value === "string") return { passed: false, couldRun: false, result: `could not run: ${value}` };
  const { symbol, test } = COMPARE[comparator];
  const passed = test(value, threshold);
  return { passed, couldRun: true, result: `${value} ${passed ? symbol : `not ${symbol}`} ${threshold}` };
}

export function runGuardrailCheck(guardrail: Guardrail): Promise<GuardrailCheckResult> {
  const timeoutMs = checkTimeoutMs(guardrail);
  return guardrail.kind === "HTTP_PROBE" ? probe(guardrail, timeoutMs) : prometheus(guardrail, timeoutMs);
}

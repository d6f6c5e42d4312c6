// One guardrail check against real local servers: what passes, what fails, what could not run.

import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Guardrail } from "../services/core/model.ts";
import { queryEndpoint, runGuardrailCheck } from "./guardrail-checks.ts";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const probe = (url: string, over: Partial<Guardrail> = {}): Guardrail => ({
  name: "g",
  kind: "HTTP_PROBE",
  url,
  query: null,
  comparator: null,
  threshold: null,
  interval: "PT10S",
  intervalMs: 10_000,
  failuresToTrip: 3,
  onFailure: "PAUSE",
  ...over,
});
const prom = (url: string, over: Partial<Guardrail> = {}): Guardrail =>
  probe(url, { kind: "PROMETHEUS_QUERY", query: "up", comparator: "GTE", threshold: 1, ...over });
const json =
  (body: unknown): RequestListener =>
  (_request, response) =>
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));

describe("HTTP_PROBE", () => {
  it("passes on 2xx, fails on other statuses (a redirect is not followed)", async () => {
    const url = await serve((request, response) => {
      if (request.url === "/ok") response.writeHead(204).end();
      else if (request.url === "/moved") response.writeHead(302, { location: "/ok" }).end();
      else response.writeHead(503).end();
    });
    expect(await runGuardrailCheck(probe(`${url}/ok`))).toEqual({ passed: true, couldRun: true, result: "HTTP 204" });
    expect(await runGuardrailCheck(probe(`${url}/moved`))).toEqual({
      passed: false,
      couldRun: true,
      result: "HTTP 302",
    });
    expect(await runGuardrailCheck(probe(`${url}/down`))).toEqual({
      passed: false,
      couldRun: true,
      result: "HTTP 503",
    });
  });

  it("fails when no answer comes within the interval (a timeout is a failure, not an outage)", async () => {
    const url = await serve(() => undefined);
    const outcome = await runGuardrailCheck(probe(url, { interval: "PT1S", intervalMs: 1_000 }));
    expect(outcome).toEqual({ passed: false, couldRun: true, result: "no answer within 1000 ms" });
  });

  it("could not run when nothing listens", async () => {
    const url = await serve(() => undefined);
    const server = servers.pop() as Server;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await runGuardrailCheck(probe(url))).toEqual({
      passed: false,
      couldRun: false,
      result: "could not run: ECONNREFUSED",
    });
  });
});

describe("PROMETHEUS_QUERY", () => {
  it("queries /api/v1/query with the query and compares the first sample with the threshold", async () => {
    const seen: string[] = [];
    const url = await serve((request, response) => {
      seen.push(request.url ?? "");
      json({ status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1, "0.5"] }] } })(
        request,
        response,
      );
    });
    expect(await runGuardrailCheck(prom(url, { comparator: "LT", threshold: 1 }))).toEqual({
      passed: true,
      couldRun: true,
      result: "0.5 < 1",
    });
    expect(await runGuardrailCheck(prom(url, { comparator: "GT", threshold: 1 }))).toEqual({
      passed: false,
      couldRun: true,
      result: "0.5 not > 1",
    });
    expect(await runGuardrailCheck(prom(url, { comparator: "LTE", threshold: 0.5 }))).toMatchObject({ passed: true });
    expect(await runGuardrailCheck(prom(url, { comparator: "GTE", threshold: 0.6 }))).toMatchObject({ passed: false });
    expect(seen[0]).toBe("/api/v1/query?query=up");
  });

  it("reads a scalar too", async () => {
    const url = await serve(json({ status: "success", data: { resultType: "scalar", result: [1, "3"] } }));
    expect(await runGuardrailCheck(prom(url))).toEqual({ passed: true, couldRun: true, result: "3 >= 1" });
  });

  it("could not run on no data, an error answer, a non-number, a matrix, or not JSON", async () => {
    const cases: [unknown, string][] = [
      [{ status: "success", data: { resultType: "vector", result: [] } }, "no data (empty vector)"],
      [{ status: "error", errorType: "bad_data", error: "parse error" }, "Prometheus answered error: parse error"],
      [{ status: "success", data: { resultType: "vector", result: [{ value: [1, "NaN"] }] } }, "no numeric value"],
      [{ status: "success", data: { resultType: "matrix", result: [] } }, "unsupported result type matrix"],
    ];
    for (const [body, why] of cases) {
      const url = await serve(json(body));
      const outcome = await runGuardrailCheck(prom(url));
      expect(outcome.passed).toBe(false);
      expect(outcome.couldRun).toBe(false);
      expect(outcome.result).toContain(why);
    }
    const html = await serve((_request, response) => response.writeHead(502).end("<html>bad gateway</html>"));
    expect(await runGuardrailCheck(prom(html))).toEqual({
      passed: false,
      couldRun: false,
      result: "could not run: HTTP 502, not JSON",
    });
  });

  it("takes a base URL or the endpoint itself", () => {
    expect(queryEndpoint("http://prom:9090/", "up")).toBe("http://prom:9090/api/v1/query?query=up");
    expect(queryEndpoint("http://prom:9090/prometheus/api/v1/query", "a b")).toBe(
      "http://prom:9090/prometheus/api/v1/query?query=a+b",
    );
  });
});

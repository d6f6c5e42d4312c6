// The services guardrails check, for tests: a real local HTTP server (port 0, loopback) that answers a
// health probe and the Prometheus HTTP API's instant-query endpoint (`GET /api/v1/query?query=…`) from
// scripts the test sets, and counts the requests it served.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface CheckTargets {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Status codes the health probe answers in turn (the last one repeats). */
  healthStatuses: number[];
  /** Values the instant query answers in turn (the last one repeats); null answers an empty vector. */
  queryValues: (number | null)[];
  /** Requests served per path. */
  served: { health: number; query: number; queries: string[] };
  close(): Promise<void>;
}

export async function startCheckTargets(): Promise<CheckTargets> {
  const targets = {
    healthStatuses: [200],
    queryValues: [0] as (number | null)[],
    served: { health: 0, query: 0, queries: [] as string[] },
  };
  const pick = <T>(list: T[], index: number): T => list[Math.min(index, list.length - 1)] as T;
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname === "/healthz") {
      const status = pick(targets.healthStatuses, targets.served.health++);
      response.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "unhealthy");
      return;
    }
    if (url.pathname === "/api/v1/query") {
      const value = pick(targets.queryValues, targets.served.query++);
      targets.served.queries.push(url.searchParams.get("query") ?? "");
      const now = Date.now() / 1000;
      const result = value === null ? [] : [{ metric: { app: "checkout" }, value: [now, String(value)] }];
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ status: "success", data: { resultType: "vector", result } }));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(targets, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** A loopback URL nothing listens on (a server was started on it, then closed). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

// The worker's own /metrics (METRICS_PORT): the worker has no API server, but its activities append
// to the event store and its reconcile loop repairs releases, and Prometheus scrapes both.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.ts";

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: Metrics, port: number, host = "0.0.0.0"): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method === "GET" && path === "/metrics") {
      metrics.scrape().then(
        ({ contentType, body }) => {
          response.writeHead(200, { "content-type": contentType });
          response.end(body);
        },
        () => {
          response.writeHead(500, { "content-type": "text/plain" });
          response.end("metrics collection failed\n");
        },
      );
      return;
    }
    if (request.method === "GET" && path === "/healthz") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end('{"status":"ok"}');
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" });
    response.end("not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// PLACEHOLDER until the real API lands: /healthz and /readyz only, to prove the supervisor's wiring.
import { accessSync, constants, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { Connection } from "@temporalio/client";
import { loadConfig } from "../platform/config.ts";
import { createLogger } from "../platform/logger.ts";

const config = loadConfig();
const log = createLogger("api", { level: config.logLevel });
mkdirSync(config.dataDir, { recursive: true });

async function readiness(): Promise<string[]> {
  const failed: string[] = [];
  try {
    accessSync(config.dataDir, constants.W_OK);
  } catch {
    failed.push(`DATA_DIR ${config.dataDir} is not writable`);
  }
  try {
    const connection = await Connection.connect({
      address: config.temporalAddress ?? "localhost:7233",
      connectTimeout: 1_000,
    });
    await connection.close();
  } catch (error) {
    failed.push(`Temporal at ${config.temporalAddress ?? "localhost:7233"}: ${(error as Error).message}`);
  }
  return failed;
}

const server = createServer((request, response) => {
  const reply = (status: number, body: unknown): void => {
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  if (request.method === "GET" && request.url === "/healthz") return reply(200, { status: "ok" });
  if (request.method === "GET" && request.url === "/readyz") {
    readiness().then(
      (failed) =>
        reply(
          failed.length === 0 ? 200 : 503,
          failed.length === 0 ? { status: "ready" } : { status: "not ready", failed },
        ),
      (error: unknown) => reply(503, { status: "not ready", failed: [String(error)] }),
    );
    return;
  }
  reply(404, { error: "not found" });
});
server.listen(config.port, () => log.info(`GraphQL API ready at http://localhost:${config.port}/graphql`));
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close(() => log.info({ signal }, "api stopped"));
    server.closeAllConnections();
  });
}

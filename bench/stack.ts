// The stack a benchmark measures, wired as `npm start` wires it: its own temp DATA_DIR (embedded store),
// its own Temporal dev server (or TEMPORAL_ADDRESS), one in-process release worker on `taskQueue`, and the
// API built by buildApp on a free port, with the bootstrap ADMIN token's secret. One place for bench:api
// and bench:serving, so a change to how the service starts reaches both.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, Connection } from "@temporalio/client";
import { DefaultLogger, NativeConnection, Runtime } from "@temporalio/worker";
import { type App, buildApp } from "../services/api/app.ts";
import { ensureAdminToken } from "../services/api/auth.ts";
import { createAuditIndex } from "../services/audit/audit-index.ts";
import { createEventStore } from "../services/event-store/create-event-store.ts";
import type { EventStore } from "../services/event-store/port.ts";
import { createLogger, type Logger } from "../services/platform/logger.ts";
import { startTemporalDevServer } from "../services/platform/temporal-dev-server.ts";
import { createReadModels, type ReadModels } from "../services/projections/read-models.ts";
import { startProjections } from "../services/projections/runner.ts";
import { buildWorkflowBundle, createReleaseWorker } from "../workflows/worker.ts";

export interface BenchStack {
  /** The GraphQL endpoint (…/graphql). */
  url: string;
  /** The base URL (no path). */
  baseUrl: string;
  /** The bootstrap ADMIN token's secret. */
  token: string;
  address: string;
  dataDir: string;
  app: App;
  store: EventStore;
  readModels: ReadModels;
  logger: Logger;
  /** Stops the API, the worker, Temporal (when it started one) and removes DATA_DIR. */
  close(): Promise<void>;
}

export async function startBenchStack(name: string, taskQueue: string): Promise<BenchStack> {
  Runtime.install({ logger: new DefaultLogger("ERROR") });
  const logger = createLogger("test", { level: "error" });
  const dataDir = await mkdtemp(join(tmpdir(), `bench-${name}-`));
  const temporal =
    process.env.TEMPORAL_ADDRESS === undefined || process.env.TEMPORAL_ADDRESS === ""
      ? await startTemporalDevServer({ dbFilename: join(dataDir, "temporal", "temporal.db"), logger })
      : null;
  const address = temporal?.address ?? (process.env.TEMPORAL_ADDRESS as string);
  const store = await createEventStore({ dataDir, connectionString: "" });
  const readModels = createReadModels();
  const audit = createAuditIndex({ store });
  const runner = startProjections({ store, readModels, audit });
  await runner.ready;
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await createReleaseWorker({
    connection: nativeConnection,
    store,
    bundle: await buildWorkflowBundle(logger),
    taskQueue,
  });
  const workerRunning = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const bootstrap = await ensureAdminToken({ store, readModels, runner, print: () => {} });
  if (bootstrap.secret === null) throw new Error("a fresh data directory generated no ADMIN token");
  const app = buildApp({
    store,
    temporal: { client },
    readModels,
    runner,
    audit,
    logger,
    options: { rateLimit: false, taskQueue },
  });
  const { url } = await app.start(0);
  return {
    url,
    baseUrl: url.replace(/\/graphql$/, ""),
    token: bootstrap.secret,
    address,
    dataDir,
    app,
    store,
    readModels,
    logger,
    async close() {
      await app.stop();
      worker.shutdown();
      await workerRunning;
      await nativeConnection.close();
      await connection.close();
      await runner.close();
      audit.close();
      await store.close();
      await temporal?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

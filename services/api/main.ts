// The API process (`npm run api`, and a child of `npm start`): the composition root. Reads the
// configuration, opens the event store, rebuilds the read models and the audit index from the log (the
// projection runner's catch-up subscription, which then stays live), connects to Temporal, makes sure an
// ADMIN token exists, and serves GraphQL on PORT until SIGTERM/SIGINT.

import { Client, Connection } from "@temporalio/client";
import { createAuditIndex } from "../audit/audit-index.ts";
import { createEventStore } from "../event-store/create-event-store.ts";
import { loadConfigOrExit } from "../platform/config.ts";
import { createLogger, type Logger } from "../platform/logger.ts";
import { createReadModels } from "../projections/read-models.ts";
import { startProjections } from "../projections/runner.ts";
import { loadWebhookKey } from "../webhook/secrets.ts";
import { buildApp } from "./app.ts";
import { ensureAdminToken } from "./auth.ts";

/** Temporal may still be starting (the supervisor starts it first, a cluster may lag): retry for a while. */
async function connectTemporal(address: string, logger: Logger, deadlineMs = 120_000): Promise<Connection> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await Connection.connect({ address, connectTimeout: 5_000 });
    } catch (error) {
      if (Date.now() - started > deadlineMs) throw error;
      if (attempt === 1 || attempt % 10 === 0) {
        logger.warn({ temporalAddress: address, err: error }, "Temporal is not reachable yet; retrying");
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 200 * attempt)));
    }
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger("api", { level: config.logLevel });
  const temporalAddress = config.temporalAddress ?? "127.0.0.1:7233";

  const store = await createEventStore({
    dataDir: config.dataDir,
    connectionString: config.eventStoreConnectionString ?? "",
  });
  // In memory, rebuilt from the log at each start: API processes share nothing but the store and Temporal.
  const readModels = createReadModels();
  const audit = createAuditIndex({ store });
  const runner = startProjections({
    store,
    readModels,
    audit,
    onListenerError: (error, event) =>
      logger.error({ err: error, position: event.position, type: event.type }, "subscription listener failed"),
  });
  const startedAt = Date.now();
  await runner.ready;
  logger.info({ events: readModels.eventCount, ms: Date.now() - startedAt }, "read models caught up");

  const connection = await connectTemporal(temporalAddress, logger);
  const client = new Client({ connection, namespace: config.temporalNamespace });

  await ensureAdminToken({
    store,
    readModels,
    runner,
    adminToken: config.adminToken,
    dataDir: config.dataDir,
    logger,
  });

  const app = buildApp({
    store,
    temporal: { client },
    readModels,
    runner,
    audit,
    logger,
    options: {
      taskQueue: config.temporalTaskQueue,
      corsOrigins: config.corsOrigins,
      webhookKey: loadWebhookKey({ configured: config.webhookSecretKey, dataDir: config.dataDir }),
    },
  });
  await app.start(config.port, "0.0.0.0");
  logger.info(
    { port: config.port, temporalAddress, dataDir: config.dataDir, consoleUrl: `http://localhost:${config.port}/` },
    `GraphQL API ready at http://localhost:${config.port}/graphql`,
  );

  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "api stopping");
      (async () => {
        await app.stop();
        await runner.close();
        await connection.close();
        audit.close();
        await store.close();
      })().then(
        () => {
          logger.info("api stopped");
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, "api did not stop cleanly");
          process.exit(1);
        },
      );
    });
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`api failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}

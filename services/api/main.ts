// The API process (`npm run api`, and a child of `npm start`): the composition root. Reads the
// configuration, opens the event store, takes a projection slot (its persisted read models and audit index)
// and catches them up from their checkpoints (the projection runner's catch-up subscription, which then
// stays live), connects to Temporal, makes sure an ADMIN token exists, and serves GraphQL on PORT until
// SIGTERM/SIGINT.

import { Client } from "@temporalio/client";
import { auditIndexFile, createAuditIndex } from "../audit/audit-index.ts";
import { createEventStore } from "../event-store/create-event-store.ts";
import { instrumentEventStore } from "../event-store/instrumented.ts";
import { loadConfigOrExit } from "../platform/config.ts";
import { createLogger } from "../platform/logger.ts";
import { processMetrics } from "../platform/metrics.ts";
import { startMetricsServer } from "../platform/metrics-server.ts";
import { connectTemporalClient, describeTemporalConnection } from "../platform/temporal-connection.ts";
import { updateMetricsInterceptor } from "../platform/temporal-metrics.ts";
import { tracingClientInterceptors } from "../platform/temporal-tracing.ts";
import { startTracing } from "../platform/tracing.ts";
import { startProjections } from "../projections/runner.ts";
import { openProjectionSlot } from "../projections/slots.ts";
import { loadWebhookKey } from "../webhook/secrets.ts";
import { buildApp } from "./app.ts";
import { ensureAdminToken } from "./auth.ts";

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger("api", { level: config.logLevel, format: config.logFormat });
  // OTEL_* variables (off by default) and the process's metrics registry (GET /metrics).
  const tracing = startTracing({ service: "api" });
  const metrics = processMetrics();

  const store = instrumentEventStore(
    await createEventStore({
      dataDir: config.dataDir,
      connectionString: config.eventStoreConnectionString ?? "",
    }),
    metrics,
  );
  // Persisted in a slot of PROJECTIONS_DIR that this process holds alone: API processes share nothing but
  // the store and Temporal, and a restart resumes from the slot's checkpoints.
  const slot = openProjectionSlot({ root: config.projectionsDir });
  const { readModels } = slot;
  const fromEvents = readModels.eventCount;
  const auditPath = auditIndexFile(slot.dir);
  const audit = createAuditIndex({ store, path: auditPath });
  const runner = startProjections({
    store,
    readModels,
    audit,
    onListenerError: (error, event) =>
      logger.error({ err: error, position: event.position, type: event.type }, "subscription listener failed"),
  });
  const startedAt = Date.now();
  await runner.ready;
  const stale = slot.removeStale([auditPath]);
  logger.info(
    {
      events: readModels.eventCount,
      applied: readModels.eventCount - fromEvents,
      ms: Date.now() - startedAt,
      slot: slot.dir,
      fresh: slot.fresh,
      ...(stale.length > 0 && { removed: stale }),
    },
    "read models caught up",
  );

  // TEMPORAL_ADDRESS with TLS, mutual TLS and/or an API key (services/platform/temporal-connection.ts).
  const connection = await connectTemporalClient(config, { logger });
  const client = new Client({
    connection,
    namespace: config.temporalNamespace,
    interceptors: { workflow: [...tracingClientInterceptors(tracing), updateMetricsInterceptor(metrics)] },
  });

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
    metrics,
    // METRICS_PORT set: /metrics there only, off the public port (an Ingress routes `/` to PORT).
    options: {
      taskQueue: config.temporalTaskQueue,
      corsOrigins: config.corsOrigins,
      serveMetrics: config.metricsPort === undefined,
      webhookKey: loadWebhookKey({ configured: config.webhookSecretKey, dataDir: config.dataDir }),
    },
  });
  await app.start(config.port, "0.0.0.0");
  const metricsServer = config.metricsPort === undefined ? null : await startMetricsServer(metrics, config.metricsPort);
  logger.info(
    {
      port: config.port,
      ...describeTemporalConnection(config),
      dataDir: config.dataDir,
      tracing: tracing !== null,
      consoleUrl: `http://localhost:${config.port}/`,
    },
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
        slot.close();
        await store.close();
        await metricsServer?.close();
        await tracing?.shutdown();
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

// The API, a release worker and reconcile wired as main.ts and worker.ts wire them in production, with
// metrics and (optionally) tracing: the instrumented event store, the Temporal client with the Update
// metrics and tracing interceptors, the worker with the tracing interceptors and workflow-span sink,
// reconcile on its own connection with the repairs interceptor. One metrics registry for all, so one
// scrape of the API's /metrics shows what the worker and reconcile did too.

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, Connection } from "@temporalio/client";
import { NativeConnection, type Worker } from "@temporalio/worker";
import { type App, buildApp } from "../../services/api/app.ts";
import { ensureAdminToken } from "../../services/api/auth.ts";
import { createAuditIndex } from "../../services/audit/audit-index.ts";
import { createEventStore } from "../../services/event-store/create-event-store.ts";
import { instrumentEventStore } from "../../services/event-store/instrumented.ts";
import type { EventStore } from "../../services/event-store/port.ts";
import { createLogger, type Logger } from "../../services/platform/logger.ts";
import { createMetrics, type Metrics } from "../../services/platform/metrics.ts";
import { reconcileRepairsInterceptor, updateMetricsInterceptor } from "../../services/platform/temporal-metrics.ts";
import {
  tracingClientInterceptors,
  tracingWorkerOptions,
  WORKFLOW_TRACING_MODULE,
} from "../../services/platform/temporal-tracing.ts";
import type { Tracing } from "../../services/platform/tracing.ts";
import { createReadModels, type ReadModels } from "../../services/projections/read-models.ts";
import { startProjections } from "../../services/projections/runner.ts";
import { buildWorkflowBundle, createReleaseWorker } from "../../workflows/worker.ts";
import { graphqlOverHttp, type TestApi, workflowBundle } from "../api/harness.ts";
import { temporalTestAddress } from "../setup/temporal.ts";
import { quietTemporalLogs } from "../workflows/helpers.ts";

export interface ObservedStack {
  url: string;
  /** Base URL (no path). */
  origin: string;
  app: App;
  store: EventStore;
  readModels: ReadModels;
  client: Client;
  /** A client on reconcile's connection (the repairs interceptor sees its workflow starts). */
  reconcileClient: Client;
  taskQueue: string;
  metrics: Metrics;
  adminToken: string;
  /** The shape the test/api helpers (documents.ts) take. */
  api: TestApi;
  close(): Promise<void>;
}

export async function startObservedStack(
  options: { tracing?: Tracing | null; logger?: Logger } = {},
): Promise<ObservedStack> {
  quietTemporalLogs();
  const tracing = options.tracing ?? null;
  const metrics = createMetrics({ processMetrics: false });
  const logger = options.logger ?? createLogger("test", { level: "silent" });
  const dataDir = mkdtempSync(join(tmpdir(), "ops-test-"));
  const realStore = await createEventStore({ dataDir, connectionString: "" });
  const store = instrumentEventStore(realStore, metrics);
  const readModels = createReadModels();
  const audit = createAuditIndex({ store });
  const runner = startProjections({ store, readModels, audit });
  await runner.ready;

  const address = temporalTestAddress();
  const connection = await Connection.connect({ address });
  const client = new Client({
    connection,
    interceptors: { workflow: [...tracingClientInterceptors(tracing), updateMetricsInterceptor(metrics)] },
  });
  const reconcileConnection = await Connection.connect({
    address,
    interceptors: [reconcileRepairsInterceptor(metrics)],
  });
  const reconcileClient = new Client({ connection: reconcileConnection });
  const taskQueue = `ops-test-${randomUUID()}`;

  const nativeConnection = await NativeConnection.connect({ address });
  // Untraced, the bundle is the harness's one (built once per test process).
  const bundle =
    tracing === null
      ? await workflowBundle()
      : await buildWorkflowBundle(undefined, undefined, [WORKFLOW_TRACING_MODULE]);
  const worker: Worker = await createReleaseWorker({
    connection: nativeConnection,
    store,
    bundle,
    taskQueue,
    workerOptions: tracingWorkerOptions(tracing),
  });
  const running = worker.run();

  const bootstrap = await ensureAdminToken({ store, readModels, runner, adminToken: undefined, print: () => {} });
  const adminToken = bootstrap.secret ?? "";

  const app = buildApp({
    store,
    temporal: { client },
    readModels,
    runner,
    audit,
    logger,
    metrics,
    options: { rateLimit: false, taskQueue },
  });
  const { url } = await app.start(0);

  // Only what the test/api document helpers use: url and the HTTP clients.
  const api = { url, ...graphqlOverHttp(url, adminToken) } as unknown as TestApi;

  return {
    url,
    origin: new URL(url).origin,
    app,
    store,
    readModels,
    client,
    reconcileClient,
    taskQueue,
    metrics,
    adminToken,
    api,
    async close() {
      await app.stop();
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await runner.close();
      await connection.close();
      await reconcileConnection.close();
      audit.close();
      await realStore.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

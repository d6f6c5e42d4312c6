// The worker process (`npm run worker`): runs release workflows and their activities on the "releases"
// task queue. Connects to TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, opens the event store (EventStoreDB when
// EVENTSTORE_CONNECTION_STRING is set, else the embedded store under DATA_DIR), bundles the workflow
// code once at start (or loads a prebuilt bundle from WORKFLOW_BUNDLE_PATH), starts the workflow of every
// in-progress release that has none — at start and every RECONCILE_INTERVAL_MS (default 30 s) — and shuts
// down gracefully on SIGTERM/SIGINT.

import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Client } from "@temporalio/client";
import {
  bundleWorkflowCode,
  DefaultLogger,
  type LogLevel,
  type LogMetadata,
  type NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from "@temporalio/worker";
import { createEventStore } from "../services/event-store/create-event-store.ts";
import { instrumentEventStore } from "../services/event-store/instrumented.ts";
import type { EventStore } from "../services/event-store/port.ts";
import { loadConfigOrExit } from "../services/platform/config.ts";
import { createLogger, type Logger } from "../services/platform/logger.ts";
import { processMetrics } from "../services/platform/metrics.ts";
import { startMetricsServer } from "../services/platform/metrics-server.ts";
import {
  connectTemporalClient,
  connectTemporalWorker,
  describeTemporalConnection,
} from "../services/platform/temporal-connection.ts";
import { reconcileRepairsInterceptor } from "../services/platform/temporal-metrics.ts";
import { tracingWorkerOptions, WORKFLOW_TRACING_MODULE } from "../services/platform/temporal-tracing.ts";
import { startTracing } from "../services/platform/tracing.ts";
import { loadWebhookKey, type WebhookKey } from "../services/webhook/secrets.ts";
import { createActivities } from "./activities.ts";
import { RELEASE_TASK_QUEUE } from "./client.ts";
import { createGovernanceActivities } from "./governance-activities.ts";
import { startGovernanceFollower } from "./governance-follower.ts";
import { startReconcileLoop } from "./reconcile.ts";
import { createWebhookActivities } from "./webhook-activities.ts";
import { startWebhookDispatcher, WEBHOOK_TASK_QUEUE } from "./webhook-dispatch.ts";

export const WORKFLOWS_PATH = fileURLToPath(new URL("./workflows.ts", import.meta.url));

/** The workflow code, bundled once (a few seconds): pass the result to every worker of the process. */
export async function buildWorkflowBundle(
  logger?: Logger,
  workflowsPath: string = WORKFLOWS_PATH,
  /** Workflow interceptor modules to bundle (tracing: WORKFLOW_TRACING_MODULE). */
  interceptorModules: string[] = [],
): Promise<{ code: string }> {
  const log = logger?.child({ component: "bundler" });
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...(interceptorModules.length > 0 && { workflowInterceptorModules: interceptorModules }),
    logger: new DefaultLogger("WARN", ({ level, message, meta }) =>
      log?.[level === "ERROR" ? "error" : "warn"](meta ?? {}, message),
    ),
  });
  return { code };
}

export interface ReleaseWorkerOptions {
  connection: NativeConnection;
  store: EventStore;
  /** From buildWorkflowBundle(), or `{ codePath }` of a bundle written to a file. */
  bundle: { code: string } | { codePath: string };
  namespace?: string;
  taskQueue?: string;
  logger?: Logger;
  /** Anything else for Worker.create (tests tune sticky-queue timeouts, concurrency). */
  workerOptions?: Partial<WorkerOptions>;
}

export function createReleaseWorker(options: ReleaseWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? "default",
    taskQueue: options.taskQueue ?? RELEASE_TASK_QUEUE,
    workflowBundle: options.bundle,
    activities: createActivities({ store: options.store, logger: options.logger }),
    // After a worker dies, the next task of each workflow it had cached waits this long on the dead
    // worker's sticky queue before any worker gets it: a bake timer ending then is late by up to this
    // much. The SDK default (10 s) is tuned for throughput; releases want their steps on time, and a
    // task that misses it is only replayed from history by another worker (correct, slightly costlier).
    stickyQueueScheduleToStartTimeout: "3 seconds",
    ...options.workerOptions,
  });
}

export interface WebhookWorkerOptions {
  connection: NativeConnection;
  store: EventStore;
  bundle: { code: string } | { codePath: string };
  /** Opens the webhooks' sealed signing secrets: the key the API sealed them with. */
  webhookKey: () => WebhookKey;
  publicUrl?: string | undefined;
  namespace?: string;
  /** The delivery workflows' own task queue (default "webhooks"): a slow receiver holds none of a release's slots. */
  taskQueue?: string;
  logger?: Logger;
  workerOptions?: Partial<WorkerOptions>;
}

/**
 * The worker of webhook deliveries (workflows/webhooks.workflow.ts) and freeze ends
 * (workflows/governance.workflow.ts), on its own task queue.
 */
export function createWebhookWorker(options: WebhookWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? "default",
    taskQueue: options.taskQueue ?? WEBHOOK_TASK_QUEUE,
    workflowBundle: options.bundle,
    activities: {
      ...createWebhookActivities({
        store: options.store,
        webhookKey: options.webhookKey,
        publicUrl: options.publicUrl,
        logger: options.logger,
      }),
      ...createGovernanceActivities({ store: options.store }),
    },
    ...options.workerOptions,
  });
}

/** The webhook deliveries' task queue beside the releases' one ("releases" → "webhooks", "q" → "q-webhooks"). */
export const webhookTaskQueueFor = (releaseTaskQueue: string): string =>
  releaseTaskQueue === RELEASE_TASK_QUEUE ? WEBHOOK_TASK_QUEUE : `${releaseTaskQueue}-webhooks`;

const SDK_LEVELS: Record<LogLevel, "trace" | "debug" | "info" | "warn" | "error"> = {
  TRACE: "trace",
  DEBUG: "debug",
  INFO: "info",
  WARN: "warn",
  ERROR: "error",
};

/** The SDK's and the workflows' own logs (workflow `log`), as structured lines of the worker's logger. */
function installSdkLogger(logger: Logger): void {
  const sdk = logger.child({ component: "temporal-sdk" });
  Runtime.install({
    logger: new DefaultLogger(
      "INFO",
      ({ level, message, meta }: { level: LogLevel; message: string; meta?: LogMetadata }) =>
        sdk[SDK_LEVELS[level]](meta ?? {}, message),
    ),
  });
}

/** RECONCILE_INTERVAL_MS: how often the worker re-checks in-progress releases for a missing workflow (default 30 s). */
export function reconcileIntervalMs(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return 30_000;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 100) {
    throw new Error(`RECONCILE_INTERVAL_MS must be a whole number of milliseconds >= 100; got "${value}"`);
  }
  return ms;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const reconcileEveryMs = reconcileIntervalMs(process.env.RECONCILE_INTERVAL_MS);
  const logger = createLogger("worker", { level: config.logLevel, format: config.logFormat });
  installSdkLogger(logger);
  // OTEL_* variables (off by default); metrics at METRICS_PORT when set.
  const tracing = startTracing({ service: "worker" });
  const metrics = processMetrics();
  const metricsServer = config.metricsPort === undefined ? null : await startMetricsServer(metrics, config.metricsPort);
  const namespace = config.temporalNamespace;
  const taskQueue = config.temporalTaskQueue;

  const store = instrumentEventStore(
    await createEventStore({
      dataDir: config.dataDir,
      connectionString: config.eventStoreConnectionString ?? "",
    }),
    metrics,
  );
  const bundlePath = process.env.WORKFLOW_BUNDLE_PATH;
  const bundle =
    bundlePath !== undefined && bundlePath !== ""
      ? { code: await readFile(bundlePath, "utf8") }
      : await buildWorkflowBundle(logger, WORKFLOWS_PATH, tracing === null ? [] : [WORKFLOW_TRACING_MODULE]);
  // TEMPORAL_ADDRESS with TLS, mutual TLS and/or an API key: the same settings as the API's client.
  const connection = await connectTemporalWorker(config);
  const worker = await createReleaseWorker({
    connection,
    store,
    bundle,
    namespace,
    taskQueue,
    logger,
    workerOptions: tracingWorkerOptions(tracing),
  });
  const webhookKey = loadWebhookKey({ configured: config.webhookSecretKey, dataDir: config.dataDir });
  const webhookTaskQueue = webhookTaskQueueFor(taskQueue);
  const webhookWorker = await createWebhookWorker({
    connection,
    store,
    bundle,
    namespace,
    taskQueue: webhookTaskQueue,
    webhookKey: () => webhookKey,
    publicUrl: config.publicUrl,
    logger,
    workerOptions: tracingWorkerOptions(tracing),
  });

  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "worker stopping");
      worker.shutdown();
      webhookWorker.shutdown();
    });
  }

  const running = Promise.all([worker.run(), webhookWorker.run()]);

  // Heal releases whose workflow was never started (the API died, or Temporal was down, after storing
  // ReleaseStarted): at start, then every RECONCILE_INTERVAL_MS. "worker ready" comes after the first sweep,
  // so whoever waits for it knows every in-progress release has a workflow.
  // Reconcile's own connection: its workflow starts are the repairs counted in rp_reconcile_repairs_total.
  const clientConnection = await connectTemporalClient(config, {
    logger,
    grpcInterceptors: [reconcileRepairsInterceptor(metrics)],
  });
  const reconcile = startReconcileLoop(new Client({ connection: clientConnection, namespace }), store, {
    taskQueue,
    logger,
    intervalMs: reconcileEveryMs,
  });
  // Webhook deliveries: one workflow per (webhook, event), started from the log (workflows/webhook-dispatch.ts);
  // freezes: signals and freeze ends. Their own connection: their starts are not reconcile's repairs.
  const governanceConnection = await connectTemporalClient(config, { logger });
  const dispatcher = startWebhookDispatcher(new Client({ connection: governanceConnection, namespace }), store, {
    taskQueue: webhookTaskQueue,
    logger,
  });
  try {
    await reconcile.ready;
  } catch (error) {
    logger.error({ err: error }, "reconciling in-progress releases failed; they heal at the next worker start");
  }
  const governance = startGovernanceFollower(new Client({ connection: governanceConnection, namespace }), store, {
    taskQueue: webhookTaskQueue,
    logger,
  });
  governance.ready.catch((error: unknown) =>
    logger.error({ err: error }, "the governance follower could not read the log; freezes resume at the next start"),
  );
  dispatcher.ready.catch((error: unknown) =>
    logger.error({ err: error }, "the webhook dispatcher could not read the log; deliveries resume at the next start"),
  );
  logger.info(
    {
      ...describeTemporalConnection(config),
      namespace,
      taskQueue,
      dataDir: config.dataDir,
      tracing: tracing !== null,
      ...(metricsServer !== null && { metricsPort: metricsServer.port }),
    },
    "worker ready",
  );

  try {
    await running;
    logger.info("worker stopped");
  } finally {
    await dispatcher.close();
    await governance.close();
    await reconcile.close();
    await governanceConnection.close();
    await clientConnection.close();
    await connection.close();
    await store.close();
    await metricsServer?.close();
    await tracing?.shutdown();
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}

// Temporal helpers for test files:
//   temporalTestAddress()        the run's shared dev server (started by ./global-setup.ts)
//   createTimeSkippingEnv()      a time-skipping TestWorkflowEnvironment on the bootstrapped test server
//   startFileBackedDevServer()   a dev server of your own on a SQLite file you can crash and restart
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestWorkflowEnvironment, type TimeSkippingTestWorkflowEnvironmentOptions } from "@temporalio/testing";
import { inject } from "vitest";
import { createLogger } from "../../services/platform/logger.ts";
import { type DevServer, startTemporalDevServer } from "../../services/platform/temporal-dev-server.ts";
import { temporalCliForTests, temporalTestServerForTests } from "./binaries.ts";

export type { DevServer } from "../../services/platform/temporal-dev-server.ts";
export { getFreePort } from "../../services/platform/temporal-dev-server.ts";

/** host:port of the dev server shared by the whole run (namespace "default"). */
export function temporalTestAddress(): string {
  const address = inject("temporalAddress") ?? process.env.TEMPORAL_TEST_ADDRESS;
  if (address === undefined || address === "") {
    throw new Error("no shared Temporal dev server: is test/setup/global-setup.ts listed in vitest.config.ts?");
  }
  return address;
}

/**
 * A time-skipping TestWorkflowEnvironment (Temporal's Java test server) run from the binary the
 * bootstrap installed, never downloaded. Call `teardown()` on it in afterAll.
 */
export async function createTimeSkippingEnv(
  options: Omit<TimeSkippingTestWorkflowEnvironmentOptions, "server"> = {},
): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    ...options,
    server: { executable: { type: "existing-path", path: temporalTestServerForTests() } },
  });
}

export interface FileBackedDevServerOptions {
  /** The SQLite file; a new one in a fresh temporary directory when unset. Reuse it to restart on the same state. */
  readonly dbFilename?: string;
  /** gRPC port; a free one when unset. Pass the previous server's port to restart at the same address. */
  readonly port?: number;
  /** A namespace to create at launch besides "default". */
  readonly namespace?: string;
}

/**
 * A dev server of the test's own, persisted to a SQLite file: `kill()` it (SIGKILL, a crash) or
 * `stop()` it, then start another on the same `dbFilename` to check what survived. Always stop it
 * (afterAll/afterEach); it also stops by itself if the test process dies.
 */
export async function startFileBackedDevServer(options: FileBackedDevServerOptions = {}): Promise<DevServer> {
  return startTemporalDevServer({
    dbFilename: options.dbFilename ?? join(mkdtempSync(join(tmpdir(), "temporal-file-")), "temporal.db"),
    port: options.port,
    namespace: options.namespace,
    executable: temporalCliForTests(),
    logger: createLogger("temporal", { level: "error" }),
  });
}

// Vitest globalSetup: ONE Temporal dev server for the whole test run (a temporary SQLite file,
// free ports, no UI), stopped when the run ends. Test files get its address through
// `inject("temporalAddress")` (see temporalTestAddress() in ./temporal.ts) or TEMPORAL_TEST_ADDRESS.
// Tests that need a server of their own (durability: kill -9 and restart on the same file) start one
// with startFileBackedDevServer(); workflow unit tests use the time-skipping test server.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { createLogger } from "../../services/platform/logger.ts";
import { startTemporalDevServer } from "../../services/platform/temporal-dev-server.ts";
import { temporalCliForTests, temporalTestServerForTests } from "./binaries.ts";

declare module "vitest" {
  interface ProvidedContext {
    /** host:port of the run's shared Temporal dev server (namespace "default"). */
    temporalAddress: string;
  }
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Fail the run at once, before any test, when a binary is missing.
  temporalTestServerForTests();
  const dir = mkdtempSync(join(tmpdir(), "temporal-shared-"));
  const server = await startTemporalDevServer({
    dbFilename: join(dir, "temporal.db"),
    executable: temporalCliForTests(),
    logger: createLogger("temporal", { level: "error" }),
  });
  project.provide("temporalAddress", server.address);
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

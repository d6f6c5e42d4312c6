// Where the tests find the Temporal binaries: the variables infra/bootstrap.sh writes to .tools/env
// (set when tests run through `npm test`), else the bootstrap's own install location (a bare
// `vitest run` in a bootstrapped checkout), else PATH. Missing binaries fail the run loudly: no test
// is ever skipped for want of a server.
import { accessSync, constants } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveTemporalCli } from "../../services/platform/temporal-dev-server.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const HINT = "run `npm test` (it bootstraps) or `bash infra/bootstrap.sh` first";

export function temporalCliForTests(): string {
  const bootstrapped = join(REPO_ROOT, ".tools", "venv", "bin", "temporal");
  if (process.env.TEMPORAL_CLI_PATH === undefined && isExecutable(bootstrapped)) return bootstrapped;
  try {
    return resolveTemporalCli();
  } catch (error) {
    throw new Error(`${(error as Error).message}; ${HINT}`);
  }
}

export function temporalTestServerForTests(): string {
  const configured = process.env.TEMPORAL_TEST_SERVER_PATH;
  const candidates = configured
    ? [configured]
    : [
        join(REPO_ROOT, ".tools", "venv", "bin", "temporal-test-server"),
        ...(process.env.PATH ?? "").split(":").map((dir) => join(dir, "temporal-test-server")),
      ];
  const found = candidates.find(isExecutable);
  if (found === undefined) {
    throw new Error(
      configured
        ? `TEMPORAL_TEST_SERVER_PATH=${configured} is not an executable file; ${HINT}`
        : `the Temporal time-skipping test server was not found (TEMPORAL_TEST_SERVER_PATH, .tools/venv, PATH); ${HINT}`,
    );
  }
  return found;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

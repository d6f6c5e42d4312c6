// PLACEHOLDER until the real Temporal worker lands: it only proves the supervisor's wiring.
// It logs "worker ready" and stays alive until SIGTERM/SIGINT.
import { loadConfig } from "../services/platform/config.ts";
import { createLogger } from "../services/platform/logger.ts";

const config = loadConfig();
const log = createLogger("worker", { level: config.logLevel });
const keepAlive = setInterval(() => {}, 60_000);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    clearInterval(keepAlive);
    log.info({ signal }, "worker stopped");
  });
}
log.info({ temporalAddress: config.temporalAddress, taskQueue: config.temporalTaskQueue }, "worker ready");

// Structured logs: one JSON object per line on stdout, with `level` as a label ("info"), an ISO time,
// and a `service` field naming the process (api, worker, supervisor, temporal) so that the merged
// output of `npm start` can be filtered per process. Components take child loggers.
import { type DestinationStream, type Logger, pino } from "pino";
import type { LogLevel } from "./config.ts";

export type { Logger } from "pino";
export type ServiceName = "api" | "worker" | "supervisor" | "temporal" | "test";

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where the JSON lines go; stdout by default (tests pass a stream to read them). */
  readonly destination?: DestinationStream;
}

export function createLogger(service: ServiceName, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Secrets never reach the logs, whatever a caller passes in.
      redact: {
        paths: ["secret", "token", "adminToken", "authorization", "*.secret", "*.token", "*.authorization"],
        censor: "[redacted]",
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

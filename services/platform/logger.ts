// Structured logs: one JSON object per line on stdout, with `level` as a label ("info"), an ISO time,
// and a `service` field naming the process (api, worker, supervisor, temporal) so that the merged
// output of `npm start` can be filtered per process. Components take child loggers.
// On a terminal (LOG_FORMAT=auto and stdout is a TTY, or LOG_FORMAT=pretty) the same records are printed
// readably by pino-pretty instead. Inside a traced operation every line carries `traceId` and `spanId`.
import { type DestinationStream, type Logger, pino } from "pino";
import pinoPretty from "pino-pretty";
import type { LogFormat, LogLevel } from "./config.ts";
import { activeTraceIds } from "./tracing.ts";

export type { Logger } from "pino";
export type ServiceName = "api" | "worker" | "supervisor" | "temporal" | "test";

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where the lines go; stdout by default (tests pass a stream to read them). */
  readonly destination?: DestinationStream;
  /** auto (default): pretty when stdout is a terminal and no destination is given, JSON lines otherwise. */
  readonly format?: LogFormat;
}

function destinationFor(options: LoggerOptions): DestinationStream {
  const format = options.format ?? "auto";
  const pretty =
    format === "pretty" || (format === "auto" && options.destination === undefined && process.stdout.isTTY);
  if (!pretty) return options.destination ?? pino.destination({ dest: 1, sync: true });
  return pinoPretty({
    sync: true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname",
    messageFormat: "[{service}{if component}/{component}{end}] {msg}",
    ...(options.destination !== undefined && { destination: options.destination as never, colorize: false }),
  });
}

export function createLogger(service: ServiceName, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The active OpenTelemetry span's ids (none when tracing is off or outside a span).
      mixin: () => activeTraceIds(),
      // Secrets never reach the logs, whatever a caller passes in.
      redact: {
        paths: ["secret", "token", "adminToken", "authorization", "*.secret", "*.token", "*.authorization"],
        censor: "[redacted]",
      },
    },
    destinationFor(options),
  );
}

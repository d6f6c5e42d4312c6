// The process configuration: the documented environment variables, read and validated in one place.
// Every process (API, worker, supervisor) calls loadConfig() once at start and fails fast with a
// message that names each bad variable, what it must be, and what it got.
import { isAbsolute, resolve } from "node:path";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** PORT: the API's HTTP port. */
  readonly port: number;
  /** DATA_DIR, made absolute: embedded event store, Temporal dev server database, local state. */
  readonly dataDir: string;
  /** ADMIN_TOKEN: the first ADMIN token's secret; when unset a fresh installation generates and prints one. */
  readonly adminToken: string | undefined;
  /** EVENTSTORE_CONNECTION_STRING: selects EventStoreDB; when unset the embedded store under DATA_DIR is used. */
  readonly eventStoreConnectionString: string | undefined;
  /** TEMPORAL_ADDRESS: an existing Temporal frontend (host:port); when unset `npm start` runs a dev server. */
  readonly temporalAddress: string | undefined;
  /** TEMPORAL_NAMESPACE */
  readonly temporalNamespace: string;
  /** TEMPORAL_TASK_QUEUE (internal): the release workflows' task queue. */
  readonly temporalTaskQueue: string;
  /** LOG_LEVEL */
  readonly logLevel: LogLevel;
  /** CORS_ORIGINS: browser origins allowed to call the API (comma-separated); none by default. */
  readonly corsOrigins: readonly string[];
  /** WEBHOOK_SECRET_KEY: seals webhook signing secrets; unset: a key file under DATA_DIR (services/webhook/secrets.ts). */
  readonly webhookSecretKey: string | undefined;
  /** PUBLIC_URL: the console's base URL, for the links webhook deliveries carry; unset: links are paths. */
  readonly publicUrl: string | undefined;
}

export const CONFIG_DEFAULTS = {
  port: 4000,
  dataDir: "./.data",
  temporalNamespace: "default",
  temporalTaskQueue: "releases",
  logLevel: "info",
} as const;

export class ConfigError extends Error {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the configuration; throws a ConfigError listing every problem at once. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const issues: string[] = [];
  // An empty variable counts as unset, so `PORT= npm start` means "the default", as in most shells' tools.
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };

  const port = parsePort(read("PORT"), issues);

  const dataDirRaw = read("DATA_DIR") ?? CONFIG_DEFAULTS.dataDir;
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);

  const adminToken = read("ADMIN_TOKEN");
  if (adminToken !== undefined && !/^[A-Za-z0-9._~+/-]{16,}=*$/.test(adminToken)) {
    issues.push(
      "ADMIN_TOKEN must be at least 16 characters of letters, digits and . _ ~ + / - (a bearer token); " +
        `got ${adminToken.length} characters${/\s/.test(adminToken) ? " including whitespace" : ""}`,
    );
  }

  const eventStoreConnectionString = read("EVENTSTORE_CONNECTION_STRING");
  if (
    eventStoreConnectionString !== undefined &&
    !/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover|kurrent|kurrent\+discover):\/\/\S+$/.test(
      eventStoreConnectionString,
    )
  ) {
    issues.push(
      `EVENTSTORE_CONNECTION_STRING must be an EventStoreDB connection string like esdb://host:2113?tls=false; got "${redact(eventStoreConnectionString)}"`,
    );
  }

  const temporalAddress = read("TEMPORAL_ADDRESS");
  if (temporalAddress !== undefined && !isHostPort(temporalAddress)) {
    issues.push(`TEMPORAL_ADDRESS must be host:port (e.g. localhost:7233); got "${temporalAddress}"`);
  }

  const temporalNamespace = read("TEMPORAL_NAMESPACE") ?? CONFIG_DEFAULTS.temporalNamespace;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(temporalNamespace)) {
    issues.push(
      `TEMPORAL_NAMESPACE must be 1-255 letters, digits, '.', '_' or '-' starting with a letter or digit; got "${temporalNamespace}"`,
    );
  }

  const temporalTaskQueue = read("TEMPORAL_TASK_QUEUE") ?? CONFIG_DEFAULTS.temporalTaskQueue;
  if (temporalTaskQueue.length > 255) {
    issues.push(`TEMPORAL_TASK_QUEUE must be at most 255 characters; got ${temporalTaskQueue.length}`);
  }

  const logLevelRaw = (read("LOG_LEVEL") ?? CONFIG_DEFAULTS.logLevel).toLowerCase();
  const logLevel = LOG_LEVELS.find((level) => level === logLevelRaw);
  if (logLevel === undefined) {
    issues.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}; got "${logLevelRaw}"`);
  }

  const corsOrigins = (read("CORS_ORIGINS") ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  for (const origin of corsOrigins) {
    // An origin is scheme://host[:port] exactly: no path, no wildcard (credentials never go to "*").
    if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(origin)) {
      issues.push(`CORS_ORIGINS must be comma-separated origins like https://console.example.com; got "${origin}"`);
    }
  }

  const webhookSecretKey = read("WEBHOOK_SECRET_KEY");
  if (webhookSecretKey !== undefined && webhookSecretKey.length < 32) {
    issues.push(`WEBHOOK_SECRET_KEY must be at least 32 characters (a random key); got ${webhookSecretKey.length}`);
  }

  const publicUrlRaw = read("PUBLIC_URL");
  let publicUrl: string | undefined;
  if (publicUrlRaw !== undefined) {
    if (!/^https?:\/\/[^\s/@]+(\/\S*)?$/.test(publicUrlRaw)) {
      issues.push(`PUBLIC_URL must be an http(s) URL like https://releases.example.com; got "${publicUrlRaw}"`);
    } else publicUrl = publicUrlRaw.replace(/\/+$/, "");
  }

  if (issues.length > 0 || logLevel === undefined) throw new ConfigError(issues);
  return {
    port,
    dataDir,
    adminToken,
    eventStoreConnectionString,
    temporalAddress,
    temporalNamespace,
    temporalTaskQueue,
    logLevel,
    corsOrigins,
    webhookSecretKey,
    publicUrl,
  };
}

function parsePort(raw: string | undefined, issues: string[]): number {
  if (raw === undefined) return CONFIG_DEFAULTS.port;
  const port = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    issues.push(`PORT must be an integer from 1 to 65535; got "${raw}"`);
    return CONFIG_DEFAULTS.port;
  }
  return port;
}

function isHostPort(value: string): boolean {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  return match !== null && port >= 1 && port <= 65535;
}

/** Hides credentials in a connection string (esdb://user:password@host → esdb://user:***@host). */
function redact(connectionString: string): string {
  return connectionString.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

/** For a process's entry point: the configuration, or the message naming every bad variable and exit 2. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}

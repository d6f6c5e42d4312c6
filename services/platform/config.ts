// The process configuration: the documented environment variables, read and validated in one place.
// Every process (API, worker, supervisor) calls loadConfig() once at start and fails fast with a
// message that names each bad variable, what it must be, and what it got.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["auto", "json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * How to reach a secured Temporal frontend (TEMPORAL_TLS*, the Temporal CLI's own variable names): the
 * PEM files are read (and checked to be PEM) when the configuration loads. services/platform/
 * temporal-connection.ts maps this onto the client and worker connection options.
 */
export interface TemporalTlsConfig {
  /** TEMPORAL_TLS_CA: the CA that signed the server's certificate (default: the system's roots). */
  readonly serverRootCACertificate?: Buffer;
  /** TEMPORAL_TLS_CERT + TEMPORAL_TLS_KEY: a client certificate and key for mutual TLS. */
  readonly clientCertPair?: { readonly crt: Buffer; readonly key: Buffer };
  /** TEMPORAL_TLS_SERVER_NAME: the name the server's certificate must carry, when it is not the address's host. */
  readonly serverNameOverride?: string;
}

export interface Config {
  /** PORT: the API's HTTP port. */
  readonly port: number;
  /** DATA_DIR, made absolute: embedded event store, Temporal dev server database, local state. */
  readonly dataDir: string;
  /**
   * PROJECTIONS_DIR, made absolute (default DATA_DIR/projections): the API's persisted read models and audit
   * index, one slot directory per running process (services/projections/slots.ts).
   */
  readonly projectionsDir: string;
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
  /** TEMPORAL_TLS and TEMPORAL_TLS_*: null means plaintext (the dev server). */
  readonly temporalTls: TemporalTlsConfig | null;
  /** TEMPORAL_API_KEY: sent as `Authorization: Bearer …` (Temporal Cloud API keys); implies TLS. */
  readonly temporalApiKey: string | undefined;
  /** LOG_FORMAT: auto (pretty on a terminal, JSON lines otherwise), json or pretty. */
  readonly logFormat: LogFormat;
  /** METRICS_PORT: a separate Prometheus endpoint (/metrics, /healthz): the worker's only one; the API's instead of /metrics on PORT. */
  readonly metricsPort: number | undefined;
}

export const CONFIG_DEFAULTS = {
  port: 4000,
  dataDir: "./.data",
  temporalNamespace: "default",
  temporalTaskQueue: "releases",
  logLevel: "info",
  logFormat: "auto",
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

  const projectionsDirRaw = read("PROJECTIONS_DIR");
  const projectionsDir =
    projectionsDirRaw === undefined
      ? resolve(dataDir, "projections")
      : isAbsolute(projectionsDirRaw)
        ? projectionsDirRaw
        : resolve(cwd, projectionsDirRaw);

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

  const { temporalTls, temporalApiKey } = readTemporalSecurity(read, issues);

  const logFormatRaw = (read("LOG_FORMAT") ?? CONFIG_DEFAULTS.logFormat).toLowerCase();
  const logFormat = LOG_FORMATS.find((format) => format === logFormatRaw);
  if (logFormat === undefined) {
    issues.push(`LOG_FORMAT must be one of ${LOG_FORMATS.join(", ")}; got "${logFormatRaw}"`);
  }

  const metricsPortRaw = read("METRICS_PORT");
  const metricsPort = metricsPortRaw === undefined ? undefined : parsePortNamed("METRICS_PORT", metricsPortRaw, issues);

  if (issues.length > 0 || logLevel === undefined || logFormat === undefined) throw new ConfigError(issues);
  return {
    port,
    dataDir,
    projectionsDir,
    adminToken,
    eventStoreConnectionString,
    temporalAddress,
    temporalNamespace,
    temporalTaskQueue,
    logLevel,
    corsOrigins,
    webhookSecretKey,
    publicUrl,
    temporalTls,
    temporalApiKey,
    logFormat,
    metricsPort,
  };
}

const BOOLEAN = /^(true|false|1|0|yes|no)$/i;

/** TEMPORAL_TLS, TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_SERVER_NAME, TEMPORAL_API_KEY. */
function readTemporalSecurity(
  read: (name: string) => string | undefined,
  issues: string[],
): { temporalTls: TemporalTlsConfig | null; temporalApiKey: string | undefined } {
  const tlsRaw = read("TEMPORAL_TLS");
  if (tlsRaw !== undefined && !BOOLEAN.test(tlsRaw)) {
    issues.push(`TEMPORAL_TLS must be true or false; got "${tlsRaw}"`);
  }
  const tlsFlag = tlsRaw === undefined || !BOOLEAN.test(tlsRaw) ? undefined : /^(true|1|yes)$/i.test(tlsRaw);

  const pem = (name: string): Buffer | undefined => {
    const path = read(name);
    if (path === undefined) return undefined;
    let content: Buffer;
    try {
      content = readFileSync(path);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
      issues.push(`${name} must be the path of a readable PEM file; "${path}" is ${reason}`);
      return undefined;
    }
    if (!content.toString("latin1").includes("-----BEGIN ")) {
      issues.push(`${name} must be a PEM file (-----BEGIN …); "${path}" is not`);
      return undefined;
    }
    return content;
  };
  const ca = pem("TEMPORAL_TLS_CA");
  const crt = pem("TEMPORAL_TLS_CERT");
  const key = pem("TEMPORAL_TLS_KEY");
  const certSet = read("TEMPORAL_TLS_CERT") !== undefined;
  const keySet = read("TEMPORAL_TLS_KEY") !== undefined;
  if (certSet !== keySet) {
    issues.push("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (mutual TLS needs the certificate and its key)");
  }

  const serverName = read("TEMPORAL_TLS_SERVER_NAME");
  if (
    serverName !== undefined &&
    !/^[A-Za-z0-9*]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(serverName)
  ) {
    issues.push(`TEMPORAL_TLS_SERVER_NAME must be a DNS name (e.g. temporal.internal); got "${serverName}"`);
  }

  const apiKey = read("TEMPORAL_API_KEY");
  if (apiKey !== undefined && !/^[\x21-\x7e]+$/.test(apiKey)) {
    issues.push("TEMPORAL_API_KEY must be printable ASCII without spaces (a Temporal Cloud API key)");
  }

  const anyTlsSetting = read("TEMPORAL_TLS_CA") !== undefined || certSet || keySet || serverName !== undefined;
  if (tlsFlag === false && (anyTlsSetting || apiKey !== undefined)) {
    issues.push(
      "TEMPORAL_TLS is false but TLS settings are set (TEMPORAL_TLS_CA/CERT/KEY/SERVER_NAME or TEMPORAL_API_KEY, which is only sent over TLS)",
    );
  }
  // TLS is on when asked for, when any TLS setting is given, or with an API key (never sent in plaintext).
  const tlsOn = tlsFlag ?? (anyTlsSetting || apiKey !== undefined);
  const temporalTls: TemporalTlsConfig | null = tlsOn
    ? {
        ...(ca !== undefined && { serverRootCACertificate: ca }),
        ...(crt !== undefined && key !== undefined && { clientCertPair: { crt, key } }),
        ...(serverName !== undefined && { serverNameOverride: serverName }),
      }
    : null;
  return { temporalTls, temporalApiKey: apiKey };
}

function parsePortNamed(name: string, raw: string, issues: string[]): number | undefined {
  const port = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    issues.push(`${name} must be an integer from 1 to 65535; got "${raw}"`);
    return undefined;
  }
  return port;
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

import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../services/platform/config.ts";

function issuesOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env, "/srv/app");
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("uses the documented defaults when nothing is set", () => {
    expect(loadConfig({}, "/srv/app")).toEqual({
      port: 4000,
      dataDir: "/srv/app/.data",
      projectionsDir: "/srv/app/.data/projections",
      adminToken: undefined,
      eventStoreConnectionString: undefined,
      temporalAddress: undefined,
      temporalNamespace: "default",
      temporalTaskQueue: "releases",
      logLevel: "info",
      corsOrigins: [],
      temporalTls: null,
      temporalApiKey: undefined,
      logFormat: "auto",
      metricsPort: undefined,
    });
  });

  it("reads every documented variable", () => {
    const config = loadConfig(
      {
        PORT: "8080",
        DATA_DIR: "/var/lib/releases",
        ADMIN_TOKEN: "a-very-long-admin-secret-0123456789",
        EVENTSTORE_CONNECTION_STRING: "esdb://admin:changeit@localhost:2113?tls=false",
        TEMPORAL_ADDRESS: "temporal.internal:7233",
        TEMPORAL_NAMESPACE: "releases-prod",
        TEMPORAL_TASK_QUEUE: "releases-v2",
        LOG_LEVEL: "DEBUG",
        CORS_ORIGINS: "https://console.example.com, http://localhost:5173",
        TEMPORAL_TLS: "true",
        TEMPORAL_TLS_SERVER_NAME: "temporal.internal",
        LOG_FORMAT: "JSON",
        METRICS_PORT: "9464",
      },
      "/srv/app",
    );
    expect(config).toEqual({
      port: 8080,
      dataDir: "/var/lib/releases",
      projectionsDir: "/var/lib/releases/projections",
      adminToken: "a-very-long-admin-secret-0123456789",
      eventStoreConnectionString: "esdb://admin:changeit@localhost:2113?tls=false",
      temporalAddress: "temporal.internal:7233",
      temporalNamespace: "releases-prod",
      temporalTaskQueue: "releases-v2",
      logLevel: "debug",
      corsOrigins: ["https://console.example.com", "http://localhost:5173"],
      temporalTls: { serverNameOverride: "temporal.internal" },
      temporalApiKey: undefined,
      logFormat: "json",
      metricsPort: 9464,
    });
  });

  it("refuses a CORS origin with a path or a wildcard", () => {
    expect(() => loadConfig({ CORS_ORIGINS: "*" })).toThrow(/CORS_ORIGINS must be/);
    expect(() => loadConfig({ CORS_ORIGINS: "https://a.example/path" })).toThrow(/CORS_ORIGINS must be/);
  });

  it("reads WEBHOOK_SECRET_KEY and PUBLIC_URL, refusing a short key and a URL that is not http(s)", () => {
    const config = loadConfig(
      { WEBHOOK_SECRET_KEY: "k".repeat(32), PUBLIC_URL: "https://releases.example.com/" },
      "/srv/app",
    );
    expect(config.webhookSecretKey).toBe("k".repeat(32));
    expect(config.publicUrl).toBe("https://releases.example.com");
    expect(issuesOf({ WEBHOOK_SECRET_KEY: "short", PUBLIC_URL: "ftp://x" })).toEqual([
      "WEBHOOK_SECRET_KEY must be at least 32 characters (a random key); got 5",
      'PUBLIC_URL must be an http(s) URL like https://releases.example.com; got "ftp://x"',
    ]);
  });

  it("resolves a relative DATA_DIR against the working directory", () => {
    expect(loadConfig({ DATA_DIR: "state/here" }, "/srv/app").dataDir).toBe("/srv/app/state/here");
  });

  it("keeps the projections under DATA_DIR unless PROJECTIONS_DIR says where", () => {
    expect(loadConfig({ DATA_DIR: "/data" }, "/srv/app").projectionsDir).toBe("/data/projections");
    expect(loadConfig({ DATA_DIR: "/data", PROJECTIONS_DIR: "local/views" }, "/srv/app").projectionsDir).toBe(
      "/srv/app/local/views",
    );
    expect(loadConfig({ PROJECTIONS_DIR: "/fast-disk/views" }, "/srv/app").projectionsDir).toBe("/fast-disk/views");
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ PORT: "", LOG_LEVEL: " ", TEMPORAL_ADDRESS: "" }, "/srv/app")).toMatchObject({
      port: 4000,
      logLevel: "info",
      temporalAddress: undefined,
    });
  });

  it.each([
    ["abc", 'PORT must be an integer from 1 to 65535; got "abc"'],
    ["0", 'got "0"'],
    ["65536", 'got "65536"'],
    ["80.5", 'got "80.5"'],
  ])("rejects PORT=%s", (port, message) => {
    expect(issuesOf({ PORT: port })).toEqual([expect.stringContaining(message)]);
  });

  it("rejects a LOG_LEVEL that pino does not know, listing the valid ones", () => {
    expect(issuesOf({ LOG_LEVEL: "verbose" })).toEqual([
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "verbose"',
    ]);
  });

  it("rejects a TEMPORAL_ADDRESS that is not host:port", () => {
    expect(issuesOf({ TEMPORAL_ADDRESS: "http://localhost:7233" })).toEqual([
      expect.stringContaining("TEMPORAL_ADDRESS must be host:port"),
    ]);
    expect(issuesOf({ TEMPORAL_ADDRESS: "localhost" })).toHaveLength(1);
    expect(loadConfig({ TEMPORAL_ADDRESS: "[::1]:7233" }).temporalAddress).toBe("[::1]:7233");
  });

  it("rejects a short or spaced ADMIN_TOKEN without echoing it", () => {
    const [issue] = issuesOf({ ADMIN_TOKEN: "short secret" });
    expect(issue).toContain("ADMIN_TOKEN must be at least 16 characters");
    expect(issue).not.toContain("short secret");
  });

  it("rejects a connection string that is not EventStoreDB's, hiding its password", () => {
    const [issue] = issuesOf({ EVENTSTORE_CONNECTION_STRING: "postgres://app:hunter2@db:5432/events" });
    expect(issue).toContain("EVENTSTORE_CONNECTION_STRING must be an EventStoreDB connection string");
    expect(issue).toContain("postgres://app:***@db:5432/events");
    expect(issue).not.toContain("hunter2");
  });

  it("rejects a malformed TEMPORAL_NAMESPACE", () => {
    expect(issuesOf({ TEMPORAL_NAMESPACE: "has space" })).toEqual([expect.stringContaining("TEMPORAL_NAMESPACE")]);
  });

  it("reports every bad variable at once, each on its own line of the message", () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: "-1", LOG_LEVEL: "loud", TEMPORAL_ADDRESS: "nowhere" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.issues).toHaveLength(3);
    expect(error.message.split("\n")).toEqual([
      "Invalid configuration:",
      expect.stringMatching(/^ {2}- PORT /),
      expect.stringMatching(/^ {2}- TEMPORAL_ADDRESS /),
      expect.stringMatching(/^ {2}- LOG_LEVEL /),
    ]);
  });
});

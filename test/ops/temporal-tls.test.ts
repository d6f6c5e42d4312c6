// Temporal over TLS, mutual TLS and an API key, against a real server: the run's dev server behind a TLS
// terminator (test/ops/tls-terminator.ts) that requires a client certificate from our CA and records
// the `authorization` header. The settings go from environment variables through loadConfig and
// temporalConnectionOptions into both connection kinds (the API's and reconcile's client, the worker's
// native connection), and the API process itself reaches /readyz through them.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Connection } from "@temporalio/client";
import { NativeConnection } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../services/platform/config.ts";
import { temporalConnectionOptions } from "../../services/platform/temporal-connection.ts";
import { REPO_ROOT } from "../setup/binaries.ts";
import { getFreePort, temporalTestAddress } from "../setup/temporal.ts";
import { makeTestPki, startTlsTerminator, type TestPki, type TlsTerminator } from "./tls-terminator.ts";

const API_KEY = "test-api-key.0123456789abcdef";

let pki: TestPki;
let mtls: TlsTerminator;
let tlsOnly: TlsTerminator;

beforeAll(async () => {
  pki = makeTestPki();
  mtls = await startTlsTerminator({ upstream: temporalTestAddress(), pki, requireClientCert: true });
  tlsOnly = await startTlsTerminator({ upstream: temporalTestAddress(), pki, requireClientCert: false });
});

afterAll(async () => {
  await mtls?.close();
  await tlsOnly?.close();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

function mtlsEnv(address: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_CA: pki.caPath,
    TEMPORAL_TLS_CERT: pki.clientCertPath,
    TEMPORAL_TLS_KEY: pki.clientKeyPath,
    TEMPORAL_TLS_SERVER_NAME: pki.serverName,
    TEMPORAL_API_KEY: API_KEY,
  };
}

function issuesOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env, "/srv/app");
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("Temporal connection settings from the environment", () => {
  it("maps CA, client certificate, server name and API key onto the connection options", () => {
    const options = temporalConnectionOptions(loadConfig(mtlsEnv("temporal.internal:7233"), "/srv/app"));
    expect(options).toEqual({
      address: "temporal.internal:7233",
      tls: {
        serverRootCACertificate: readFileSync(pki.caPath),
        clientCertPair: { crt: readFileSync(pki.clientCertPath), key: readFileSync(pki.clientKeyPath) },
        serverNameOverride: pki.serverName,
      },
      apiKey: API_KEY,
    });
  });

  it("is plaintext by default, TLS with the system's roots for TEMPORAL_TLS=true or an API key alone", () => {
    expect(temporalConnectionOptions(loadConfig({}, "/srv/app"))).toEqual({ address: "127.0.0.1:7233", tls: false });
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_TLS: "true" }, "/srv/app")).tls).toEqual({});
    expect(
      temporalConnectionOptions(
        loadConfig({ TEMPORAL_ADDRESS: "ns.acct.tmprl.cloud:7233", TEMPORAL_API_KEY: API_KEY }, "/srv/app"),
      ),
    ).toEqual({ address: "ns.acct.tmprl.cloud:7233", tls: {}, apiKey: API_KEY });
  });

  it("names every bad TLS variable at once", () => {
    const issues = issuesOf({
      TEMPORAL_TLS: "maybe",
      TEMPORAL_TLS_CA: join(pki.dir, "missing.crt"),
      TEMPORAL_TLS_CERT: pki.clientCertPath,
      TEMPORAL_TLS_SERVER_NAME: "not a name",
      TEMPORAL_API_KEY: "has spaces in it",
    });
    expect(issues).toEqual([
      'TEMPORAL_TLS must be true or false; got "maybe"',
      `TEMPORAL_TLS_CA must be the path of a readable PEM file; "${join(pki.dir, "missing.crt")}" is ENOENT`,
      "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (mutual TLS needs the certificate and its key)",
      'TEMPORAL_TLS_SERVER_NAME must be a DNS name (e.g. temporal.internal); got "not a name"',
      "TEMPORAL_API_KEY must be printable ASCII without spaces (a Temporal Cloud API key)",
    ]);
    const notPem = join(pki.dir, "server.ext");
    expect(issuesOf({ TEMPORAL_TLS_CA: notPem })).toEqual([
      `TEMPORAL_TLS_CA must be a PEM file (-----BEGIN …); "${notPem}" is not`,
    ]);
    expect(issuesOf({ TEMPORAL_TLS: "false", TEMPORAL_API_KEY: API_KEY })).toEqual([
      "TEMPORAL_TLS is false but TLS settings are set (TEMPORAL_TLS_CA/CERT/KEY/SERVER_NAME or TEMPORAL_API_KEY, which is only sent over TLS)",
    ]);
  });
});

describe("a real Temporal server behind TLS", () => {
  it("the client connection (API, reconcile) speaks mutual TLS and sends the API key", async () => {
    const connection = await Connection.connect({
      ...temporalConnectionOptions(loadConfig(mtlsEnv(mtls.address), "/srv/app")),
      connectTimeout: 10_000,
    });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await connection.close();
    }
    const seen = mtls.calls.filter((call) => call.path.endsWith("/GetSystemInfo"));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((call) => call.authorization === `Bearer ${API_KEY}`)).toBe(true);
    expect(seen.every((call) => call.clientCommonName === "release-pipelines-worker")).toBe(true);
  });

  it("the worker's native connection speaks mutual TLS and sends the API key", async () => {
    const before = mtls.calls.length;
    const connection = await NativeConnection.connect(
      temporalConnectionOptions(loadConfig(mtlsEnv(mtls.address), "/srv/app")),
    );
    try {
      const namespace = await connection.workflowService.describeNamespace({ namespace: "default" });
      expect(namespace.namespaceInfo?.name).toBe("default");
    } finally {
      await connection.close();
    }
    const seen = mtls.calls.slice(before).filter((call) => call.path.endsWith("/DescribeNamespace"));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((call) => call.authorization === `Bearer ${API_KEY}`)).toBe(true);
    expect(seen.every((call) => call.clientCommonName === "release-pipelines-worker")).toBe(true);
  });

  it("TLS without a client certificate works where the server does not ask for one", async () => {
    const connection = await Connection.connect({
      ...temporalConnectionOptions(
        loadConfig(
          { TEMPORAL_ADDRESS: tlsOnly.address, TEMPORAL_TLS_CA: pki.caPath, TEMPORAL_TLS_SERVER_NAME: pki.serverName },
          "/srv/app",
        ),
      ),
      connectTimeout: 10_000,
    });
    try {
      await connection.workflowService.getSystemInfo({});
    } finally {
      await connection.close();
    }
    expect(tlsOnly.calls.some((call) => call.clientCommonName === undefined && call.authorization === undefined)).toBe(
      true,
    );
  });

  it("is refused without a client certificate, with one from another CA, or when the server's CA is not trusted", async () => {
    const attempt = async (env: Record<string, string>): Promise<unknown> => {
      const options = temporalConnectionOptions(loadConfig(env, "/srv/app"));
      try {
        const connection = await NativeConnection.connect(options);
        await connection.close();
        return null;
      } catch (error) {
        return error;
      }
    };
    const base = { TEMPORAL_ADDRESS: mtls.address, TEMPORAL_TLS_SERVER_NAME: pki.serverName };
    expect(await attempt({ ...base, TEMPORAL_TLS_CA: pki.caPath })).toBeInstanceOf(Error);
    expect(
      await attempt({
        ...base,
        TEMPORAL_TLS_CA: pki.caPath,
        TEMPORAL_TLS_CERT: pki.otherClientCertPath,
        TEMPORAL_TLS_KEY: pki.otherClientKeyPath,
      }),
    ).toBeInstanceOf(Error);
    expect(
      await attempt({
        ...base,
        TEMPORAL_TLS_CA: pki.otherCaPath,
        TEMPORAL_TLS_CERT: pki.clientCertPath,
        TEMPORAL_TLS_KEY: pki.clientKeyPath,
      }),
    ).toBeInstanceOf(Error);
    // Without the server name override the certificate (for temporal.test) does not match 127.0.0.1.
    expect(
      await attempt({
        TEMPORAL_ADDRESS: mtls.address,
        TEMPORAL_TLS_CA: pki.caPath,
        TEMPORAL_TLS_CERT: pki.clientCertPath,
        TEMPORAL_TLS_KEY: pki.clientKeyPath,
      }),
    ).toBeInstanceOf(Error);
  });

  it("the API process reaches Temporal through these variables: /readyz answers ready; /metrics on METRICS_PORT", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rp-tls-api-"));
    const port = await getFreePort();
    const metricsPort = await getFreePort();
    const before = mtls.calls.length;
    const child: ChildProcess = spawn(process.execPath, ["services/api/main.ts"], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...mtlsEnv(mtls.address),
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        DATA_DIR: dataDir,
        ADMIN_TOKEN: "tls-test-admin-token-0123456789",
        LOG_LEVEL: "warn",
        EVENTSTORE_CONNECTION_STRING: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk) => (output += String(chunk)));
    child.stderr?.on("data", (chunk) => (output += String(chunk)));
    try {
      const deadline = Date.now() + 60_000;
      let ready: { status: string; checks: Record<string, string> } | null = null;
      while (Date.now() < deadline && child.exitCode === null) {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/readyz`);
          const body = (await response.json()) as { status: string; checks: Record<string, string> };
          if (response.status === 200) {
            ready = body;
            break;
          }
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(ready, output).toEqual({
        status: "ready",
        checks: { eventStore: "ok", temporal: "ok", projections: "ok" },
      });
      const seen = mtls.calls.slice(before);
      expect(seen.some((call) => call.path.endsWith("/GetSystemInfo"))).toBe(true);
      expect(seen.every((call) => call.authorization === `Bearer ${API_KEY}`)).toBe(true);
      expect(seen.every((call) => call.clientCommonName === "release-pipelines-worker")).toBe(true);
      // With METRICS_PORT, /metrics moves off the public port.
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toMatch(
        /rp_http_request_duration_seconds_count\{method="GET",route="\/readyz",status="(200|503)"\} \d+/,
      );
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
      rmSync(dataDir, { recursive: true, force: true });
    }
    expect(child.exitCode).toBe(0);
  }, 90_000);

  it("the worker process (and its reconcile) connects through these variables, serves METRICS_PORT, bundles tracing", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rp-tls-worker-"));
    const metricsPort = await getFreePort();
    const before = mtls.calls.length;
    const child: ChildProcess = spawn(process.execPath, ["workflows/worker.ts"], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...mtlsEnv(mtls.address),
        DATA_DIR: dataDir,
        METRICS_PORT: String(metricsPort),
        TEMPORAL_TASK_QUEUE: `tls-worker-${process.pid}`,
        // Traces on: the worker bundles the workflow code with the OpenTelemetry interceptors.
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1",
        LOG_LEVEL: "info",
        LOG_FORMAT: "json",
        EVENTSTORE_CONNECTION_STRING: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout?.on("data", (chunk) => {
        output += String(chunk);
        for (const line of output.split("\n")) {
          if (!line.includes('"worker ready"')) continue;
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      });
      child.stderr?.on("data", (chunk) => (output += String(chunk)));
      child.once("exit", (code) => reject(new Error(`worker exited with ${code}: ${output}`)));
    });
    try {
      const line = await ready;
      expect(line).toMatchObject({
        tls: "mutual",
        apiKey: true,
        serverName: pki.serverName,
        metricsPort,
        tracing: true,
      });
      const seen = mtls.calls.slice(before);
      // The worker polls its task queue through the terminator.
      expect(seen.some((call) => call.path.endsWith("/PollWorkflowTaskQueue"))).toBe(true);
      expect(seen.every((call) => call.authorization === `Bearer ${API_KEY}`)).toBe(true);
      expect(seen.every((call) => call.clientCommonName === "release-pipelines-worker")).toBe(true);
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain("# TYPE rp_reconcile_repairs_total counter");
      expect(text).toContain("# TYPE rp_event_store_append_duration_seconds histogram");
      expect(text).toContain("rp_process_cpu_seconds_total");
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
      rmSync(dataDir, { recursive: true, force: true });
    }
    // SIGTERM: the worker finishes its tasks, closes its connections and metrics server, exits cleanly.
    expect(child.exitCode, output).toBe(0);
  }, 120_000);
});

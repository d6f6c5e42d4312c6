// How every process reaches Temporal: one mapping from the validated configuration (TEMPORAL_ADDRESS,
// TEMPORAL_TLS*, TEMPORAL_API_KEY) onto the options of both connection kinds — the API's and reconcile's
// gRPC client (`Connection`, @temporalio/client) and the worker's native connection (`NativeConnection`,
// the Rust core). Both take the same `address`, `tls` and `apiKey`, so they cannot drift apart.

import { Connection, type ConnectionOptions } from "@temporalio/client";
import { NativeConnection, type NativeConnectionOptions } from "@temporalio/worker";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";

/** Where the API and worker look when TEMPORAL_ADDRESS is unset (the dev server `npm start` runs). */
export const DEFAULT_TEMPORAL_ADDRESS = "127.0.0.1:7233";

export type TemporalSettings = Pick<Config, "temporalAddress" | "temporalTls" | "temporalApiKey">;

/** The connection options both SDK connection kinds share. */
export interface TemporalConnectionOptions {
  address: string;
  /** false: plaintext. An object (possibly empty: the system's CA roots): TLS. */
  tls: false | NonNullable<Exclude<ConnectionOptions["tls"], boolean>>;
  apiKey?: string;
}

export function temporalConnectionOptions(settings: TemporalSettings): TemporalConnectionOptions {
  const tls = settings.temporalTls;
  return {
    address: settings.temporalAddress ?? DEFAULT_TEMPORAL_ADDRESS,
    tls:
      tls === null
        ? false
        : {
            ...(tls.serverRootCACertificate !== undefined && { serverRootCACertificate: tls.serverRootCACertificate }),
            ...(tls.clientCertPair !== undefined && { clientCertPair: { ...tls.clientCertPair } }),
            ...(tls.serverNameOverride !== undefined && { serverNameOverride: tls.serverNameOverride }),
          },
    ...(settings.temporalApiKey !== undefined && { apiKey: settings.temporalApiKey }),
  };
}

/** What the logs may say about the connection (never key material). */
export function describeTemporalConnection(settings: TemporalSettings): Record<string, unknown> {
  const tls = settings.temporalTls;
  return {
    temporalAddress: settings.temporalAddress ?? DEFAULT_TEMPORAL_ADDRESS,
    tls: tls === null ? "off" : tls.clientCertPair !== undefined ? "mutual" : "on",
    ...(tls?.serverNameOverride !== undefined && { serverName: tls.serverNameOverride }),
    apiKey: settings.temporalApiKey !== undefined,
  };
}

export interface ConnectClientOptions {
  /** Temporal may still be starting (the supervisor starts it first, a cluster may lag): retry this long (default 120 s). */
  deadlineMs?: number;
  /** Client-side gRPC interceptors (metrics). */
  grpcInterceptors?: ConnectionOptions["interceptors"];
  logger?: Logger;
}

/** A client connection (API, reconcile, scripts), retried until `deadlineMs` while Temporal is not reachable. */
export async function connectTemporalClient(
  settings: TemporalSettings,
  options: ConnectClientOptions = {},
): Promise<Connection> {
  const deadlineMs = options.deadlineMs ?? 120_000;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await Connection.connect({
        ...temporalConnectionOptions(settings),
        connectTimeout: 5_000,
        ...(options.grpcInterceptors !== undefined && { interceptors: options.grpcInterceptors }),
      });
    } catch (error) {
      if (Date.now() - started > deadlineMs) throw error;
      if (attempt === 1 || attempt % 10 === 0) {
        options.logger?.warn(
          { ...describeTemporalConnection(settings), err: error },
          "Temporal is not reachable yet; retrying",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 200 * attempt)));
    }
  }
}

/** The worker's native connection with the same settings. */
export function connectTemporalWorker(
  settings: TemporalSettings,
  extra: Partial<NativeConnectionOptions> = {},
): Promise<NativeConnection> {
  return NativeConnection.connect({ ...temporalConnectionOptions(settings), ...extra });
}

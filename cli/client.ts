// The CLI's way to the service: the public GraphQL API over HTTP (queries, mutations) and graphql-ws
// (live release updates), with RP_URL and RP_TOKEN. Every failure becomes a CliError that says what
// happened and, where the caller can do something about it, what to do.

import { randomUUID } from "node:crypto";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

/** Exit codes (README, "The CLI"). */
export const EXIT = {
  ok: 0,
  /** The API answered an error; for `release wait`: the release was aborted. */
  failed: 1,
  /** `release wait`: the timeout passed first. */
  timeout: 2,
  /** `release wait`: the release ended in the other final state than the one awaited. */
  otherEnd: 3,
  /** Nothing could be asked: RP_URL / RP_TOKEN missing or wrong, the server unreachable, the token refused. */
  setup: 4,
  /** `release wait`: the API answered an error (so 1 keeps meaning "aborted"). */
  waitError: 5,
  /** Bad command line. */
  usage: 64,
} as const;

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(code: string, message: string, exitCode: number, hint?: string) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

export interface Connection {
  /** The service's base URL, e.g. http://localhost:4000 (no /graphql). */
  baseUrl: string;
  token: string;
}

const ADMIN_HINT =
  'A fresh installation saves its ADMIN token in .data/admin-token of the checkout: export RP_TOKEN="$(cat .data/admin-token)"';

/** RP_URL and RP_TOKEN (or --url), checked before anything is sent. */
export function connectionFromEnv(env: NodeJS.ProcessEnv, urlOption?: string): Connection {
  const rawUrl = (urlOption ?? env.RP_URL ?? "").trim();
  if (rawUrl === "") {
    throw new CliError(
      "NOT_CONFIGURED",
      "RP_URL is not set",
      EXIT.setup,
      "Set it to the service's base URL, e.g. export RP_URL=http://localhost:4000 (what `npm start` serves), or pass --url.",
    );
  }
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new CliError("NOT_CONFIGURED", `RP_URL is not a URL: "${rawUrl}"`, EXIT.setup, "e.g. http://localhost:4000");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(
      "NOT_CONFIGURED",
      `RP_URL must be http(s): "${rawUrl}"`,
      EXIT.setup,
      "e.g. http://localhost:4000",
    );
  }
  const baseUrl = url.href.replace(/\/+$/, "").replace(/\/graphql$/, "");
  const token = (env.RP_TOKEN ?? "").trim();
  if (token === "") {
    throw new CliError(
      "NOT_CONFIGURED",
      "RP_TOKEN is not set",
      EXIT.setup,
      `Set it to an API token's secret. ${ADMIN_HINT}`,
    );
  }
  return { baseUrl, token };
}

interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

function apiError(errors: readonly GraphQLError[], exitCode: number): CliError {
  const first = errors[0];
  const code = first?.extensions?.code ?? "INTERNAL";
  const message = errors.map((error) => error.message).join("; ");
  if (code === "UNAUTHENTICATED") {
    return new CliError(code, message, EXIT.setup, `RP_TOKEN was refused: check its value. ${ADMIN_HINT}`);
  }
  return new CliError(code, message, exitCode);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause;
    if (cause instanceof Error && cause.message !== "") return cause.message;
    if (typeof cause === "object" && cause !== null && "code" in cause) return String(cause.code);
    return error.message;
  }
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message);
  return String(error);
}

function unreachable(baseUrl: string, error: unknown): CliError {
  const cause = describe(error);
  return new CliError(
    "UNREACHABLE",
    `cannot reach the service at ${baseUrl} (${cause})`,
    EXIT.setup,
    "Is it running? Start it with `npm start` in the checkout, or set RP_URL to its base URL (e.g. http://localhost:4000).",
  );
}

export interface RequestOptions {
  /** Exit code for an error the API answers (default EXIT.failed). */
  errorExit?: number;
  /** Sent as Idempotency-Key: a retried action is applied once. */
  idempotencyKey?: string;
}

/** POST /graphql; resolves to `data`, or throws a CliError carrying the contract's code. */
export async function request<T>(
  connection: Connection,
  query: string,
  variables: Record<string, unknown> = {},
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
    authorization: `Bearer ${connection.token}`,
  };
  if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
  let response: Response;
  try {
    response = await fetch(`${connection.baseUrl}/graphql`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    throw unreachable(connection.baseUrl, error);
  }
  const text = await response.text();
  let body: { data?: T | null; errors?: GraphQLError[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new CliError(
      "NOT_GRAPHQL",
      `${connection.baseUrl}/graphql answered HTTP ${response.status} without a GraphQL answer`,
      EXIT.setup,
      "Is RP_URL the service's base URL (e.g. http://localhost:4000)?",
    );
  }
  if (body.errors !== undefined && body.errors.length > 0)
    throw apiError(body.errors, options.errorExit ?? EXIT.failed);
  if (body.data === undefined || body.data === null) {
    throw new CliError("INTERNAL", `the service answered HTTP ${response.status} without data`, EXIT.failed);
  }
  return body.data;
}

export const newIdempotencyKey = (): string => `rp-cli-${randomUUID()}`;

export interface Subscription {
  /** Resolves when the subscription ends (completed by the server or by `stop`), rejects on an error. */
  done: Promise<void>;
  stop(): void;
}

/**
 * A graphql-ws subscription: `onData` gets each result's data. Reconnects a few times if the socket
 * drops (the release subscriptions start with the current state, so nothing is missed).
 */
export function subscribe<T>(
  connection: Connection,
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  options: { errorExit?: number } = {},
): Subscription {
  const wsUrl = `${connection.baseUrl.replace(/^http/, "ws")}/graphql`;
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${connection.token}` },
    retryAttempts: 3,
    lazy: true,
    // A refused token closes the socket with 4401/4403: not worth retrying.
    shouldRetry: (event) => !(isCloseEvent(event) && (event.code === 4401 || event.code === 4403)),
  });
  let stopped = false;
  let unsubscribe: (() => void) | null = null;
  const done = new Promise<void>((resolve, reject) => {
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          if (result.errors !== undefined && result.errors.length > 0) {
            reject(apiError(result.errors as GraphQLError[], options.errorExit ?? EXIT.failed));
            return;
          }
          if (result.data !== undefined && result.data !== null) onData(result.data as T);
        },
        error: (error: unknown) => {
          if (stopped) return resolve();
          if (Array.isArray(error)) return reject(apiError(error as GraphQLError[], options.errorExit ?? EXIT.failed));
          if (isCloseEvent(error)) {
            if (error.code === 4401 || error.code === 4403) {
              return reject(
                apiError(
                  [{ message: error.reason || "token refused", extensions: { code: "UNAUTHENTICATED" } }],
                  EXIT.setup,
                ),
              );
            }
            return reject(
              unreachable(connection.baseUrl, new Error(`WebSocket closed: ${error.code} ${error.reason}`)),
            );
          }
          reject(unreachable(connection.baseUrl, error));
        },
        complete: () => resolve(),
      },
    );
  });
  const finished = done.finally(() => {
    void client.dispose();
  });
  return {
    done: finished,
    stop() {
      stopped = true;
      unsubscribe?.();
      void client.dispose();
    },
  };
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === "object" && value !== null && "code" in value && typeof value.code === "number";
}

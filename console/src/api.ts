// The console's only way to the service: the public GraphQL API. Queries and mutations go over HTTP
// (POST /graphql, an Idempotency-Key per release action so a retried click is applied once);
// subscriptions over graphql-ws on the same path. Documents are typed strings: `Doc<Data, Variables>`
// carries the shapes the call site gets back (see documents.ts).

import { type Client, createClient } from "graphql-ws";
import type { Doc } from "./doc.ts";

export type { Doc } from "./doc.ts";

export interface ApiErrorItem {
  message: string;
  extensions?: { code?: string; field?: string };
}

/** An answer with errors: the first error's code and message, in words a person understands. */
export class ApiError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(item: ApiErrorItem) {
    super(item.message);
    this.code = item.extensions?.code ?? "INTERNAL";
    this.field = item.extensions?.field;
  }
}

const TOKEN_KEY = "release-pipelines.token";

/** The signed-in token's secret (this browser tab only: sessionStorage). */
export const session = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (secret: string): void => sessionStorage.setItem(TOKEN_KEY, secret),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

const ENDPOINT = "/graphql";

export async function request<TData, TVars>(
  document: Doc<TData, TVars>,
  variables?: TVars,
  options: { token?: string; idempotencyKey?: string } = {},
): Promise<TData> {
  const token = options.token ?? session.get();
  let response: Response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        ...(token && { authorization: `Bearer ${token}` }),
        ...(options.idempotencyKey && { "idempotency-key": options.idempotencyKey }),
      },
      body: JSON.stringify({ query: document, variables: variables ?? {} }),
    });
  } catch {
    throw new ApiError({ message: "The service could not be reached.", extensions: { code: "NETWORK" } });
  }
  let body: { data?: TData | null; errors?: ApiErrorItem[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError({ message: `The service answered ${response.status}.`, extensions: { code: "INTERNAL" } });
  }
  const first = body.errors?.[0];
  if (first) {
    if (first.extensions?.code === "UNAUTHENTICATED") onUnauthenticated();
    throw new ApiError(first);
  }
  if (body.data === undefined || body.data === null) {
    throw new ApiError({ message: "The service answered no data.", extensions: { code: "INTERNAL" } });
  }
  return body.data;
}

let unauthenticatedListener: () => void = () => {};
const onUnauthenticated = (): void => unauthenticatedListener();
/** Called when the service no longer accepts the token (revoked, expired): the app signs out. */
export const setUnauthenticatedListener = (listener: () => void): void => {
  unauthenticatedListener = listener;
};

// ---- subscriptions (graphql-ws) ----------------------------------------------------------------

const isAuthClose = (event: unknown): boolean => {
  const code = (event as { code?: unknown } | null)?.code;
  return code === 4401 || code === 4403;
};

let wsClient: Client | null = null;
let wsToken: string | null = null;

function ws(): Client {
  const token = session.get();
  if (wsClient === null || wsToken !== token) {
    void wsClient?.dispose();
    wsToken = token;
    const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${ENDPOINT}`;
    wsClient = createClient({
      url,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      // Reconnects after a network blip; every subscription the console opens starts with the current
      // state (releaseUpdated) or is followed by a refetch, so nothing is missed. A token the service
      // refuses (closed 4401/4403) is not retried: the tab signs out.
      retryAttempts: 1_000_000,
      shouldRetry: (event) => !isAuthClose(event),
      on: {
        connected: () => {
          for (const listener of reconnectListeners) listener();
        },
        closed: (event) => {
          if (isAuthClose(event)) onUnauthenticated();
        },
      },
    });
  }
  return wsClient;
}

const reconnectListeners = new Set<() => void>();

/** Re-runs `listener` each time the WebSocket (re)connects (e.g. to refetch what may have been missed). */
export function onConnected(listener: () => void): () => void {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}

export function closeSubscriptions(): void {
  void wsClient?.dispose();
  wsClient = null;
  wsToken = null;
}

/** Subscribes; returns the unsubscribe function. */
export function subscribe<TData, TVars>(
  document: Doc<TData, TVars>,
  variables: TVars,
  next: (data: TData) => void,
  error: (error: ApiError) => void = () => {},
): () => void {
  return ws().subscribe<TData>(
    { query: document, variables: variables as Record<string, unknown> },
    {
      next: (message) => {
        const first = message.errors?.[0] as ApiErrorItem | undefined;
        if (first) error(new ApiError(first));
        else if (message.data) next(message.data as TData);
      },
      error: (cause) => {
        const list = Array.isArray(cause) ? (cause as ApiErrorItem[]) : null;
        error(new ApiError(list?.[0] ?? { message: "The live connection was lost.", extensions: { code: "NETWORK" } }));
      },
      complete: () => {},
    },
  );
}

// ---- errors in words ----------------------------------------------------------------------------

const WORDS: Record<string, string> = {
  UNAUTHENTICATED: "Your token was not accepted (unknown, revoked or expired). Sign in again.",
  FORBIDDEN: "Your role does not allow this.",
  NOT_FOUND: "It does not exist, or your token cannot see it.",
  VALIDATION: "Some input is not valid.",
  CONFLICT: "That name is already taken, or someone else changed this at the same time.",
  IMMUTABLE: "A published pipeline cannot be changed; clone it to make a new draft.",
  PIPELINE_IN_USE: "A feature still uses this pipeline; detach it first.",
  PIPELINE_NOT_PUBLISHED: "Only a published pipeline can be attached.",
  RELEASE_IN_PROGRESS: "A release of this feature is in progress; finish or abort it first.",
  INVALID_STATE: "Not possible in the release's current state: the release has moved on since this page showed it.",
  SELF_APPROVAL_FORBIDDEN: "You started this release and its pipeline forbids approving your own release.",
  RATE_LIMITED: "Too many requests: wait a moment and try again.",
  INTERNAL: "The service failed unexpectedly; try again.",
  NETWORK: "The service could not be reached.",
};

/** A sentence for an error, with the code in brackets and the service's own message after it. */
export function inWords(error: unknown): string {
  if (error instanceof ApiError) {
    const words = WORDS[error.code] ?? "The request failed.";
    const detail = error.message && error.message !== words ? ` ${error.message}` : "";
    return `${words} (${error.code})${detail ? ` —${detail}` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export const isCannotQueryField = (error: unknown): boolean =>
  error instanceof ApiError && error.code === "VALIDATION" && /Cannot query field|Unknown argument/.test(error.message);

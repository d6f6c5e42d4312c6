// A raw SSE reader for tests of /sdk/v1/stream: collects events and heartbeat comments, knows when the
// server closed the stream, and waits on events (not sleeps).

import { createSseParser, type SseEvent } from "../../sdk/sse.ts";

export interface RawStream {
  status: number;
  headers: Headers;
  /** The body, when the answer was not a stream (an error). */
  body: string | null;
  events: SseEvent[];
  comments: number;
  closed: boolean;
  /** Resolves with the first event at index `from` or later (received already, or later) matching `predicate`. */
  next(predicate?: (event: SseEvent) => boolean, from?: number, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves once `count` heartbeat comments arrived. */
  heartbeats(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once the server ended the stream. */
  ended(timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openStream(
  baseUrl: string,
  key: string | null,
  headers: Record<string, string> = {},
): Promise<RawStream> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/sdk/v1/stream`, {
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...headers },
    signal: controller.signal,
  });
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const stream: RawStream = {
    status: response.status,
    headers: response.headers,
    body: null,
    events: [],
    comments: 0,
    closed: false,
    next(predicate = () => true, from = 0, timeoutMs = 20_000) {
      return waitFor(() => stream.events.slice(from).find(predicate) ?? null, timeoutMs, "an event");
    },
    heartbeats(count, timeoutMs = 20_000) {
      return waitFor(() => (stream.comments >= count ? true : null), timeoutMs, `${count} heartbeats`).then(() => {});
    },
    ended(timeoutMs = 20_000) {
      return waitFor(() => (stream.closed ? true : null), timeoutMs, "the end of the stream").then(() => {});
    },
    close: () => controller.abort(),
  };
  function waitFor<T>(check: () => T | null, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const run = (): void => {
        const found = check();
        if (found !== null) {
          waiters.delete(run);
          clearTimeout(timer);
          resolve(found);
        } else if (stream.closed && what !== "the end of the stream") {
          waiters.delete(run);
          clearTimeout(timer);
          reject(
            new Error(`the stream ended before ${what}; got ${JSON.stringify(stream.events.map((e) => e.event))}`),
          );
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(run);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(stream.events.map((e) => e.event))}`));
      }, timeoutMs);
      waiters.add(run);
      run();
    });
  }
  if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    stream.body = await response.text();
    stream.closed = true;
    return stream;
  }
  const parser = createSseParser(
    (event) => {
      stream.events.push(event);
      notify();
    },
    () => {
      stream.comments++;
      notify();
    },
  );
  (async () => {
    const reader = (response.body as ReadableStream<Uint8Array>)
      .pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>)
      .getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.push(value);
    }
  })()
    .catch(() => {})
    .finally(() => {
      stream.closed = true;
      notify();
    });
  return stream;
}

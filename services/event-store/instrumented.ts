// The event store as the processes use it in production: the same port, with each append timed
// (rp_event_store_append_duration_seconds) and traced, and each stream read traced. A Proxy, so every
// other method — including ones added to the port later — passes through untouched, with `this` bound.

import { SpanKind } from "@opentelemetry/api";
import { isDomainError } from "../core/errors.ts";
import { type Metrics, secondsSince, streamKind } from "../platform/metrics.ts";
import { withSpan } from "../platform/tracing.ts";
import type { EventStore } from "./port.ts";

export function instrumentEventStore(store: EventStore, metrics: Metrics): EventStore {
  const append: EventStore["append"] = (stream, events, expected) => {
    const kind = streamKind(stream);
    return withSpan(
      "eventstore.append",
      {
        "rp.stream": stream,
        "rp.stream_kind": kind,
        "rp.event_count": events.length,
        "rp.event_types": events.map((event) => event.type).join(","),
        "rp.expected_revision": String(expected),
      },
      async (span) => {
        const started = process.hrtime.bigint();
        try {
          const result = await store.append(stream, events, expected);
          metrics.eventStoreAppendDuration.observe({ stream_kind: kind, outcome: "ok" }, secondsSince(started));
          span.setAttribute("rp.position", result.position);
          return result;
        } catch (error) {
          const outcome = isDomainError(error) ? error.code : "error";
          metrics.eventStoreAppendDuration.observe({ stream_kind: kind, outcome }, secondsSince(started));
          throw error;
        }
      },
      SpanKind.CLIENT,
    );
  };
  const readStream: EventStore["readStream"] = (stream, options) =>
    withSpan(
      "eventstore.readStream",
      { "rp.stream": stream, "rp.stream_kind": streamKind(stream) },
      () => store.readStream(stream, options),
      SpanKind.CLIENT,
    );

  return new Proxy(store, {
    get(target, property) {
      if (property === "append") return append;
      if (property === "readStream") return readStream;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

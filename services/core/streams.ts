// Streams, one per entity (PRODUCT.md, Events): the one module that names them and parses their names.

export const streams = {
  project: (id: string) => `project-${id}`,
  token: (id: string) => `apitoken-${id}`,
  pipeline: (id: string) => `pipeline-${id}`,
  feature: (id: string) => `feature-${id}`,
  release: (id: string) => `release-${id}`,
  webhook: (id: string) => `webhook-${id}`,
  /** One stream per (webhook, event) delivery: its attempts. */
  delivery: (id: string) => `webhookdelivery-${id}`,
  sdkKey: (id: string) => `sdkkey-${id}`,
} as const;

export type EntityKind = keyof typeof streams;

export const ENTITY_KINDS = Object.keys(streams) as EntityKind[];

const KIND_BY_PREFIX = new Map<string, EntityKind>(ENTITY_KINDS.map((kind) => [streams[kind]("").slice(0, -1), kind]));

/** `pipeline-abc` → { kind: "pipeline", id: "abc" }; null for a stream that names no entity. */
export function parseStream(stream: string): { kind: EntityKind; id: string } | null {
  const dash = stream.indexOf("-");
  if (dash < 0) return null;
  const kind = KIND_BY_PREFIX.get(stream.slice(0, dash));
  return kind === undefined ? null : { kind, id: stream.slice(dash + 1) };
}

/** The id of a stream of `kind` (`release-f.1` → `f.1`), or null when the stream is of another kind. */
export function streamId(stream: string, kind: EntityKind): string | null {
  const parsed = parseStream(stream);
  return parsed !== null && parsed.kind === kind ? parsed.id : null;
}

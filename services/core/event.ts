/** A domain event: a past-tense type and its data. Metadata (actor, time, ids) travels beside it in the store. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}

/** Streams, one per entity (PRODUCT.md, Events). */
export const streams = {
  project: (id: string) => `project-${id}`,
  token: (id: string) => `apitoken-${id}`,
  pipeline: (id: string) => `pipeline-${id}`,
  feature: (id: string) => `feature-${id}`,
  release: (id: string) => `release-${id}`,
  sdkKey: (id: string) => `sdkkey-${id}`,
} as const;

export type EntityKind = keyof typeof streams;

/** `pipeline-abc` → { kind: "pipeline", id: "abc" }. */
export function parseStream(stream: string): { kind: EntityKind; id: string } | null {
  const dash = stream.indexOf("-");
  if (dash < 0) return null;
  const prefix = stream.slice(0, dash);
  const id = stream.slice(dash + 1);
  const kind = (Object.keys(streams) as EntityKind[]).find((k) => streams[k]("") === `${prefix}-`);
  return kind ? { kind, id } : null;
}

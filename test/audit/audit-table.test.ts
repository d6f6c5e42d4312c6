// The audit index's worker-side table on its own, with more rows than the scenario tests make and small
// pieces (segments of the entity index, time blocks, chunks of posting lists) so that every walk crosses
// many of them: its walks (every row, one posting list, several merged for a types filter, the entity
// index segment by segment) and its time lookup for positionAt (the zone map) against brute force, its
// cursor lookup, and a feature's history across the main thread's restarts of its local numbering.

import { describe, expect, it } from "vitest";
import {
  type AuditLayout,
  AuditTable,
  type EventBatch,
  IDS_PER_EVENT,
  type TableFilter,
  type TableRow,
  UnknownCursorError,
} from "../../services/audit/audit-table.ts";
import { prng } from "../../services/projections/testing/simulation.ts";

interface Row {
  position: string;
  type: string;
  /** The stream: no entity kind prefix, so the entity id is the whole stream name. */
  entity: string;
  project: string | null;
  actor: string;
  at: number;
}

const SMALL: AuditLayout = { segmentShift: 6, blockShift: 4, chunkMax: 8 };

const TYPES = ["TypeA", "TypeB", "TypeC", "TypeD"];
const PROJECTS = ["p1", "p2", "p3"];
const ACTORS = ["alice", "bob", "system"];
const ENTITIES = Array.from({ length: 40 }, (_, i) => `entity${i}`);

/** Rows with times that mostly follow the log, sometimes tie, sometimes go back a little. */
function makeRows(count: number, seed: number, start = 0, startAt = 1_700_000_000_000): Row[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
  const rows: Row[] = [];
  let at = startAt;
  for (let i = 0; i < count; i++) {
    const r = random();
    if (r < 0.6) at += Math.floor(random() * 1000);
    else if (r < 0.8) at -= Math.floor(random() * 3000);
    rows.push({
      position: String(start + i + 1).padStart(20, "0"),
      type: pick(TYPES),
      entity: pick(ENTITIES),
      project: random() < 0.1 ? null : pick(PROJECTS),
      actor: pick(ACTORS),
      at,
    });
  }
  return rows;
}

/** A batch as the main thread builds it, numbering strings in `local` (one numbering per table). */
const batchOf = (rows: Row[], local: Map<string, number>): EventBatch => {
  const names: string[] = [];
  const number = (name: string): number => {
    let id = local.get(name);
    if (id === undefined) {
      id = local.size;
      local.set(name, id);
      names.push(name);
    }
    return id;
  };
  const ids = new Int32Array(rows.length * IDS_PER_EVENT);
  rows.forEach((row, e) => {
    ids.set([number(row.entity), number(row.type), -1, -1], e * IDS_PER_EVENT);
  });
  const metadata = rows.map((row) => ({
    actor: row.actor,
    occurredAt: new Date(row.at).toISOString(),
    projectId: row.project,
  }));
  return {
    names,
    ids,
    positions: new TextEncoder().encode(rows.map((row) => row.position).join("\n")),
    recordedAt: new TextEncoder().encode(rows.map(() => "2026-01-01T00:00:00.000Z").join("\n")),
    metadata: new TextEncoder().encode(JSON.stringify(metadata)),
  };
};

/** The last row with the latest time at or before `ms`. */
const positionAtReference = (rows: readonly Row[], ms: number): string | null => {
  let best: Row | null = null;
  for (const row of rows) if (row.at <= ms && (best === null || row.at >= best.at)) best = row;
  return best?.position ?? null;
};

const matches = (filter: TableFilter, row: Row): boolean =>
  (!filter.projectId || row.project === filter.projectId) &&
  (!filter.entityId || row.entity === filter.entityId) &&
  (!filter.types?.length || filter.types.includes(row.type)) &&
  (!filter.actor || row.actor === filter.actor) &&
  (filter.fromMs === null || filter.fromMs === undefined || row.at >= filter.fromMs) &&
  (filter.toMs === null || filter.toMs === undefined || row.at <= filter.toMs);

describe("the audit table", () => {
  it("finds the position at a time — times that go back a little and tie, across blocks — as brute force does", () => {
    const table = new AuditTable(":memory:", SMALL);
    const local = new Map<string, number>();
    const first = makeRows(9000, 1);
    table.add(batchOf(first, local));
    const probe = (rows: Row[], seed: number) => {
      const random = prng(seed);
      const times = [rows[0]?.at ?? 0, ...rows.map((row) => row.at)];
      for (let i = 0; i < 300; i++) {
        const ms = (times[Math.floor(random() * times.length)] as number) + Math.floor(random() * 3) - 1;
        expect(table.positionAt(ms), String(ms)).toBe(positionAtReference(rows, ms));
      }
      expect(table.positionAt(0)).toBeNull();
      expect(table.positionAt(Number.MAX_SAFE_INTEGER)).toBe(positionAtReference(rows, Number.MAX_SAFE_INTEGER));
    };
    probe(first, 2);
    // A few rows more, starting before the last time (blocks that overlap).
    const few = makeRows(500, 3, first.length, (first[first.length - 1] as Row).at - 5000);
    table.add(batchOf(few, local));
    probe([...first, ...few], 4);
    // Many more.
    const many = makeRows(6000, 5, first.length + few.length, (few[few.length - 1] as Row).at);
    table.add(batchOf(many, local));
    probe([...first, ...few, ...many], 6);
  });

  it("pages through filters on every walk (all rows, one list, merged lists) in both orders", () => {
    const table = new AuditTable(":memory:", SMALL);
    const local = new Map<string, number>();
    const rows = makeRows(5000, 7);
    table.add(batchOf(rows.slice(0, 2500), local));
    table.add(batchOf(rows.slice(2500), local));
    const random = prng(8);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    for (let i = 0; i < 80; i++) {
      const filter: TableFilter = {};
      if (random() < 0.4) filter.projectId = pick(PROJECTS);
      if (random() < 0.3) filter.entityId = pick(ENTITIES);
      if (random() < 0.5) filter.types = random() < 0.5 ? [pick(TYPES)] : [pick(TYPES), "TypeC", "Nope"];
      if (random() < 0.4) filter.actor = pick(ACTORS);
      if (random() < 0.3) filter.fromMs = pick(rows).at;
      if (random() < 0.3) filter.toMs = pick(rows).at;
      const order = random() < 0.5 ? ("ASC" as const) : ("DESC" as const);
      const limit = 1 + Math.floor(random() * 400);
      const expected = rows.filter((row) => matches(filter, row)).map((row) => row.position);
      if (order === "DESC") expected.reverse();
      const seen: TableRow[] = [];
      let after: string | null = null;
      for (;;) {
        const page = table.query({ filter, order, limit, after });
        seen.push(...page);
        if (page.length < limit) break;
        after = (page[page.length - 1] as TableRow).position;
      }
      expect(
        seen.map((row) => row.position),
        JSON.stringify({ filter, order }),
      ).toEqual(expected);
      for (const row of seen.slice(0, 5)) {
        const index = Number(row.position) - 1;
        const source = rows[index] as Row;
        expect(row).toEqual({
          seq: index + 1,
          position: source.position,
          before: index === 0 ? null : (rows[index - 1] as Row).position,
          entityId: source.entity,
          projectId: source.project,
          actor: source.actor,
          at: source.at,
        });
      }
    }
  });

  it("finds every position as a cursor, rows added after a lookup too, and refuses unknown ones", () => {
    const table = new AuditTable(":memory:", SMALL);
    const local = new Map<string, number>();
    const rows = makeRows(3000, 9);
    table.add(batchOf(rows.slice(0, 1000), local));
    const next = (after: string) => table.query({ filter: {}, order: "ASC", limit: 1, after })[0]?.position;
    expect(next((rows[10] as Row).position)).toBe((rows[11] as Row).position);
    // Rows added since are found too.
    table.add(batchOf(rows.slice(1000), local));
    for (let i = 0; i < rows.length - 1; i += 7)
      expect(next((rows[i] as Row).position)).toBe((rows[i + 1] as Row).position);
    expect(table.row((rows[2999] as Row).position)?.seq).toBe(3000);
    expect(() => next("00000000000000009999")).toThrow(UnknownCursorError);
    expect(table.row("nope")).toBeNull();
    table.clear();
    expect(table.row((rows[0] as Row).position)).toBeNull();
  });

  it("keeps a feature's history (its events and its releases') across restarts of the local numbering", () => {
    const table = new AuditTable(":memory:", SMALL);
    const random = prng(12);
    const features = ["f1", "f2", "f3"];
    /** What each event is: its stream, and the feature a release's first event names. */
    const events: { stream: string; feature: number; position: string }[] = [];
    const releaseOf = new Map<string, string>();
    for (let i = 0; i < 1500; i++) {
      const feature = features[Math.floor(random() * features.length)] as string;
      let stream = `feature-${feature}`;
      let named = -1;
      if (random() < 0.6) {
        const release = `r${Math.floor(random() * 60)}`;
        stream = `release-${release}`;
        if (!releaseOf.has(release)) {
          releaseOf.set(release, feature);
          named = 1;
        }
      }
      events.push({ stream, feature: named, position: String(i + 1).padStart(20, "0") });
    }
    // Batches of 50, the local numbering started over every third batch (the main thread's bound).
    let local = new Map<string, number>();
    for (let start = 0, batchNo = 0; start < events.length; start += 50, batchNo++) {
      const reset = batchNo % 3 === 0 && batchNo > 0;
      if (reset) local = new Map();
      const names: string[] = [];
      const number = (name: string): number => {
        let id = local.get(name);
        if (id === undefined) {
          id = local.size;
          local.set(name, id);
          names.push(name);
        }
        return id;
      };
      const slice = events.slice(start, start + 50);
      const ids = new Int32Array(slice.length * IDS_PER_EVENT);
      slice.forEach((event, e) => {
        const release = event.stream.startsWith("release-") ? event.stream.slice(8) : null;
        const feature = release !== null && event.feature > 0 ? number(releaseOf.get(release) as string) : -1;
        ids.set([number(event.stream), number("Type"), -1, feature], e * IDS_PER_EVENT);
      });
      const encode = (lines: string[]) => new TextEncoder().encode(lines.join("\n"));
      table.add({
        names,
        reset,
        ids,
        positions: encode(slice.map((event) => event.position)),
        recordedAt: encode(slice.map(() => "2026-01-01T00:00:00.000Z")),
        metadata: new TextEncoder().encode(JSON.stringify(slice.map(() => ({ actor: "amy" })))),
      });
    }
    for (const feature of features) {
      // The feature's own events, and its releases' from the event that named the feature on.
      const expected = events
        .filter((event) => {
          if (event.stream === `feature-${feature}`) return true;
          const release = event.stream.slice(8);
          return event.stream.startsWith("release-") && releaseOf.get(release) === feature;
        })
        .map((event) => event.position)
        .reverse();
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = table.history(feature, after, 23);
        seen.push(...page.map((row) => row.position));
        if (page.length < 23) break;
        after = (page[page.length - 1] as TableRow).position;
      }
      expect(seen, feature).toEqual(expected);
    }
    // A release's own events stay found by its entity id.
    const release = [...releaseOf.keys()][0] as string;
    const own = events.filter((event) => event.stream === `release-${release}`).map((event) => event.position);
    const rows = table.query({ filter: { entityId: release }, order: "ASC", limit: 1000, after: null });
    expect(rows.map((row) => row.position)).toEqual(own);
    expect(rows.every((row) => row.entityId === release)).toBe(true);
  });
});

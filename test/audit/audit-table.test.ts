// The audit index's worker-side table on its own, with more rows than the scenario tests make: its
// walks over posting lists (one, or several merged for a types filter) and its time order for
// positionAt (sorted on first use, then rows merged in as they arrive) against brute force.

import { describe, expect, it } from "vitest";
import {
  AuditTable,
  type EventBatch,
  IDS_PER_EVENT,
  type TableFilter,
  type TableRow,
} from "../../services/audit/audit-table.ts";
import { prng } from "../../services/projections/testing/simulation.ts";

interface Row {
  position: string;
  type: number;
  entity: number;
  project: number;
  actor: number;
  at: number;
}

const NAMES = ["TypeA", "TypeB", "TypeC", "TypeD", "p1", "p2", "p3", "alice", "bob", "system"];
const TYPES = [1, 2, 3, 4];
const PROJECTS = [5, 6, 7];
const ACTORS = [8, 9, 10];
const ENTITIES = 40;
const entityName = (i: number) => `entity-${i}`;
const nameOf = (id: number): string => (id <= NAMES.length ? (NAMES[id - 1] as string) : entityName(id));

/** Rows with times that mostly follow the log, sometimes tie, sometimes go back a little. */
function makeRows(count: number, seed: number, start = 0, startAt = 1_700_000_000_000): Row[] {
  const random = prng(seed);
  const pick = (list: readonly number[]) => list[Math.floor(random() * list.length)] as number;
  const rows: Row[] = [];
  let at = startAt;
  for (let i = 0; i < count; i++) {
    const r = random();
    if (r < 0.6) at += Math.floor(random() * 1000);
    else if (r < 0.8) at -= Math.floor(random() * 3000);
    rows.push({
      position: String(start + i + 1).padStart(20, "0"),
      type: pick(TYPES),
      entity: NAMES.length + 1 + Math.floor(random() * ENTITIES),
      project: random() < 0.1 ? -1 : pick(PROJECTS),
      actor: pick(ACTORS),
      at,
    });
  }
  return rows;
}

const batchOf = (rows: Row[], names: string[]): EventBatch => {
  const ids = new Int32Array(rows.length * IDS_PER_EVENT);
  const at = new Float64Array(rows.length);
  rows.forEach((row, e) => {
    ids.set([row.type, row.entity, row.project, -1, row.actor], e * IDS_PER_EVENT);
    at[e] = row.at;
  });
  return { names, ids, at, positions: rows.map((row) => row.position).join("\n") };
};

const allNames = [...NAMES, ...Array.from({ length: ENTITIES }, (_, i) => entityName(NAMES.length + 1 + i))];

/** The last row with the latest time at or before `ms`. */
const positionAtReference = (rows: readonly Row[], ms: number): string | null => {
  let best: Row | null = null;
  for (const row of rows) if (row.at <= ms && (best === null || row.at >= best.at)) best = row;
  return best?.position ?? null;
};

const matches = (filter: TableFilter, row: Row): boolean =>
  (!filter.projectId || (row.project >= 0 && nameOf(row.project) === filter.projectId)) &&
  (!filter.entityId || nameOf(row.entity) === filter.entityId) &&
  (!filter.types?.length || filter.types.includes(nameOf(row.type))) &&
  (!filter.actor || nameOf(row.actor) === filter.actor) &&
  (filter.fromMs === null || filter.fromMs === undefined || row.at >= filter.fromMs) &&
  (filter.toMs === null || filter.toMs === undefined || row.at <= filter.toMs);

describe("the audit table", () => {
  it("finds the position at a time — sorted on first use, then with new rows merged in — as brute force does", () => {
    const table = new AuditTable(":memory:");
    const first = makeRows(9000, 1);
    table.add(batchOf(first, allNames));
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
    // A few rows more: not merged yet, checked one by one.
    const few = makeRows(500, 3, first.length, (first[first.length - 1] as Row).at - 5000);
    table.add(batchOf(few, []));
    probe([...first, ...few], 4);
    // Many more: merged into the time order.
    const many = makeRows(6000, 5, first.length + few.length, (few[few.length - 1] as Row).at);
    table.add(batchOf(many, []));
    probe([...first, ...few, ...many], 6);
  });

  it("pages through filters on every walk (all rows, one list, merged lists) in both orders", () => {
    const table = new AuditTable(":memory:");
    const rows = makeRows(5000, 7);
    table.add(batchOf(rows.slice(0, 2500), allNames));
    table.add(batchOf(rows.slice(2500), []));
    const random = prng(8);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    for (let i = 0; i < 80; i++) {
      const filter: TableFilter = {};
      if (random() < 0.4) filter.projectId = nameOf(pick(PROJECTS));
      if (random() < 0.3) filter.entityId = entityName(NAMES.length + 1 + Math.floor(random() * ENTITIES));
      if (random() < 0.5)
        filter.types = random() < 0.5 ? [nameOf(pick(TYPES))] : [nameOf(pick(TYPES)), "TypeC", "Nope"];
      if (random() < 0.4) filter.actor = nameOf(pick(ACTORS));
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
          entityId: nameOf(source.entity),
          projectId: source.project < 0 ? null : nameOf(source.project),
          actor: nameOf(source.actor),
          at: source.at,
        });
      }
    }
  });
});

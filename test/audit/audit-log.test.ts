// auditLog and Feature.history over the audit index, checked against a reference computed straight from
// the log: every filter alone and combined, both orders, pagination that visits every event exactly once,
// and the errors a client gets for bad arguments.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUDIT_PAGE_MAX,
  type AuditEvent,
  type AuditFilter,
  type AuditIndex,
  compileAuditFilter,
  createAuditIndex,
  type SortOrder,
  toAuditEvent,
} from "../../services/audit/audit-index.ts";
import { isDomainError } from "../../services/core/errors.ts";
import type { RecordedEvent } from "../../services/event-store/port.ts";
import { ReadModels } from "../../services/projections/read-models.ts";
import { startProjections } from "../../services/projections/runner.ts";
import { prng } from "../../services/projections/testing/simulation.ts";
import { runScenario, type Scenario } from "./fixture.ts";

let scenario: Scenario;
let reference: AuditEvent[];

/** What the contract's AuditEvent is for a stored event, computed independently of the index. */
const expectedNode = (event: RecordedEvent): AuditEvent => ({
  id: event.id,
  position: event.position,
  type: event.type,
  stream: event.stream,
  entityId: event.stream.slice(event.stream.indexOf("-") + 1),
  projectId: event.metadata.projectId,
  actor: event.metadata.actor,
  at: event.metadata.occurredAt,
  data: event.data,
});

const matches = (filter: AuditFilter, node: AuditEvent): boolean =>
  (!filter.projectId || node.projectId === filter.projectId) &&
  (!filter.entityId || node.entityId === filter.entityId) &&
  (!filter.types?.length || filter.types.includes(node.type)) &&
  (!filter.actor || node.actor === filter.actor) &&
  (!filter.from || Date.parse(node.at) >= Date.parse(filter.from)) &&
  (!filter.to || Date.parse(node.at) <= Date.parse(filter.to));

/** Every page of a query, following endCursor; fails on a repeated event. */
async function everyPage(
  audit: AuditIndex,
  args: { filter?: AuditFilter; order?: SortOrder; first: number },
): Promise<{ nodes: AuditEvent[]; pages: number }> {
  const nodes: AuditEvent[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const page = await audit.query({ ...args, after });
    pages++;
    expect(page.edges.length).toBeLessThanOrEqual(args.first);
    for (const edge of page.edges) {
      expect(edge.cursor).toBe(edge.node.position);
      nodes.push(edge.node);
    }
    expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1]?.cursor ?? null);
    if (!page.pageInfo.hasNextPage) break;
    expect(page.edges.length).toBe(args.first);
    after = page.pageInfo.endCursor;
  }
  expect(new Set(nodes.map((n) => n.position)).size).toBe(nodes.length);
  return { nodes, pages };
}

const expectError = async (run: () => Promise<unknown>, code: string, field?: string) => {
  let thrown: unknown;
  try {
    await run();
  } catch (error) {
    thrown = error;
  }
  expect(isDomainError(thrown), `expected a DomainError ${code}, got ${String(thrown)}`).toBe(true);
  if (isDomainError(thrown)) {
    expect(thrown.code).toBe(code);
    if (field !== undefined) expect(thrown.field).toBe(field);
  }
};

beforeAll(async () => {
  scenario = await runScenario({ seed: 7, steps: 900 });
  reference = scenario.log.map(expectedNode);
}, 120_000);

afterAll(async () => {
  await scenario?.close();
});

describe("auditLog", () => {
  it("pages through every stored event exactly once, newest first by default and oldest first with ASC", async () => {
    const desc = await everyPage(scenario.audit, { first: 37 });
    expect(desc.nodes).toEqual([...reference].reverse());
    expect(desc.pages).toBe(Math.ceil(reference.length / 37));
    const asc = await everyPage(scenario.audit, { first: AUDIT_PAGE_MAX, order: "ASC" });
    expect(asc.nodes).toEqual(reference);
    const defaults = await scenario.audit.query();
    expect(defaults.edges.map((e) => e.node)).toEqual([...reference].reverse().slice(0, 50));
    expect(defaults.pageInfo.hasNextPage).toBe(true);
  });

  it("filters by each field alone, as the reference does, in both orders", async () => {
    const projects = [...scenario.simulation.projects.keys()];
    const release = [...scenario.simulation.releases.values()][3];
    const feature = [...scenario.simulation.features.values()][5];
    const pipeline = [...scenario.simulation.pipelines.values()][2];
    const times = reference.map((n) => n.at);
    const middle = times[Math.floor(times.length / 2)] as string;
    const filters: AuditFilter[] = [
      { projectId: projects[0] as string },
      { projectId: projects[1] as string },
      { entityId: release?.id as string },
      { entityId: feature?.id as string },
      { entityId: pipeline?.id as string },
      { entityId: projects[0] as string },
      { types: ["ReleasePhaseApproved"] },
      { types: ["ReleaseAborted", "ReleaseCompleted", "FeaturePipelineDetached"] },
      { actor: "system" },
      { actor: "carol" },
      { from: middle },
      { to: middle },
      { from: times[10] as string, to: times[40] as string },
      // Filter times in another offset mean the same instant.
      { from: new Date(Date.parse(middle)).toISOString().replace("Z", "+00:00") },
    ];
    for (const filter of filters) {
      const expected = reference.filter((node) => matches(filter, node));
      expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
      for (const order of ["ASC", "DESC"] as const) {
        const { nodes } = await everyPage(scenario.audit, { filter, order, first: 23 });
        expect(nodes, `${JSON.stringify(filter)} ${order}`).toEqual(
          order === "ASC" ? expected : [...expected].reverse(),
        );
      }
    }
  });

  it("combines filters (AND) — random combinations against the reference", async () => {
    const random = prng(99);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const projects = [...scenario.simulation.projects.keys()];
    const entities = [...new Set(reference.map((n) => n.entityId))];
    const types = [...new Set(reference.map((n) => n.type))];
    const actors = [...new Set(reference.map((n) => n.actor))];
    const times = reference.map((n) => n.at);
    let nonEmpty = 0;
    for (let i = 0; i < 60; i++) {
      const filter: AuditFilter = {};
      if (random() < 0.5) filter.projectId = pick(projects);
      if (random() < 0.2) filter.entityId = pick(entities);
      if (random() < 0.5) filter.types = [pick(types), pick(types)];
      if (random() < 0.4) filter.actor = pick(actors);
      if (random() < 0.4) filter.from = pick(times);
      if (random() < 0.4) filter.to = pick(times);
      const expected = reference.filter((node) => matches(filter, node));
      if (expected.length > 0) nonEmpty++;
      const order = random() < 0.5 ? "ASC" : "DESC";
      const first = 1 + Math.floor(random() * 60);
      const { nodes } = await everyPage(scenario.audit, { filter, order, first });
      expect(nodes, JSON.stringify(filter)).toEqual(order === "ASC" ? expected : [...expected].reverse());
      // The live path's predicate means the same as the query's filter.
      const predicate = compileAuditFilter(filter);
      expect(reference.filter(predicate)).toEqual(expected);
    }
    expect(nonEmpty).toBeGreaterThan(20);
  });

  it("answers an empty page for names it never saw", async () => {
    for (const filter of [{ projectId: "nope" }, { entityId: "nope" }, { types: ["Nope"] }, { actor: "nobody" }]) {
      const page = await scenario.audit.query({ filter });
      expect(page).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    }
    const late = await scenario.audit.query({ filter: { from: "2999-01-01T00:00:00Z" } });
    expect(late.edges).toEqual([]);
  });

  it("refuses bad arguments with VALIDATION naming the field", async () => {
    const audit = scenario.audit;
    const lastPosition = reference[reference.length - 1]?.position as string;
    await expectError(() => audit.query({ first: 0 }), "VALIDATION", "first");
    await expectError(() => audit.query({ first: AUDIT_PAGE_MAX + 1 }), "VALIDATION", "first");
    await expectError(() => audit.query({ first: 2.5 }), "VALIDATION", "first");
    await expectError(() => audit.query({ order: "UP" as SortOrder }), "VALIDATION", "order");
    await expectError(() => audit.query({ after: "not-a-cursor" }), "VALIDATION", "after");
    // Well-formed, but no stored event has it: past the end, and before the start.
    await expectError(
      () => audit.query({ after: String(BigInt(lastPosition) + 1000n).padStart(20, "0") }),
      "VALIDATION",
      "after",
    );
    await expectError(() => audit.query({ after: "00000000000000000000" }), "VALIDATION", "after");
    await expectError(() => audit.query({ after: "" }), "VALIDATION", "after");
    await expectError(() => audit.query({ filter: { from: "yesterday" } }), "VALIDATION", "filter.from");
    await expectError(() => audit.query({ filter: { to: "2026-13-45" } }), "VALIDATION", "filter.to");
    await expectError(() => audit.historyOf("x", { first: 501 }), "VALIDATION", "first");
    await expectError(() => audit.historyOf("x", { after: "bogus" }), "VALIDATION", "after");
    // Every stored position is a valid cursor.
    const page = await audit.query({ after: reference[5]?.position as string, order: "ASC", first: 2 });
    expect(page.edges.map((e) => e.node)).toEqual(reference.slice(6, 8));
  });

  it("indexes exactly what the live path shows: toAuditEvent equals the stored node", async () => {
    for (const event of scenario.log.slice(-40)) {
      expect(await scenario.audit.event(event.position)).toEqual(scenario.audit.toAuditEvent(event));
      expect(scenario.audit.toAuditEvent(event)).toEqual(expectedNode(event));
    }
    expect(await scenario.audit.event("00000000000000000000")).toBeNull();
  });

  it("turns a time into the position of the last event at or before it", async () => {
    const audit = scenario.audit;
    for (const i of [0, 1, 17, Math.floor(reference.length / 2), reference.length - 1]) {
      const node = reference[i] as AuditEvent;
      // The last event with this time (a command's events share it).
      const last = reference.filter((n) => n.at <= node.at).pop();
      expect(await audit.positionAt(node.at)).toBe(last?.position);
    }
    expect(await audit.positionAt("2000-01-01T00:00:00Z")).toBeNull();
    await expectError(() => audit.positionAt("soon"), "VALIDATION", "at");
  });
});

describe("an audit event's time", () => {
  it("is metadata.occurredAt as an ISO instant — or when the store recorded it, when that is not a time", () => {
    const recordedAt = "2026-03-04T05:06:07.089Z";
    const timeOf = (occurredAt: unknown) =>
      toAuditEvent({
        id: "e",
        stream: "feature-f",
        revision: 0n,
        position: "1",
        type: "FeatureUpdated",
        data: {},
        metadata: {
          actor: "a",
          occurredAt: occurredAt as string,
          correlationId: "c",
          causationId: null,
          schemaVersion: 1,
          projectId: "p",
        },
        recordedAt,
      }).at;
    const general = (text: string) => {
      const ms = Date.parse(text);
      return Number.isNaN(ms) ? recordedAt : new Date(ms).toISOString();
    };
    for (const text of [
      "2026-01-01T00:00:00.000Z",
      "2024-02-29T23:59:59.999Z",
      "1999-12-31T12:00:00.500Z",
      "2026-02-30T00:00:00.000Z",
      "2025-02-29T00:00:00.000Z",
      "2026-13-01T00:00:00.000Z",
      "2026-1/-01T00:00:00.000Z",
      "0050-06-01T00:00:00.000Z",
      "2026-01-01T01:00:00.000+01:00",
      "2026-01-01T00:00:00Z",
      "2026-01-01",
      "not a time",
    ]) {
      expect(timeOf(text), text).toBe(general(text));
    }
    expect(timeOf(undefined)).toBe(recordedAt);
    expect(timeOf(42)).toBe(recordedAt);
  });
});

describe("Feature.history", () => {
  it("holds the feature's events and the events of its releases, newest first, paginated", async () => {
    const releaseFeature = new Map<string, string>();
    for (const event of scenario.log) {
      if (event.type === "ReleaseStarted") {
        releaseFeature.set(event.stream.slice("release-".length), (event.data as { featureId: string }).featureId);
      }
    }
    let withReleases = 0;
    for (const feature of scenario.simulation.features.values()) {
      const expected = reference
        .filter(
          (node) =>
            node.stream === `feature-${feature.id}` ||
            (node.stream.startsWith("release-") && releaseFeature.get(node.entityId) === feature.id),
        )
        .reverse();
      const nodes: AuditEvent[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await scenario.audit.historyOf(feature.id, { first: 13, after });
        nodes.push(...page.edges.map((e) => e.node));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(nodes).toEqual(expected);
      if (nodes.some((n) => n.type === "ReleasePhaseRolledOut")) withReleases++;
    }
    expect(withReleases).toBeGreaterThan(5);
    expect((await scenario.audit.historyOf("nope")).edges).toEqual([]);
  });
});

describe("a file-backed audit index", () => {
  it("survives a restart: reopened, it resumes after its last event and answers the same", async () => {
    const dir = await mkdtemp(join(tmpdir(), "audit-file-"));
    try {
      const path = join(dir, "audit.sqlite");
      const first = createAuditIndex({ store: scenario.store, path });
      const runner = startProjections({ store: scenario.store, readModels: new ReadModels(), audit: first });
      await runner.ready;
      await runner.close();
      const head = scenario.log[scenario.log.length - 1]?.position;
      expect(first.lastPosition).toBe(head);
      const expected = await everyPage(first, { first: 200 });
      first.close();
      await first.whenClosed;

      const reopened = createAuditIndex({ store: scenario.store, path });
      await reopened.opened;
      expect(reopened.lastPosition).toBe(head);
      expect(reopened.count).toBe(first.count);
      // A new process: fresh read models from the start, the audit index only from where it was.
      const readModels = new ReadModels();
      const again = startProjections({ store: scenario.store, readModels, audit: reopened });
      await again.ready;
      expect(readModels.eventCount).toBe(first.count);
      expect(reopened.count).toBe(first.count);
      expect((await everyPage(reopened, { first: 200 })).nodes).toEqual(expected.nodes);
      const feature = [...scenario.simulation.features.keys()][0] as string;
      expect(await reopened.historyOf(feature)).toEqual(await scenario.audit.historyOf(feature));
      // New events after the restart join the same names (types, projects, actors) as the old ones.
      for (let i = 0; i < 40; i++) await scenario.simulation.step();
      const newHead = (await scenario.store.headPosition()) as string;
      await again.waitFor(newHead);
      await again.close();
      const log = (await scenario.store.readAll()).map(expectedNode);
      expect(log.length).toBeGreaterThan(reference.length);
      expect((await everyPage(reopened, { first: 200 })).nodes).toEqual([...log].reverse());
      const project = log[log.length - 1]?.projectId as string;
      expect(
        (await everyPage(reopened, { first: 100, filter: { projectId: project, actor: "system" } })).nodes,
      ).toEqual(log.filter((n) => n.projectId === project && n.actor === "system").reverse());
      await reopened.clear();
      expect(reopened.count).toBe(0);
      expect((await reopened.query()).edges).toEqual([]);
      reopened.close();
      await reopened.whenClosed;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

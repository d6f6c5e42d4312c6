import type { AuditConnection, AuditEvent, AuditFilter } from "../../services/audit/audit-index.ts";
import { DomainError } from "../../services/core/errors.ts";
import { builder } from "../builder.ts";
import type { ApiContext } from "../context.ts";
import { SortOrderEnum } from "./enums.ts";

/** Event data as shown to clients: a token's or an SDK key's secret hash stays in the store. */
const HASHED = new Set(["ApiTokenCreated", "SdkKeyCreated"]);
const publicData = (event: AuditEvent): unknown => {
  if (!HASHED.has(event.type) || typeof event.data !== "object" || event.data === null) return event.data;
  const { secretHash: _hidden, ...rest } = event.data as Record<string, unknown>;
  return rest;
};

export const AuditEventRef = builder.objectRef<AuditEvent>("AuditEvent");

AuditEventRef.implement({
  description: "A stored event, with its global position, actor, time and data.",
  fields: (t) => ({
    id: t.exposeID("id"),
    position: t.exposeString("position", { description: "Global, totally ordered; usable as a cursor and in asOf." }),
    type: t.exposeString("type", { description: "e.g. PipelineCreated, ReleasePhaseRolledOut" }),
    stream: t.exposeString("stream"),
    entityId: t.exposeID("entityId"),
    projectId: t.id({
      description: 'The project; "" for events outside any project (an API token not bound to one).',
      resolve: (event) => event.projectId ?? "",
    }),
    actor: t.exposeString("actor", { description: 'Token name, or "system" for automatic transitions.' }),
    at: t.field({ type: "DateTime", resolve: (event) => event.at }),
    data: t.field({ type: "JSON", resolve: publicData }),
  }),
});

export const AuditEventEdgeRef = builder.objectRef<AuditConnection["edges"][number]>("AuditEventEdge");

AuditEventEdgeRef.implement({
  fields: (t) => ({
    cursor: t.exposeString("cursor"),
    node: t.field({ type: AuditEventRef, resolve: (edge) => edge.node }),
  }),
});

export const PageInfoRef = builder.objectRef<AuditConnection["pageInfo"]>("PageInfo");

PageInfoRef.implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean("hasNextPage"),
    endCursor: t.exposeString("endCursor", { nullable: true }),
  }),
});

export const AuditEventConnectionRef = builder.objectRef<AuditConnection>("AuditEventConnection");

AuditEventConnectionRef.implement({
  fields: (t) => ({
    edges: t.field({ type: [AuditEventEdgeRef], resolve: (connection) => connection.edges }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (connection) => connection.pageInfo }),
  }),
});

export const AuditFilterInput = builder.inputType("AuditFilter", {
  fields: (t) => ({
    projectId: t.id(),
    entityId: t.id(),
    types: t.stringList(),
    actor: t.string(),
    from: t.field({ type: "DateTime" }),
    to: t.field({ type: "DateTime" }),
  }),
});

/** A project-bound token reads only its project's events: its filter is forced to it. */
export function scopedFilter(ctx: ApiContext, filter: AuditFilter | null | undefined): AuditFilter {
  const scope = ctx.auth?.projectId ?? null;
  const given = filter ?? {};
  if (scope === null) return given;
  if (given.projectId && given.projectId !== scope) {
    throw new DomainError("NOT_FOUND", `project ${given.projectId} not found`);
  }
  return { ...given, projectId: scope };
}

builder.queryField("auditLog", (t) =>
  t.field({
    type: AuditEventConnectionRef,
    description: "Every stored event, newest first unless `order: ASC`; cursor-paginated.",
    authScopes: { viewer: true },
    args: {
      filter: t.arg({ type: AuditFilterInput }),
      order: t.arg({ type: SortOrderEnum, defaultValue: "DESC" }),
      first: t.arg.int({ defaultValue: 50 }),
      after: t.arg.string(),
    },
    resolve: (_root, args, ctx) =>
      ctx.audit.query({
        filter: scopedFilter(ctx, args.filter),
        order: args.order,
        first: args.first,
        after: args.after,
      }),
  }),
);

builder.subscriptionField("auditEvents", (t) =>
  t.field({
    type: AuditEventRef,
    description: "Audit events as they are stored; with `after` (a position) it first replays what was missed.",
    authScopes: { viewer: true },
    args: { filter: t.arg({ type: AuditFilterInput }), after: t.arg.string() },
    subscribe: (_root, args, ctx) => ctx.live.auditEvents(ctx.auth, scopedFilter(ctx, args.filter), args.after ?? null),
    resolve: (event) => event,
  }),
);

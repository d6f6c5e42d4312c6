import type { AuditConnection, AuditEvent, AuditFilter } from "../../services/audit/audit-index.ts";
import { DomainError } from "../../services/core/errors.ts";
import { builder } from "../builder.ts";
import type { ApiContext } from "../context.ts";
import { SortOrderEnum } from "./enums.ts";

/** Event data as shown to clients: a token's or an SDK key's secret hash stays in the store. */
const publicData = (event: AuditEvent): unknown => {
  const hashed = event.type.startsWith("ApiToken") || event.type === "SdkKeyCreated";
  if (!hashed || typeof event.data !== "object" || event.data === null) return event.data;
  const { secretHash: _hidden, ...rest } = event.data as Record<string, unknown>;
  return rest;
};

export const AuditEventRef = builder.objectRef<AuditEvent>("AuditEvent");

AuditEventRef.implement({
  description: "A stored event, with its global position, actor, time and data.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The event's unique id." }),
    position: t.exposeString("position", { description: "Global, totally ordered; usable as a cursor and in asOf." }),
    type: t.exposeString("type", { description: "e.g. PipelineCreated, ReleasePhaseRolledOut" }),
    stream: t.exposeString("stream", { description: "The stream it belongs to, e.g. release-<releaseId>." }),
    entityId: t.exposeID("entityId", {
      description: "The id of the project, pipeline, feature, release or token it is about.",
    }),
    projectId: t.id({
      description: 'The project; "" for events outside any project (an API token not bound to one).',
      resolve: (event) => event.projectId ?? "",
    }),
    actor: t.exposeString("actor", { description: 'Token name, or "system" for automatic transitions.' }),
    at: t.field({ type: "DateTime", description: "When it happened.", resolve: (event) => event.at }),
    data: t.field({
      type: "JSON",
      description: "The event's payload (token secret hashes left out).",
      resolve: publicData,
    }),
  }),
});

export const AuditEventEdgeRef = builder.objectRef<AuditConnection["edges"][number]>("AuditEventEdge");

AuditEventEdgeRef.implement({
  description: "One event of a page, with its cursor.",
  fields: (t) => ({
    cursor: t.exposeString("cursor", { description: "Pass as `after` to read on from this event." }),
    node: t.field({ type: AuditEventRef, description: "The event.", resolve: (edge) => edge.node }),
  }),
});

export const PageInfoRef = builder.objectRef<AuditConnection["pageInfo"]>("PageInfo");

PageInfoRef.implement({
  description: "Where a page ends.",
  fields: (t) => ({
    hasNextPage: t.exposeBoolean("hasNextPage", { description: "Whether more events follow." }),
    endCursor: t.exposeString("endCursor", { nullable: true, description: "Pass as `after` for the next page." }),
  }),
});

export const AuditEventConnectionRef = builder.objectRef<AuditConnection>("AuditEventConnection");

AuditEventConnectionRef.implement({
  description: "A page of audit events.",
  fields: (t) => ({
    edges: t.field({
      type: [AuditEventEdgeRef],
      description: "The events of this page.",
      resolve: (connection) => connection.edges,
    }),
    pageInfo: t.field({
      type: PageInfoRef,
      description: "Whether there is more, and from where.",
      resolve: (connection) => connection.pageInfo,
    }),
  }),
});

export const AuditFilterInput = builder.inputType("AuditFilter", {
  description: "Which events to read; every field given must match.",
  fields: (t) => ({
    projectId: t.id({ description: "Only this project's events." }),
    entityId: t.id({ description: "Only events about this project, pipeline, feature, release or token." }),
    types: t.stringList({ description: "Only these event types, e.g. [ReleasePhaseApproved, ReleaseAborted]." }),
    actor: t.string({ description: "Only events by this token name (or system)." }),
    from: t.field({ type: "DateTime", description: "Only events at or after this time." }),
    to: t.field({ type: "DateTime", description: "Only events at or before this time." }),
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
      filter: t.arg({ type: AuditFilterInput, description: "Which events; all when omitted." }),
      order: t.arg({ type: SortOrderEnum, defaultValue: "DESC", description: "Newest (DESC) or oldest (ASC) first." }),
      first: t.arg.int({ defaultValue: 50, description: "Page size." }),
      after: t.arg.string({ description: "A cursor from a previous page's `pageInfo.endCursor`." }),
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
    args: {
      filter: t.arg({ type: AuditFilterInput, description: "Which events; all when omitted." }),
      after: t.arg.string({ description: "A position: replay the events after it first, then go live." }),
    },
    subscribe: (_root, args, ctx) => ctx.live.auditEvents(ctx.auth, scopedFilter(ctx, args.filter), args.after ?? null),
    resolve: (event) => event,
  }),
);

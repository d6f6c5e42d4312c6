// Visibility: a token bound to a project sees only that project; anything else answers NOT_FOUND, the
// same as a missing entity, so a scoped token cannot even learn that another project's ids exist.

import { type Caller, canSeeProject } from "../services/core/caller.ts";
import { DomainError } from "../services/core/errors.ts";
import type { Feature } from "../services/feature/feature.ts";
import type { Pipeline } from "../services/pipeline/pipeline.ts";
import type { Project } from "../services/project/project.ts";
import type { Release } from "../services/release/release.ts";
import type { ApiContext } from "./context.ts";

export { canSeeProject };

const visible = <T extends { projectId: string }>(ctx: ApiContext, entity: T | null | undefined): T | null =>
  entity !== null && entity !== undefined && canSeeProject(ctx.auth, entity.projectId) ? entity : null;

export const visibleProject = (ctx: ApiContext, id: string): Project | null => {
  const project = ctx.readModels.project(id);
  return project && canSeeProject(ctx.auth, project.id) ? project : null;
};
export const visiblePipeline = (ctx: ApiContext, id: string): Pipeline | null =>
  visible(ctx, ctx.readModels.pipeline(id));
export const visibleFeature = (ctx: ApiContext, id: string): Feature | null => visible(ctx, ctx.readModels.feature(id));
export const visibleRelease = (ctx: ApiContext, id: string): Release | null => visible(ctx, ctx.readModels.release(id));

export const notFound = (kind: string, id: string): DomainError =>
  new DomainError("NOT_FOUND", `${kind} ${id} not found`);

/** For a field that must resolve (a release's feature): the read model always has it. */
export function required<T>(value: T | null | undefined, kind: string, id: string): T {
  if (value === null || value === undefined) throw notFound(kind, id);
  return value;
}

/** Who a mutation is by: the token (authScopes already required one) and the request's ids. */
export function callerOf(ctx: ApiContext): Caller {
  if (ctx.auth === null) throw new DomainError("UNAUTHENTICATED", "A valid API token is required.");
  return { auth: ctx.auth, request: ctx.request };
}

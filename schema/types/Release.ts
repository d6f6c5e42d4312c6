import type { ReleaseActionName } from "../../workflows/client.ts";
import { callerOf, canSeeProject, required, visibleRelease } from "../access.ts";
import type { ReleaseNode } from "../as-of.ts";
import { builder } from "../builder.ts";
import { EnvironmentDefinitionRef } from "./Definition.ts";
import { ReleaseStatusEnum } from "./enums.ts";
import { FeatureRef } from "./Feature.ts";
import { PipelineRef } from "./Pipeline.ts";
import { ReleaseActionRef } from "./ReleaseAction.ts";
import { ReleasePhaseRef, releasePhaseViews } from "./ReleasePhase.ts";

export const ReleaseRef = builder.objectRef<ReleaseNode>("Release");

ReleaseRef.implement({
  description: "One run of a pipeline over one change of one feature.",
  fields: (t) => ({
    id: t.exposeID("id", {
      description: "`<featureId>.<n>`: the feature's n-th release. Its Temporal workflow is `release-<id>`.",
    }),
    feature: t.field({
      type: FeatureRef,
      description: "The feature whose change it rolls out.",
      resolve: async (release, _args, ctx) => {
        // As of the release's point: the feature's lock precedes ReleaseStarted, so it exists by then.
        const then = release.asOf === undefined ? null : await ctx.asOf.feature(release.featureId, release.asOf);
        // A deleted feature's releases stay: they show the feature as its deletion left it.
        return (
          then ??
          required(
            ctx.readModels.feature(release.featureId) ?? ctx.readModels.deletedFeature(release.featureId),
            "feature",
            release.featureId,
          )
        );
      },
    }),
    pipeline: t.field({
      type: PipelineRef,
      description: "The pipeline it runs (as attached when it started).",
      resolve: async (release, _args, ctx) => {
        const then = release.asOf === undefined ? null : await ctx.asOf.pipeline(release.pipelineId, release.asOf);
        return then ?? required(ctx.readModels.pipeline(release.pipelineId), "pipeline", release.pipelineId);
      },
    }),
    pipelineVersion: t.exposeInt("pipelineVersion", {
      description: "The pipeline version it snapshotted at start; later pipeline changes do not affect it.",
    }),
    status: t.field({
      type: ReleaseStatusEnum,
      description: "In progress, completed or aborted.",
      resolve: (release) => release.status,
    }),
    before: t.field({
      type: [EnvironmentDefinitionRef],
      description: "The pre-release state, restored by abort.",
      resolve: (release) => release.before,
    }),
    after: t.field({
      type: [EnvironmentDefinitionRef],
      description: "The change being rolled out.",
      resolve: (release) => release.after,
    }),
    phases: t.field({
      type: [ReleasePhaseRef],
      description: "Each pipeline phase's live state, in order.",
      resolve: (release, _args, ctx) => releasePhaseViews(release, ctx.now()),
    }),
    currentPhaseIndex: t.exposeInt("currentPhaseIndex", {
      nullable: true,
      description:
        "The phase it is at (waiting, asking for approval, or about to roll out); null once COMPLETED or ABORTED.",
    }),
    startedBy: t.exposeString("startedBy", {
      description: "The token name that started it (by changing the feature).",
    }),
    startedAt: t.field({ type: "DateTime", description: "When it started.", resolve: (release) => release.startedAt }),
    endedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it completed or was aborted; null while in progress.",
      resolve: (release) => release.endedAt,
    }),
    abortReason: t.exposeString("abortReason", {
      nullable: true,
      description: "The reason given when it was aborted.",
    }),
    actions: t.field({
      type: [ReleaseActionRef],
      description: "Every action taken, oldest first.",
      resolve: (release) => release.actions,
    }),
    version: t.exposeInt("version", { description: "Increments with each stored change to the release." }),
  }),
});

builder.queryFields((t) => ({
  release: t.field({
    type: ReleaseRef,
    nullable: true,
    description: "A release by id; null if there is none the token may see.",
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true, description: "The release's id (`<featureId>.<n>`)." }) },
    resolve: (_root, args, ctx) => visibleRelease(ctx, args.id),
  }),
  releaseAsOf: t.field({
    type: ReleaseRef,
    nullable: true,
    description:
      "Audit replay: the release as it was after the last event at or before `at` (or `position`). Its feature and pipeline are served as of the same point.",
    authScopes: { viewer: true },
    args: {
      id: t.arg.id({ required: true, description: "The release's id." }),
      at: t.arg({
        type: "DateTime",
        description: "The point in time: the state after the last event at or before it.",
      }),
      position: t.arg.string({ description: "Or a global event position (AuditEvent.position) instead of `at`." }),
    },
    resolve: async (_root, args, ctx) => {
      const release = await ctx.asOf.release(args.id, { at: args.at, position: args.position });
      return release && canSeeProject(ctx.auth, release.projectId) ? release : null;
    },
  }),
}));

const phaseGuard = "When given, must be the current phase, else INVALID_STATE.";

/** Said of every action mutation: how a retried request is recognised (decision 0009). */
const UPDATE_ID_NOTE =
  "Applied through the release workflow's Temporal Update. A retry with the same `Idempotency-Key` header, or without one the same `X-Request-Id` header, is the same Update: applied once, same answer. With neither header every request is a new action.";

interface ReleaseActionSpec {
  action: ReleaseActionName;
  /** The least role that may take the action. */
  scope: "editor" | "approver";
  /** The free-text argument: an approval's `comment`, any other action's `reason`. */
  note: "comment" | "reason";
  /** Whether the action takes the `phaseIndex` guard (phase-level actions do, release-level ones do not). */
  phased: boolean;
  description?: string;
}

/**
 * One action mutation (approveRelease, pauseRelease, …): `id`, the note, the optional `phaseIndex` guard,
 * the role's scope, and a resolver that runs the action through the workflow's Update.
 */
function releaseActionField(name: string, spec: ReleaseActionSpec): void {
  builder.mutationField(name, (t) =>
    t.field({
      type: ReleaseRef,
      description: spec.description === undefined ? UPDATE_ID_NOTE : `${spec.description} ${UPDATE_ID_NOTE}`,
      authScopes: spec.scope === "approver" ? { approver: true } : { editor: true },
      args: {
        id: t.arg.id({ required: true, description: "The release's id." }),
        [spec.note]: t.arg.string({
          description:
            spec.note === "comment"
              ? "A comment recorded with the approval."
              : "Why; recorded with the action in the audit log.",
        }),
        ...(spec.phased && { phaseIndex: t.arg.int({ description: phaseGuard }) }),
      },
      resolve: (_root, args, ctx) => {
        // The args object is built per spec above; these are the keys it can have.
        const given = args as { comment?: string | null; reason?: string | null; phaseIndex?: number | null };
        return ctx.release[spec.action](callerOf(ctx), args.id, {
          [spec.note]: given[spec.note] ?? null,
          ...(spec.phased && { phaseIndex: given.phaseIndex ?? null }),
        });
      },
    }),
  );
}

builder.mutationField("startRelease", (t) =>
  t.field({
    type: ReleaseRef,
    description:
      "Run the attached pipeline over the current definition (Flagsmith's 'add to release pipeline', for ENABLE/DISABLE phases).",
    authScopes: { editor: true },
    args: {
      featureId: t.arg.id({ required: true, description: "A feature with a pipeline attached and no active release." }),
      reason: t.arg.string({ description: "Why; recorded with the release." }),
    },
    resolve: (_root, args, ctx) => ctx.release.startRelease(callerOf(ctx), args.featureId, args.reason ?? null),
  }),
);
releaseActionField("approveRelease", {
  action: "approve",
  scope: "approver",
  note: "comment",
  phased: true,
  description:
    "APPROVER: approve the current phase while it is AWAITING_APPROVAL; at `approvalsRequired` distinct approvers it rolls out. The same approver twice is INVALID_STATE; the starter under selfApproval FORBIDDEN is SELF_APPROVAL_FORBIDDEN.",
});
releaseActionField("pauseRelease", {
  action: "pause",
  scope: "editor",
  note: "reason",
  phased: true,
  description:
    "EDITOR: stop the current phase's bake timer while it is WAITING (it becomes PAUSED, the remaining time is kept). Never stops a rollout.",
});
releaseActionField("unpauseRelease", {
  action: "unpause",
  scope: "editor",
  note: "reason",
  phased: true,
  description: "EDITOR: restart a PAUSED phase's bake timer with the time that was left.",
});
releaseActionField("skipPhase", {
  action: "skip",
  scope: "editor",
  note: "reason",
  phased: true,
  description:
    "EDITOR: end the current phase's wait now (WAITING or PAUSED → SKIPPED_WAIT); its approval, if required, is still asked before it rolls out.",
});
releaseActionField("abortRelease", {
  action: "abort",
  scope: "editor",
  note: "reason",
  phased: false,
  description:
    "EDITOR: stop the release; every rolled-out target returns to `before`. Irreversible: later actions answer INVALID_STATE.",
});
releaseActionField("fullRollout", {
  action: "fullRollout",
  scope: "approver",
  note: "reason",
  phased: false,
  description: "APPROVER: all remaining phases roll out at once, bypassing waits and approvals; the release COMPLETES.",
});

builder.mutationField("rollbackToPhase", (t) =>
  t.field({
    type: ReleaseRef,
    description: `Undo the phases after \`phaseIndex\`: their targets return to \`before\`, the release goes on from the phase after \`phaseIndex\` (its wait starts again). EDITOR; the release must be IN_PROGRESS and \`phaseIndex\` an already rolled-out phase, else INVALID_STATE. ${UPDATE_ID_NOTE}`,
    authScopes: { editor: true },
    args: {
      id: t.arg.id({ required: true, description: "The release." }),
      phaseIndex: t.arg.int({ required: true, description: "The rolled-out phase to go back to (it stays)." }),
      reason: t.arg.string({ description: "Why; recorded with the action (at most 2,000 characters)." }),
    },
    resolve: (_root, args, ctx) =>
      ctx.release.rollbackToPhase(callerOf(ctx), args.id, { phaseIndex: args.phaseIndex, reason: args.reason ?? null }),
  }),
);

builder.mutationField("breakGlass", (t) =>
  t.field({
    type: ReleaseRef,
    description: `ADMIN. Roll out the current phase of this release now despite a freeze or a closed promotion window; the reason is required and recorded as a BREAK_GLASS action. Approvals the phase requires are still required, and a bake still running still runs out first. ${UPDATE_ID_NOTE}`,
    authScopes: { admin: true },
    args: {
      id: t.arg.id({ required: true, description: "The release." }),
      reason: t.arg.string({ required: true, description: "Why the freeze or the window is bypassed (required)." }),
    },
    resolve: (_root, args, ctx) => ctx.release.breakGlass(callerOf(ctx), args.id, { reason: args.reason }),
  }),
);

builder.subscriptionFields((t) => ({
  releaseUpdated: t.field({
    type: ReleaseRef,
    description: "Every change of one release, starting with its current state.",
    authScopes: { viewer: true },
    args: { id: t.arg.id({ required: true, description: "The release's id." }) },
    subscribe: (_root, args, ctx) => ctx.live.releaseUpdated(ctx.auth, args.id),
    resolve: (release) => release,
  }),
  featureReleases: t.field({
    type: ReleaseRef,
    description: "Every change of any release of one feature (new releases included).",
    authScopes: { viewer: true },
    args: { featureId: t.arg.id({ required: true, description: "The feature." }) },
    subscribe: (_root, args, ctx) => ctx.live.featureReleases(ctx.auth, args.featureId),
    resolve: (release) => release,
  }),
  approvalRequested: t.field({
    type: ReleaseRef,
    description: "A phase of some release in the project now awaits approval.",
    authScopes: { viewer: true },
    args: { projectId: t.arg.id({ required: true, description: "The project." }) },
    subscribe: (_root, args, ctx) => ctx.live.approvalRequested(ctx.auth, args.projectId),
    resolve: (release) => release,
  }),
}));

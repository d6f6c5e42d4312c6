import { type Release, type ReleasePhaseState, remainingWaitMs } from "../../services/release/release.ts";
import { builder } from "../builder.ts";
import { ApprovalRef } from "./Approval.ts";
import { PhaseStatusEnum } from "./enums.ts";

/** A phase as served: with the bake time still owed, counted on the release's clock (see releasePhaseViews). */
export interface ReleasePhaseView extends ReleasePhaseState {
  remainingWaitMs: number | null;
}

/**
 * The release's phases with their remaining wait: counted at `now` for the live release, at the as-of
 * point under `releaseAsOf` (its `at`, or the time of the last event before its `position`), and null once
 * the release has ended (an ABORTED release's bake no longer runs).
 */
export function releasePhaseViews(
  release: Pick<Release, "status" | "phases" | "updatedAt"> & { asOf?: { at?: string | null } },
  now: Date,
): ReleasePhaseView[] {
  const clock = release.asOf === undefined ? now.toISOString() : (release.asOf.at ?? release.updatedAt);
  return release.phases.map((phase) => ({
    ...phase,
    remainingWaitMs: release.status === "IN_PROGRESS" ? remainingWaitMs(phase, clock) : null,
  }));
}

export const ReleasePhaseRef = builder.objectRef<ReleasePhaseView>("ReleasePhase");

ReleasePhaseRef.implement({
  fields: (t) => ({
    index: t.exposeInt("index"),
    name: t.exposeString("name"),
    status: t.field({ type: PhaseStatusEnum, resolve: (phase) => phase.status }),
    waitStartedAt: t.field({ type: "DateTime", nullable: true, resolve: (phase) => phase.waitStartedAt }),
    waitEndsAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "null while PAUSED.",
      resolve: (phase) => phase.waitEndsAt,
    }),
    remainingWait: t.field({
      type: "Duration",
      nullable: true,
      description:
        "Set while WAITING or PAUSED; computed when read (under releaseAsOf: at the as-of point); null once the release has ended.",
      resolve: (phase) => phase.remainingWaitMs,
    }),
    approvals: t.field({ type: [ApprovalRef], resolve: (phase) => phase.approvals }),
    rolledOutAt: t.field({ type: "DateTime", nullable: true, resolve: (phase) => phase.rolledOutAt }),
  }),
});

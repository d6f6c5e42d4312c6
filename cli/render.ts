// What the CLI prints for people: a release as a phase timeline, release lists and audit lines. With
// --json the commands print the API's data instead (documents.ts).

import type { AuditEventView, ReleaseSummary, ReleaseView } from "./documents.ts";

const MARK: Record<string, string> = {
  PENDING: "·",
  WAITING: "◷",
  PAUSED: "‖",
  SKIPPED_WAIT: "»",
  AWAITING_APPROVAL: "?",
  ROLLED_OUT: "✓",
};

/** "PT1H30M" → "1h30m"; null stays null. */
export function shortDuration(iso: string | null): string | null {
  if (iso === null) return null;
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (match === null) return iso;
  const [, d, h, m, s] = match;
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, s && `${Math.round(Number(s))}s`].filter(Boolean);
  return parts.length === 0 ? "0s" : parts.join("");
}

const clock = (iso: string | null | undefined): string => (iso ? iso.slice(11, 19) : "");

function inSeconds(iso: string, now: Date): string {
  const seconds = Math.max(0, Math.round((Date.parse(iso) - now.getTime()) / 1000));
  return seconds >= 120 ? `${Math.round(seconds / 60)}m` : `${seconds}s`;
}

/** One line per phase, in order: what it targets, what it waits for, and where it is now. */
export function renderRelease(release: ReleaseView, now: Date = new Date()): string {
  const lines: string[] = [];
  const feature = release.feature;
  lines.push(
    `Release ${release.id}  ${release.status}  feature ${feature.key} (${feature.project.name})  pipeline "${release.pipeline.name}" v${release.pipelineVersion}`,
  );
  lines.push(
    `started by ${release.startedBy} at ${release.startedAt}${release.endedAt ? `, ended ${release.endedAt}` : ""}`,
  );
  if (release.abortReason) lines.push(`aborted: ${release.abortReason}`);
  const planByIndex = new Map(release.pipeline.phases.map((phase) => [phase.index, phase]));
  for (const phase of release.phases) {
    const plan = planByIndex.get(phase.index);
    const current = release.currentPhaseIndex === phase.index;
    const targets = (plan?.targets ?? [])
      .map((t) => (t.segment ? `${t.environment}/${t.segment}` : t.environment))
      .join(", ");
    const gates: string[] = [];
    const wait = shortDuration(plan?.waitFor ?? null);
    if (wait !== null) gates.push(`bake ${wait}`);
    if (plan?.requiresApproval)
      gates.push(`${plan.approvalsRequired} approval${plan.approvalsRequired === 1 ? "" : "s"}`);
    if (plan && plan.action !== "APPLY_CHANGE") gates.push(plan.action);
    let state: string = phase.status;
    if (phase.status === "WAITING" && phase.waitEndsAt)
      state += ` until ${clock(phase.waitEndsAt)} (in ${inSeconds(phase.waitEndsAt, now)})`;
    if (phase.status === "PAUSED" && phase.remainingWait) state += ` (${shortDuration(phase.remainingWait)} left)`;
    if (phase.status === "AWAITING_APPROVAL" && plan) state += ` (${phase.approvals.length}/${plan.approvalsRequired})`;
    if (phase.status === "ROLLED_OUT") state += ` at ${clock(phase.rolledOutAt)}`;
    const approvals = phase.approvals.length > 0 ? `  approved by ${phase.approvals.map((a) => a.by).join(", ")}` : "";
    lines.push(
      `${current ? "▶" : " "} ${MARK[phase.status] ?? " "} #${phase.index} ${phase.name.padEnd(22)} ${targets.padEnd(28)} ${(gates.join(", ") || "on enter").padEnd(22)} ${state}${approvals}`,
    );
  }
  if (release.actions.length > 0) {
    lines.push("actions:");
    for (const action of release.actions) {
      const phase = action.phaseIndex === null ? "" : ` phase #${action.phaseIndex}`;
      lines.push(
        `  ${clock(action.at)} ${action.kind}${phase} by ${action.by}${action.reason ? `: ${action.reason}` : ""}`,
      );
    }
  }
  return lines.join("\n");
}

export function renderReleaseList(releases: readonly ReleaseSummary[]): string {
  if (releases.length === 0) return "no releases";
  const lines = releases.map((release) => {
    const phase =
      release.currentPhaseIndex === null
        ? ""
        : (() => {
            const current = release.phases.find((p) => p.index === release.currentPhaseIndex);
            return current ? `#${current.index} ${current.name} ${current.status}` : "";
          })();
    return `${release.id.padEnd(40)} ${release.status.padEnd(11)} ${release.feature.key.padEnd(24)} ${release.startedAt}  ${phase}`;
  });
  return [
    `${"RELEASE".padEnd(40)} ${"STATUS".padEnd(11)} ${"FEATURE".padEnd(24)} ${"STARTED".padEnd(24)}  CURRENT PHASE`,
    ...lines,
  ].join("\n");
}

export function renderAudit(events: readonly AuditEventView[]): string {
  if (events.length === 0) return "no events";
  return events
    .map(
      (event) =>
        `${event.position.replace(/^0+(?=\d)/, "").padStart(8)}  ${event.at}  ${event.actor.padEnd(16)} ${event.type.padEnd(28)} ${event.entityId}`,
    )
    .join("\n");
}

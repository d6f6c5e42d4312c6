import { type ComponentChildren, createContext } from "preact";
import { useContext, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError, inWords, request } from "./api.ts";
import {
  type ActionField,
  actionDocument,
  type Definition,
  type PhaseStatus,
  type Release,
  type Role,
  type Viewer,
} from "./documents.ts";
import { useNow } from "./hooks.ts";
import { Link } from "./router.tsx";

export const ViewerContext = createContext<Viewer | null>(null);
export const useViewer = (): Viewer => {
  const viewer = useContext(ViewerContext);
  if (viewer === null) throw new Error("not signed in");
  return viewer;
};

const ROLES: Role[] = ["VIEWER", "EDITOR", "APPROVER", "ADMIN"];
export const roleAtLeast = (role: Role, needed: Role): boolean => ROLES.indexOf(role) >= ROLES.indexOf(needed);

// ---- small pieces -----------------------------------------------------------------------------------

export function ErrorNote({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <p role="alert" class="error">
      {inWords(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return <p aria-busy="true">Loading {what}…</p>;
}

/** A release's number within its feature: ids are `<featureId>.<n>`. */
export const releaseNumber = (id: string): string => id.slice(id.lastIndexOf(".") + 1);

export const formatTime = (iso: string | null): string =>
  iso === null ? "—" : new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** "1h 02m 03s", "4m 05s", "7s". */
export function formatMs(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s)}s`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

/** An ISO-8601 duration (PT1H2M3.5S, P1D) in milliseconds. */
export function durationMs(iso: string): number {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (!m) return 0;
  const [, d, h, min, s] = m.map((part) => Number(part ?? 0));
  return (((d ?? 0) * 24 + (h ?? 0)) * 60 + (min ?? 0)) * 60_000 + (s ?? 0) * 1000;
}

export const formatDuration = (iso: string | null): string => (iso === null ? "none" : formatMs(durationMs(iso)));

/** "10% of units, then +30% every 6 h". */
export const formatRamp = (ramp: { initialPercentage: number; increaseBy: number; every: string }): string =>
  `${ramp.initialPercentage}% of units, then +${ramp.increaseBy}% every ${formatDuration(ramp.every)}`;

/** "error rate (PROMETHEUS_QUERY, every 1m 00s, 3 failures → ABORT)". */
export const formatGuardrail = (g: {
  name: string;
  kind: string;
  interval: string;
  failuresToTrip: number;
  onFailure: string;
}): string =>
  `${g.name} (${g.kind}, every ${formatDuration(g.interval)}, ${g.failuresToTrip} failures → ${g.onFailure})`;

/** A ramping phase: it started its ramp and has not rolled out yet. */
const ramping = (phase: { status: string; rolloutPercentage: number }): boolean =>
  phase.status !== "ROLLED_OUT" && phase.rolloutPercentage > 0;

/** Time left until `until`, counting down every second. */
export function Countdown({ until, label }: { until: string; label: string }) {
  const now = useNow();
  const left = new Date(until).getTime() - now;
  return (
    <span role="timer" aria-label={label} class="timer">
      {left > 0 ? `${formatMs(left)} left` : "ending now"}
    </span>
  );
}

const PHASE_WORDS: Record<PhaseStatus, string> = {
  PENDING: "Pending",
  WAITING: "Baking",
  PAUSED: "Paused",
  AWAITING_APPROVAL: "Awaiting approval",
  ROLLED_OUT: "Rolled out",
  SKIPPED_WAIT: "Wait skipped",
  FROZEN: "Frozen",
  AWAITING_WINDOW: "Awaiting promotion window",
};
export const phaseWords = (status: PhaseStatus): string => PHASE_WORDS[status];

export function Badge({ tone, children }: { tone: string; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export const releaseTone = (status: string): string =>
  status === "COMPLETED" ? "ok" : status === "ABORTED" ? "bad" : "live";

export function DefinitionView({ definition, kind }: { definition: Definition; kind: string }) {
  return (
    <div class="definition">
      <span>{definition.enabled ? <Badge tone="ok">On</Badge> : <Badge tone="off">Off</Badge>}</span>
      {kind === "DYNAMIC_CONFIG" && <code>{JSON.stringify(definition.value)}</code>}
      {definition.rules.length > 0 && (
        <ul class="rules">
          {definition.rules.map((rule) => (
            <li key={rule.segment}>
              {rule.segment}: {rule.enabled ? "on" : "off"}
              {rule.rolloutPercentage !== 100 && ` for ${rule.rolloutPercentage}%`}
              {kind === "DYNAMIC_CONFIG" && rule.value !== null && <code> {JSON.stringify(rule.value)}</code>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// ---- the release: status banner, timeline, actions ------------------------------------------------------

/** One line naming the current phase and its state. */
export function statusLine(release: Release): string {
  if (release.status === "COMPLETED") return `Completed: every phase rolled out (${formatTime(release.endedAt)})`;
  if (release.status === "ABORTED")
    return `Aborted${release.abortReason ? `: ${release.abortReason}` : ""} — every environment is back to its pre-release state`;
  const index = release.currentPhaseIndex ?? 0;
  const phase = release.phases[index];
  if (!phase) return "In progress";
  const needed = release.pipeline.phases[index]?.approvalsRequired ?? 1;
  const state =
    phase.status === "AWAITING_APPROVAL"
      ? `Awaiting approval (${phase.approvals.length} of ${needed})`
      : ramping(phase) && phase.status === "WAITING"
        ? "Ramping"
        : phaseWords(phase.status);
  return `Phase ${index + 1} of ${release.phases.length}: ${phase.name} — ${state}`;
}

export function ReleaseStatusBanner({ release }: { release: Release }) {
  const phase = release.currentPhaseIndex === null ? undefined : release.phases[release.currentPhaseIndex];
  return (
    <div role="status" aria-label="Release status" class={`banner banner-${releaseTone(release.status)}`}>
      <strong>{statusLine(release)}</strong>
      {phase && ramping(phase) && <span> · {phase.rolloutPercentage}% of units</span>}
      {phase?.status === "WAITING" && phase.waitEndsAt && (
        <>
          {" · "}
          <Countdown
            until={phase.waitEndsAt}
            label={ramping(phase) ? `Next ramp step of ${phase.name} in` : `Bake time left in ${phase.name}`}
          />
        </>
      )}
      {phase?.status === "PAUSED" && phase.remainingWait && (
        <span> · bake timer stopped with {formatDuration(phase.remainingWait)} left</span>
      )}
      {phase?.status === "FROZEN" && (
        <span>
          {" · "}the project is frozen: rolls out when the freeze ends
          {phase.heldUntil && (
            <>
              {" "}
              (<Countdown until={phase.heldUntil} label={`Freeze time left for ${phase.name}`} />)
            </>
          )}
        </span>
      )}
      {phase?.status === "AWAITING_WINDOW" && phase.heldUntil && (
        <span>
          {" · "}outside the pipeline's promotion windows: rolls out when the next one opens,{" "}
          {formatTime(phase.heldUntil)} (
          <Countdown until={phase.heldUntil} label={`Time until ${phase.name}'s window`} />)
        </span>
      )}
    </div>
  );
}

export function PhaseTimeline({ release }: { release: Release }) {
  return (
    <ol class="timeline" aria-label="Phases">
      {release.phases.map((phase) => {
        const spec = release.pipeline.phases[phase.index];
        const current = phase.index === release.currentPhaseIndex;
        return (
          <li key={phase.index} class={`phase phase-${phase.status.toLowerCase()}${current ? " current" : ""}`}>
            <div class="phase-head">
              <span class="phase-name">
                {phase.index + 1}. {phase.name}
              </span>
              <Badge tone={phase.status === "ROLLED_OUT" ? "ok" : current ? "live" : "off"}>
                {ramping(phase) && phase.status === "WAITING" ? "Ramping" : phaseWords(phase.status)}
              </Badge>
              {current && <span class="visually-hidden">(current phase)</span>}
            </div>
            <div class="phase-body">
              <span>
                Targets:{" "}
                {spec?.targets.map((t) => (t.segment ? `${t.environment} / ${t.segment}` : t.environment)).join(", ")}
              </span>
              <span>Bake: {formatDuration(spec?.waitFor ?? null)}</span>
              {spec?.requiresApproval && <span>Approvals needed: {spec.approvalsRequired}</span>}
              {spec?.ramp && <span>Ramp: {formatRamp(spec.ramp)}</span>}
              {(spec?.ramp || ramping(phase)) && (
                <span>
                  Serving {phase.rolloutPercentage}% of units{" "}
                  <progress max={100} value={phase.rolloutPercentage} aria-label={`Share of units in ${phase.name}`} />
                </span>
              )}
              {phase.status === "WAITING" && phase.waitEndsAt && (
                <Countdown
                  until={phase.waitEndsAt}
                  label={ramping(phase) ? `Next ramp step of ${phase.name} in` : `Time left in ${phase.name}`}
                />
              )}
              {phase.status === "PAUSED" && phase.remainingWait && (
                <span>Paused with {formatDuration(phase.remainingWait)} left</span>
              )}
              {phase.rolledOutAt && <span>Rolled out {formatTime(phase.rolledOutAt)}</span>}
            </div>
            {(phase.guardrails ?? []).length > 0 && (
              <ul class="guardrails" aria-label={`Guardrails of ${phase.name}`}>
                {phase.guardrails.map((g) => {
                  const spec = release.pipeline.phases[phase.index]?.guardrails.find((s) => s.name === g.name);
                  const state =
                    g.lastCheckedAt === null
                      ? "not checked yet"
                      : g.consecutiveFailures > 0
                        ? `${g.consecutiveFailures} of ${spec?.failuresToTrip ?? "?"} failures in a row`
                        : "passing";
                  return (
                    <li key={g.name}>
                      Guardrail <strong>{spec ? formatGuardrail(spec) : g.name}</strong>:{" "}
                      <Badge tone={g.consecutiveFailures > 0 ? "bad" : g.lastCheckedAt === null ? "off" : "ok"}>
                        {state}
                      </Badge>
                      {g.lastResult && (
                        <span>
                          {" "}
                          last: {g.lastResult}
                          {g.lastCheckedAt && `, ${formatTime(g.lastCheckedAt)}`}
                        </span>
                      )}
                    </li>
                  );
                })}
              </ul>
            )}
            {phase.approvals.length > 0 && (
              <ul class="approvals" aria-label={`Approvals of ${phase.name}`}>
                {phase.approvals.map((a) => (
                  <li key={a.by}>
                    Approved by <strong>{a.by}</strong> {formatTime(a.at)}
                    {a.comment && <q>{a.comment}</q>}
                  </li>
                ))}
              </ul>
            )}
          </li>
        );
      })}
    </ol>
  );
}

type ActionName = "Approve" | "Pause" | "Unpause" | "Skip" | "Abort" | "Full Roll Out" | "Roll Back" | "Break Glass";
const ACTIONS: { name: ActionName; field: ActionField; role: Role; verb: string; phased: boolean }[] = [
  { name: "Approve", field: "approveRelease", role: "APPROVER", verb: "approve the current phase", phased: true },
  { name: "Pause", field: "pauseRelease", role: "EDITOR", verb: "stop the bake timer", phased: true },
  { name: "Unpause", field: "unpauseRelease", role: "EDITOR", verb: "resume the bake timer", phased: true },
  { name: "Skip", field: "skipPhase", role: "EDITOR", verb: "skip the rest of the bake time", phased: true },
  {
    name: "Abort",
    field: "abortRelease",
    role: "EDITOR",
    verb: "abort the release and put every environment back as it was before (irreversible)",
    phased: false,
  },
  {
    name: "Full Roll Out",
    field: "fullRollout",
    role: "APPROVER",
    verb: "roll out every remaining phase at once, bypassing waits and approvals",
    phased: false,
  },
  {
    name: "Roll Back",
    field: "rollbackToPhase",
    role: "EDITOR",
    verb: "undo the phases after the one you choose (their targets go back to before) and go on from the next one, its wait started again",
    phased: false,
  },
  {
    name: "Break Glass",
    field: "breakGlass",
    role: "ADMIN",
    verb: "roll out the current phase despite the freeze or the closed promotion window (its approvals still apply; the reason is required and recorded)",
    phased: false,
  },
];

/** Why an action does not apply now (null: it does). Mirrors the service's rules; the service decides. */
export function whyNot(action: (typeof ACTIONS)[number], release: Release, viewer: Viewer): string | null {
  if (!roleAtLeast(viewer.role, action.role))
    return `Needs the ${action.role} role; you are signed in as ${viewer.tokenName} (${viewer.role}).`;
  if (release.status !== "IN_PROGRESS")
    return `The release is ${release.status === "COMPLETED" ? "completed" : "aborted"}.`;
  const phase = release.currentPhaseIndex === null ? undefined : release.phases[release.currentPhaseIndex];
  if (!phase) return "The release has no current phase.";
  const now = `${phase.name} is ${phaseWords(phase.status).toLowerCase()}`;
  switch (action.name) {
    case "Approve":
      if (phase.status !== "AWAITING_APPROVAL") return `Nothing awaits approval: ${now}.`;
      if (release.pipeline.selfApproval === "FORBIDDEN" && release.startedBy === viewer.tokenName)
        return "You started this release and its pipeline forbids self-approval.";
      if (phase.approvals.some((a) => a.by === viewer.tokenName)) return "You already approved this phase.";
      return null;
    case "Pause":
      return phase.status === "WAITING" ? null : `Only a running bake timer can be paused: ${now}.`;
    case "Unpause":
      return phase.status === "PAUSED" ? null : `Only a paused bake timer can be resumed: ${now}.`;
    case "Skip":
      return phase.status === "WAITING" || phase.status === "PAUSED"
        ? null
        : `Only a bake wait can be skipped: ${now}.`;
    case "Full Roll Out":
      return phase.status === "FROZEN" || phase.status === "AWAITING_WINDOW"
        ? `The phase is held (${now}): break glass to roll it out.`
        : null;
    case "Break Glass":
      return phase.status === "FROZEN" || phase.status === "AWAITING_WINDOW"
        ? null
        : `Nothing to break: neither a freeze nor a closed promotion window holds ${phase.name} now.`;
    case "Roll Back":
      return release.phases.some((p) => p.status === "ROLLED_OUT") ? null : "No phase has rolled out yet.";
    default:
      return null;
  }
}

const newKey = (): string =>
  typeof crypto.randomUUID === "function"
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(36).slice(2)}`;

interface Pending {
  action: (typeof ACTIONS)[number];
  /** The phase the page showed when the dialog opened: the service refuses if it moved on. */
  phaseIndex: number | null;
  phaseName: string | null;
  key: string;
}

/** The ⋯ menu of release actions, each with a confirmation dialog; `onDone` gets the new state. */
export function ReleaseActions({ release, onDone }: { release: Release; onDone: (release: Release) => void }) {
  const viewer = useViewer();
  const [open, setOpen] = useState(false);
  const [pending, setPending] = useState<Pending | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const menuId = useId();
  const menuRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (open) menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [open]);
  // A click anywhere outside the menu closes it (as Escape does).
  useEffect(() => {
    if (!open) return;
    const close = (event: MouseEvent): void => {
      const target = event.target as Node;
      if (!menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);
  useEffect(() => {
    if (outcome === null) return;
    const timer = setTimeout(() => setOutcome(null), 10_000);
    return () => clearTimeout(timer);
  }, [outcome]);

  const choose = (action: (typeof ACTIONS)[number]): void => {
    setOpen(false);
    const index = action.phased ? release.currentPhaseIndex : null;
    setPending({
      action,
      phaseIndex: index,
      phaseName: index === null ? null : (release.phases[index]?.name ?? null),
      key: newKey(),
    });
  };

  const onMenuKey = (event: KeyboardEvent): void => {
    const items = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (event.key === "Escape") {
      setOpen(false);
      buttonRef.current?.focus();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = (at + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      items[next]?.focus();
    }
  };

  return (
    <div class="actions">
      <button
        ref={buttonRef}
        type="button"
        class="menu-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        aria-label="Release actions"
        onClick={() => setOpen(!open)}
      >
        ⋯
      </button>
      {open && (
        <div id={menuId} role="menu" aria-label="Release actions" class="menu" ref={menuRef} onKeyDown={onMenuKey}>
          {ACTIONS.map((action) => {
            const why = whyNot(action, release, viewer);
            const whyId = `${menuId}-${action.field}`;
            return (
              <button
                key={action.field}
                type="button"
                role="menuitem"
                tabIndex={-1}
                aria-disabled={why !== null}
                aria-describedby={why === null ? undefined : whyId}
                class={why === null ? "" : "disabled"}
                onClick={() => {
                  if (why === null) choose(action);
                }}
              >
                <span>{action.name}</span>
                {why !== null && (
                  <span id={whyId} class="why" aria-hidden="true">
                    {why}
                  </span>
                )}
              </button>
            );
          })}
        </div>
      )}
      <p role="status" class="outcome" hidden={outcome === null}>
        {outcome}
        {outcome && (
          <button type="button" class="close" aria-label="Dismiss" onClick={() => setOutcome(null)}>
            ×
          </button>
        )}
      </p>
      {pending && (
        <ActionDialog
          release={release}
          pending={pending}
          onClose={(message, updated) => {
            setPending(null);
            if (message) setOutcome(message);
            if (updated) onDone(updated);
            buttonRef.current?.focus();
          }}
        />
      )}
    </div>
  );
}

function ActionDialog({
  release,
  pending,
  onClose,
}: {
  release: Release;
  pending: Pending;
  onClose: (message: string | null, release?: Release) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // One Idempotency-Key per attempt that may have been applied: a Confirm retried after a lost answer
  // (network) is the same Update, applied once; after a refusal nothing was applied, so a new key.
  const [key, setKey] = useState(pending.key);
  const titleId = useId();
  const { action } = pending;
  // Roll Back: the rolled-out phase to go back to (the latest by default: only the current phase restarts).
  const rolledOut = release.phases.filter((p) => p.status === "ROLLED_OUT");
  const [target, setTarget] = useState<number>(rolledOut.at(-1)?.index ?? 0);
  const rollback = action.field === "rollbackToPhase";

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const confirm = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const text = reason.trim() === "" ? null : reason.trim();
      const data = await request(
        actionDocument(action.field),
        {
          id: release.id,
          text,
          ...(pending.phaseIndex !== null && { phaseIndex: pending.phaseIndex }),
          ...(rollback && { phaseIndex: target }),
        },
        { idempotencyKey: key },
      );
      const updated = data[action.field];
      ref.current?.close();
      onClose(`${action.name}: done. ${statusLine(updated)}.`, updated);
    } catch (failure) {
      setError(failure);
      setBusy(false);
      if (failure instanceof ApiError && failure.code !== "NETWORK" && failure.code !== "INTERNAL") setKey(newKey());
    }
  };

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      class="dialog"
      onCancel={(event) => {
        event.preventDefault();
        ref.current?.close();
        onClose(null);
      }}
    >
      <form onSubmit={(event) => void confirm(event)}>
        <h2 id={titleId}>
          {action.name} — {release.feature.key} release {releaseNumber(release.id)}
        </h2>
        <p>
          This will {action.verb}
          {pending.phaseName !== null && (
            <>
              {" "}
              of phase {(pending.phaseIndex ?? 0) + 1}, <strong>{pending.phaseName}</strong>
            </>
          )}
          .
        </p>
        {pending.phaseIndex !== null && release.currentPhaseIndex !== pending.phaseIndex && (
          <p role="note" class="banner banner-live">
            The release has moved on since you opened this: {statusLine(release)}. Confirming will be refused.
          </p>
        )}
        {rollback && (
          <label>
            Roll back to phase
            <select value={String(target)} onChange={(event) => setTarget(Number(event.currentTarget.value))}>
              {rolledOut.map((p) => (
                <option key={p.index} value={String(p.index)}>
                  {p.index + 1}. {p.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Reason
          <textarea
            name="reason"
            rows={3}
            maxLength={2000}
            value={reason}
            onInput={(event) => setReason(event.currentTarget.value)}
            required={action.field === "breakGlass"}
            placeholder={
              action.name === "Approve"
                ? "Optional: recorded as the approval's comment"
                : action.field === "breakGlass"
                  ? "Required: why the freeze or the window is bypassed"
                  : "Optional"
            }
          />
        </label>
        {error !== null &&
          (error instanceof ApiError && error.code === "INVALID_STATE" ? (
            // The service's own message numbers phases from 0; the console's sentence says where the
            // release is now, in the page's terms, and keeps the service's text one click away.
            <div role="alert" class="error">
              <p>
                {inWords(new ApiError({ message: "", extensions: { code: error.code } }))} Now: {statusLine(release)}.
              </p>
              <details>
                <summary>The service's answer</summary>
                {error.message}
              </details>
            </div>
          ) : (
            <p role="alert" class="error">
              {inWords(error)}
            </p>
          ))}
        <div class="buttons">
          <button type="submit" class={action.name === "Abort" ? "danger" : "primary"} disabled={busy}>
            Confirm
          </button>
          <button
            type="button"
            onClick={() => {
              ref.current?.close();
              onClose(null);
            }}
          >
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

/**
 * A confirmation before a change (Statsig: "a confirmation dialog will appear … click Confirm"): the
 * dialog stays open with the error in words when the service refuses, and closes once it answered.
 */
export function ConfirmDialog({
  title,
  children,
  danger = false,
  onConfirm,
  onClose,
}: {
  title: string;
  children: ComponentChildren;
  danger?: boolean;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  const close = (): void => {
    ref.current?.close();
    onClose();
  };
  const confirm = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      close();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      class="dialog"
      onCancel={(event) => {
        event.preventDefault();
        close();
      }}
    >
      <form onSubmit={(event) => void confirm(event)}>
        <h2 id={titleId}>{title}</h2>
        {children}
        {error !== null && (
          <p role="alert" class="error">
            {inWords(error)}
          </p>
        )}
        <div class="buttons">
          <button type="submit" class={danger ? "danger" : "primary"} disabled={busy}>
            Confirm
          </button>
          <button type="button" onClick={close}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function Breadcrumbs({ items }: { items: { href?: string; label: string }[] }) {
  return (
    <nav aria-label="Breadcrumbs" class="crumbs">
      <ol>
        {items.map((item) =>
          item.href ? (
            <li key={item.label}>
              <Link href={item.href}>{item.label}</Link>
            </li>
          ) : (
            <li key={item.label} aria-current="page">
              {item.label}
            </li>
          ),
        )}
      </ol>
    </nav>
  );
}

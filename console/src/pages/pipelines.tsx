import { useEffect, useState } from "preact/hooks";
import { request } from "../api.ts";
import {
  Badge,
  Breadcrumbs,
  ConfirmDialog,
  ErrorNote,
  formatDuration,
  formatGuardrail,
  formatRamp,
  formatTime,
  Loading,
  roleAtLeast,
  useViewer,
} from "../components.tsx";
import {
  CLONE_PIPELINE,
  CREATE_PIPELINE,
  DELETE_PIPELINE,
  type Guardrail,
  type PhaseInput,
  PIPELINE_QUERY,
  type Pipeline,
  PROJECT,
  PUBLISH_PIPELINE,
  type Target,
  UPDATE_PIPELINE,
} from "../documents.ts";
import { useLiveRefetch, useQuery, useTitle } from "../hooks.ts";
import { Link, navigate } from "../router.tsx";
import { ProjectNav } from "./projects.tsx";

const statusTone = (status: string): string => (status === "PUBLISHED" ? "ok" : status === "DRAFT" ? "live" : "off");

export function PipelinesPage({ projectId }: { projectId: string }) {
  const viewer = useViewer();
  const query = useQuery(PROJECT, { id: projectId }, projectId);
  useLiveRefetch({ projectId }, query.refetch);
  const project = query.data?.project;
  useTitle(`Pipelines · ${project?.name ?? "Project"}`);
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const create = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      const environment = project?.environments[0] ?? "development";
      const { createPipeline } = await request(CREATE_PIPELINE, {
        input: {
          projectId,
          name: name.trim(),
          selfApproval: "ALLOWED",
          phases: [
            {
              name: "Phase 1",
              waitFor: null,
              requiresApproval: false,
              approvalsRequired: 1,
              action: "APPLY_CHANGE",
              targets: [{ environment, segment: null }],
            },
          ],
        },
      });
      navigate(`/pipelines/${createPipeline.id}`);
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <>
      <Breadcrumbs
        items={[
          { href: "/", label: "Projects" },
          { href: `/projects/${projectId}`, label: project?.name ?? projectId },
          { label: "Pipelines" },
        ]}
      />
      <h1>Pipelines</h1>
      <ProjectNav projectId={projectId} current="Pipelines" />
      <ErrorNote error={query.error} />
      {query.loading && <Loading what="pipelines" />}
      {project && project.pipelines.length === 0 && <p>No pipeline yet.</p>}
      {project && project.pipelines.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Phases</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {project.pipelines.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link href={`/pipelines/${p.id}`}>{p.name}</Link>
                </td>
                <td>
                  <Badge tone={statusTone(p.status)}>{p.status}</Badge>
                </td>
                <td>{p.phases.length}</td>
                <td>{p.version}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {roleAtLeast(viewer.role, "EDITOR") && (
        <section class="card" aria-labelledby="new-pipeline">
          <h2 id="new-pipeline">New pipeline</h2>
          <form class="row" onSubmit={(event) => void create(event)}>
            <label>
              Pipeline name
              <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <button type="submit" class="primary">
              Create draft
            </button>
          </form>
          <ErrorNote error={error} />
        </section>
      )}
    </>
  );
}

const targetsText = (targets: Target[]): string =>
  targets.map((t) => (t.segment ? `${t.environment}/${t.segment}` : t.environment)).join(", ");
const parseTargets = (text: string): Target[] =>
  text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const [environment = "", segment] = part.split("/").map((s) => s.trim());
      return { environment, segment: segment || null };
    });

interface PhaseDraft extends Omit<PhaseInput, "targets" | "waitFor" | "ramp" | "guardrails"> {
  guardrails: GuardrailDraft[];
  waitFor: string;
  targets: string;
  /** The ramp's three fields as typed; all empty = no ramp. */
  rampInitial: string;
  rampIncrease: string;
  rampEvery: string;
}

/** A guardrail as typed in the editor (numbers as text until saved). */
interface GuardrailDraft {
  name: string;
  kind: Guardrail["kind"];
  url: string;
  query: string;
  comparator: NonNullable<Guardrail["comparator"]>;
  threshold: string;
  interval: string;
  failuresToTrip: string;
  onFailure: Guardrail["onFailure"];
}

const toGuardrailDraft = (g: Guardrail): GuardrailDraft => ({
  name: g.name,
  kind: g.kind,
  url: g.url,
  query: g.query ?? "",
  comparator: g.comparator ?? "LT",
  threshold: g.threshold === null ? "" : String(g.threshold),
  interval: g.interval,
  failuresToTrip: String(g.failuresToTrip),
  onFailure: g.onFailure,
});

const fromGuardrailDraft = (g: GuardrailDraft): Guardrail => {
  const prometheus = g.kind === "PROMETHEUS_QUERY";
  return {
    name: g.name.trim(),
    kind: g.kind,
    url: g.url.trim(),
    query: prometheus ? g.query : null,
    comparator: prometheus ? g.comparator : null,
    threshold: prometheus && g.threshold.trim() !== "" ? Number(g.threshold) : null,
    interval: g.interval.trim(),
    failuresToTrip: Number(g.failuresToTrip),
    onFailure: g.onFailure,
  };
};

const newGuardrail = (): GuardrailDraft => ({
  name: "health",
  kind: "HTTP_PROBE",
  url: "https://",
  query: "",
  comparator: "LT",
  threshold: "",
  interval: "PT1M",
  failuresToTrip: "3",
  onFailure: "PAUSE",
});

const rampOf = (p: PhaseDraft): PhaseInput["ramp"] =>
  p.rampInitial.trim() === "" && p.rampIncrease.trim() === "" && p.rampEvery.trim() === ""
    ? null
    : { initialPercentage: Number(p.rampInitial), increaseBy: Number(p.rampIncrease), every: p.rampEvery.trim() };
const toDrafts = (pipeline: Pipeline): PhaseDraft[] =>
  pipeline.phases.map((p) => ({
    name: p.name,
    waitFor: p.waitFor ?? "",
    requiresApproval: p.requiresApproval,
    approvalsRequired: p.approvalsRequired,
    action: p.action,
    targets: targetsText(p.targets),
    rampInitial: p.ramp ? String(p.ramp.initialPercentage) : "",
    rampIncrease: p.ramp ? String(p.ramp.increaseBy) : "",
    rampEvery: p.ramp?.every ?? "",
    guardrails: p.guardrails.map(toGuardrailDraft),
  }));

export function PipelinePage({ id }: { id: string }) {
  const viewer = useViewer();
  const query = useQuery(PIPELINE_QUERY, { id }, id);
  const pipeline = query.data?.pipeline ?? null;
  useLiveRefetch(pipeline ? { projectId: pipeline.project.id } : null, query.refetch);
  useTitle(pipeline?.name ?? "Pipeline");
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [selfApproval, setSelfApproval] = useState("ALLOWED");
  const [phases, setPhases] = useState<PhaseDraft[]>([]);
  const [confirming, setConfirming] = useState<"publish" | "delete" | null>(null);
  useEffect(() => {
    if (!pipeline) return;
    setName(pipeline.name);
    setDescription(pipeline.description ?? "");
    setSelfApproval(pipeline.selfApproval);
    setPhases(toDrafts(pipeline));
  }, [pipeline?.id, pipeline?.version]);

  if (query.loading) return <Loading what="the pipeline" />;
  if (!pipeline)
    return (
      <>
        <h1>Pipeline not found</h1>
        <ErrorNote error={query.error} />
      </>
    );
  const editable = pipeline.status === "DRAFT" && roleAtLeast(viewer.role, "EDITOR");
  const run = async (work: () => Promise<string | null>): Promise<void> => {
    setError(null);
    setMessage(null);
    try {
      const done = await work();
      if (done) setMessage(done);
      await query.refetch();
    } catch (failure) {
      setError(failure);
    }
  };
  const save = (): Promise<void> =>
    run(async () => {
      await request(UPDATE_PIPELINE, {
        id,
        input: {
          name: name.trim(),
          description: description.trim() || null,
          selfApproval,
          phases: phases.map((p) => ({
            name: p.name.trim(),
            waitFor: p.waitFor.trim() || null,
            requiresApproval: p.requiresApproval,
            approvalsRequired: p.approvalsRequired,
            action: p.action,
            targets: parseTargets(p.targets),
            ramp: rampOf(p),
            guardrails: p.guardrails.map(fromGuardrailDraft),
          })),
        },
      });
      return "Draft saved.";
    });
  const set = (i: number, patch: Partial<PhaseDraft>): void =>
    setPhases((old) => old.map((p, j) => (j === i ? { ...p, ...patch } : p)));
  const move = (i: number, by: number): void =>
    setPhases((old) => {
      const next = [...old];
      const [item] = next.splice(i, 1);
      if (item) next.splice(i + by, 0, item);
      return next;
    });

  return (
    <>
      <Breadcrumbs
        items={[
          { href: "/", label: "Projects" },
          { href: `/projects/${pipeline.project.id}`, label: pipeline.project.name },
          { href: `/projects/${pipeline.project.id}/pipelines`, label: "Pipelines" },
          { label: pipeline.name },
        ]}
      />
      <h1>
        {pipeline.name} <Badge tone={statusTone(pipeline.status)}>{pipeline.status}</Badge>
      </h1>
      <ProjectNav projectId={pipeline.project.id} current="Pipelines" />
      <p>
        {pipeline.windows.length === 0
          ? "Promotion windows: none (phases roll out at any time)."
          : `Promotion windows: ${pipeline.windows
              .map((w) => `${w.days.join(", ")} ${w.start}–${w.end} (${w.timeZone})`)
              .join("; ")}. Phases ready outside them wait for the next one.`}
      </p>
      <p>
        Version {pipeline.version}, created {formatTime(pipeline.createdAt)}
        {pipeline.publishedAt && `, published ${formatTime(pipeline.publishedAt)}`}. Self-approval:{" "}
        {pipeline.selfApproval === "FORBIDDEN" ? "forbidden" : "allowed"}.
        {pipeline.attachedFeatures.length > 0 && (
          <>
            {" "}
            Used by{" "}
            {pipeline.attachedFeatures.map((f, i) => (
              <span key={f.id}>
                {i > 0 && ", "}
                <Link href={`/features/${f.id}`}>{f.key}</Link>
              </span>
            ))}
            .
          </>
        )}
      </p>
      {pipeline.status === "PUBLISHED" && <p>Published pipelines are immutable: clone one to change it.</p>}
      {editable ? (
        <form
          class="stack"
          onSubmit={(event) => {
            event.preventDefault();
            void save();
          }}
        >
          <div class="row">
            <label>
              Name
              <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <label>
              Description
              <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
            </label>
            <label>
              Self-approval
              <select value={selfApproval} onChange={(e) => setSelfApproval(e.currentTarget.value)}>
                <option value="ALLOWED">Allowed</option>
                <option value="FORBIDDEN">Forbidden (the release's starter cannot approve)</option>
              </select>
            </label>
          </div>
          <p>
            Targets: environments of the project ({pipeline.project.environments.join(", ")}), optionally narrowed to a
            segment ({pipeline.project.segments.map((s) => s.key).join(", ") || "none defined"}) as{" "}
            <code>production/us-west</code>. Bake time as an ISO duration, e.g. <code>PT30M</code>.
          </p>
          {phases.map((phase, i) => (
            <fieldset key={`${i}-${phases.length}`} class="phase-editor">
              <legend>Phase {i + 1}</legend>
              <label>
                Name of phase {i + 1}
                <input required value={phase.name} onInput={(e) => set(i, { name: e.currentTarget.value })} />
              </label>
              <label>
                Targets of phase {i + 1}
                <input required value={phase.targets} onInput={(e) => set(i, { targets: e.currentTarget.value })} />
              </label>
              <label>
                Bake time of phase {i + 1}
                <input
                  value={phase.waitFor}
                  placeholder="none"
                  onInput={(e) => set(i, { waitFor: e.currentTarget.value })}
                />
              </label>
              <label class="check">
                <input
                  type="checkbox"
                  checked={phase.requiresApproval}
                  onChange={(e) => set(i, { requiresApproval: e.currentTarget.checked })}
                />
                Phase {i + 1} requires approval
              </label>
              <label>
                Approvals needed in phase {i + 1}
                <input
                  type="number"
                  min={1}
                  max={20}
                  value={phase.approvalsRequired}
                  onInput={(e) => set(i, { approvalsRequired: Number(e.currentTarget.value) })}
                />
              </label>
              <label>
                Action of phase {i + 1}
                <select
                  value={phase.action}
                  onChange={(e) => set(i, { action: e.currentTarget.value as PhaseDraft["action"] })}
                >
                  <option value="APPLY_CHANGE">Apply the change</option>
                  <option value="ENABLE">Enable</option>
                  <option value="DISABLE">Disable</option>
                </select>
              </label>
              <label>
                Ramp of phase {i + 1}: initial %
                <input
                  type="number"
                  min={0}
                  max={100}
                  step="any"
                  value={phase.rampInitial}
                  placeholder="no ramp"
                  onInput={(e) => set(i, { rampInitial: e.currentTarget.value })}
                />
              </label>
              <label>
                Ramp of phase {i + 1}: increase by %
                <input
                  type="number"
                  min={0}
                  max={100}
                  step="any"
                  value={phase.rampIncrease}
                  onInput={(e) => set(i, { rampIncrease: e.currentTarget.value })}
                />
              </label>
              <label>
                Ramp of phase {i + 1}: every
                <input
                  value={phase.rampEvery}
                  placeholder="e.g. PT6H"
                  onInput={(e) => set(i, { rampEvery: e.currentTarget.value })}
                />
              </label>
              {phase.guardrails.map((g, j) => {
                const label = `guardrail ${j + 1} of phase ${i + 1}`;
                const setG = (patch: Partial<GuardrailDraft>): void =>
                  set(i, { guardrails: phase.guardrails.map((x, k) => (k === j ? { ...x, ...patch } : x)) });
                return (
                  <fieldset key={`g-${j}-${phase.guardrails.length}`} class="guardrail-editor">
                    <legend>Guardrail {j + 1}</legend>
                    <label>
                      Name of {label}
                      <input required value={g.name} onInput={(e) => setG({ name: e.currentTarget.value })} />
                    </label>
                    <label>
                      Kind of {label}
                      <select
                        value={g.kind}
                        onChange={(e) => setG({ kind: e.currentTarget.value as GuardrailDraft["kind"] })}
                      >
                        <option value="HTTP_PROBE">HTTP probe (2xx passes)</option>
                        <option value="PROMETHEUS_QUERY">Prometheus query</option>
                      </select>
                    </label>
                    <label>
                      URL of {label}
                      <input required value={g.url} onInput={(e) => setG({ url: e.currentTarget.value })} />
                    </label>
                    {g.kind === "PROMETHEUS_QUERY" && (
                      <>
                        <label>
                          Query of {label}
                          <input value={g.query} onInput={(e) => setG({ query: e.currentTarget.value })} />
                        </label>
                        <label>
                          Passes when the value is ({label})
                          <select
                            value={g.comparator}
                            onChange={(e) =>
                              setG({ comparator: e.currentTarget.value as GuardrailDraft["comparator"] })
                            }
                          >
                            <option value="LT">less than</option>
                            <option value="LTE">at most</option>
                            <option value="GT">greater than</option>
                            <option value="GTE">at least</option>
                          </select>
                        </label>
                        <label>
                          Threshold of {label}
                          <input
                            type="number"
                            step="any"
                            value={g.threshold}
                            onInput={(e) => setG({ threshold: e.currentTarget.value })}
                          />
                        </label>
                      </>
                    )}
                    <label>
                      Interval of {label}
                      <input value={g.interval} onInput={(e) => setG({ interval: e.currentTarget.value })} />
                    </label>
                    <label>
                      Failures to trip {label}
                      <input
                        type="number"
                        min={1}
                        max={100}
                        value={g.failuresToTrip}
                        onInput={(e) => setG({ failuresToTrip: e.currentTarget.value })}
                      />
                    </label>
                    <label>
                      When {label} trips
                      <select
                        value={g.onFailure}
                        onChange={(e) => setG({ onFailure: e.currentTarget.value as GuardrailDraft["onFailure"] })}
                      >
                        <option value="PAUSE">Pause the release</option>
                        <option value="ABORT">Abort the release</option>
                      </select>
                    </label>
                    <button
                      type="button"
                      onClick={() => set(i, { guardrails: phase.guardrails.filter((_, k) => k !== j) })}
                    >
                      Remove {label}
                    </button>
                  </fieldset>
                );
              })}
              <div class="buttons">
                <button
                  type="button"
                  onClick={() => set(i, { guardrails: [...phase.guardrails, newGuardrail()] })}
                  disabled={phase.guardrails.length >= 10}
                >
                  Add guardrail to phase {i + 1}
                </button>
              </div>
              <div class="buttons">
                <button type="button" disabled={i === 0} onClick={() => move(i, -1)}>
                  Move phase {i + 1} up
                </button>
                <button type="button" disabled={i === phases.length - 1} onClick={() => move(i, 1)}>
                  Move phase {i + 1} down
                </button>
                <button type="button" onClick={() => setPhases((old) => old.filter((_, j) => j !== i))}>
                  Remove phase {i + 1}
                </button>
              </div>
            </fieldset>
          ))}
          <div class="buttons">
            <button
              type="button"
              onClick={() =>
                setPhases((old) => [
                  ...old,
                  {
                    name: `Phase ${old.length + 1}`,
                    waitFor: "",
                    requiresApproval: false,
                    approvalsRequired: 1,
                    action: "APPLY_CHANGE",
                    targets: pipeline.project.environments.at(-1) ?? "",
                    rampInitial: "",
                    rampIncrease: "",
                    rampEvery: "",
                    guardrails: [],
                  },
                ])
              }
            >
              Add phase
            </button>
            <button type="submit" class="primary">
              Save draft
            </button>
          </div>
        </form>
      ) : (
        <ol class="timeline" aria-label="Phases">
          {pipeline.phases.map((p) => (
            <li key={p.index} class="phase">
              <div class="phase-head">
                <span class="phase-name">
                  {p.index + 1}. {p.name}
                </span>
              </div>
              <div class="phase-body">
                <span>Targets: {targetsText(p.targets)}</span>
                <span>Bake: {formatDuration(p.waitFor)}</span>
                {p.requiresApproval && <span>Approvals needed: {p.approvalsRequired}</span>}
                {p.action !== "APPLY_CHANGE" && <span>Action: {p.action}</span>}
                {p.ramp && <span>Ramp: {formatRamp(p.ramp)}</span>}
                {p.guardrails.map((g) => (
                  <span key={g.name}>Guardrail: {formatGuardrail(g)}</span>
                ))}
              </div>
            </li>
          ))}
        </ol>
      )}
      <ErrorNote error={error} />
      {message && <p role="status">{message}</p>}
      {roleAtLeast(viewer.role, "EDITOR") && (
        <div class="buttons">
          {pipeline.status === "DRAFT" && (
            <button type="button" class="primary" onClick={() => setConfirming("publish")}>
              Publish
            </button>
          )}
          <button
            type="button"
            onClick={() =>
              void run(async () => {
                const { clonePipeline } = await request(CLONE_PIPELINE, { id, name: `${pipeline.name} (copy)` });
                navigate(`/pipelines/${clonePipeline.id}`);
                return null;
              })
            }
          >
            Clone
          </button>
          {pipeline.status !== "DELETED" && (
            <button type="button" class="danger" onClick={() => setConfirming("delete")}>
              Delete
            </button>
          )}
        </div>
      )}
      {confirming === "publish" && (
        <ConfirmDialog
          title={`Publish ${pipeline.name}`}
          onConfirm={async () => {
            await request(PUBLISH_PIPELINE, { id });
            setMessage("Published.");
            await query.refetch();
          }}
          onClose={() => setConfirming(null)}
        >
          <p>
            A published pipeline can be attached to features and can no longer be changed (clone it to make a new
            draft). Save the draft first if you edited it.
          </p>
        </ConfirmDialog>
      )}
      {confirming === "delete" && (
        <ConfirmDialog
          title={`Delete ${pipeline.name}`}
          danger
          onConfirm={async () => {
            await request(DELETE_PIPELINE, { id });
            setMessage("Deleted.");
            await query.refetch();
          }}
          onClose={() => setConfirming(null)}
        >
          <p>A pipeline that a feature still uses cannot be deleted; detach it from the feature first.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

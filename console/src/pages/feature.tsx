import { useEffect, useState } from "preact/hooks";
import { request, subscribe } from "../api.ts";
import {
  Badge,
  Breadcrumbs,
  ConfirmDialog,
  DefinitionView,
  ErrorNote,
  formatTime,
  Loading,
  ReleaseActions,
  ReleaseStatusBanner,
  releaseNumber,
  releaseTone,
  roleAtLeast,
  useViewer,
} from "../components.tsx";
import {
  ATTACH_PIPELINE,
  DETACH_PIPELINE,
  type Definition,
  type EnvironmentDefinition,
  FEATURE_HISTORY,
  FEATURE_QUERY,
  FEATURE_RELEASES,
  type Feature,
  PROJECT,
  RELEASE_QUERY,
  type Release,
  START_RELEASE,
  UPDATE_FEATURE,
} from "../documents.ts";
import { useLiveRefetch, useQuery, useTitle } from "../hooks.ts";
import { Link, navigate } from "../router.tsx";
import { ProjectNav } from "./projects.tsx";

export function FeaturePage({ id }: { id: string }) {
  const query = useQuery(FEATURE_QUERY, { id }, id);
  const history = useQuery(FEATURE_HISTORY, { id }, id);
  const feature = query.data?.feature ?? null;
  const projectId = feature?.project.id ?? null;
  useLiveRefetch(projectId === null ? null : { projectId }, async () => {
    await Promise.all([query.refetch(), history.refetch()]);
  });
  useTitle(feature?.key ?? "Feature");

  // The feature's release, live: featureReleases delivers every state of every release of the feature.
  const [release, setRelease] = useState<Release | null>(null);
  const activeId = feature?.activeRelease?.id ?? null;
  useEffect(() => {
    if (activeId === null) return;
    let stale = false;
    request(RELEASE_QUERY, { id: activeId })
      .then(({ release: loaded }) => {
        if (!stale && loaded)
          setRelease((old) => (old && old.id === loaded.id && old.version > loaded.version ? old : loaded));
      })
      .catch(() => {});
    return () => {
      stale = true;
    };
  }, [activeId]);
  useEffect(
    () =>
      subscribe(FEATURE_RELEASES, { featureId: id }, ({ featureReleases }) =>
        setRelease((old) =>
          old && old.id === featureReleases.id && old.version >= featureReleases.version ? old : featureReleases,
        ),
      ),
    [id],
  );

  if (query.loading) return <Loading what="the feature" />;
  if (!feature)
    return (
      <>
        <h1>Feature not found</h1>
        <ErrorNote error={query.error} />
      </>
    );
  const shown =
    release && (release.status === "IN_PROGRESS" || release.id === feature.releases.at(-1)?.id) ? release : null;
  return (
    <>
      <Breadcrumbs
        items={[
          { href: "/", label: "Projects" },
          { href: `/projects/${feature.project.id}`, label: feature.project.name },
          { label: feature.key },
        ]}
      />
      <div class="title-row">
        <h1>
          {feature.key} <Badge tone="off">{feature.kind === "GATE" ? "Gate" : "Dynamic config"}</Badge>
        </h1>
        {shown && shown.status === "IN_PROGRESS" && <ReleaseActions release={shown} onDone={setRelease} />}
      </div>
      <ProjectNav projectId={feature.project.id} current="Features" />
      {shown ? (
        <div class="banner-row">
          <ReleaseStatusBanner release={shown} />
          <Link href={`/releases/${shown.id}`}>Open release {releaseNumber(shown.id)}</Link>
        </div>
      ) : (
        <div role="status" aria-label="Release status" class="banner banner-off">
          <strong>No release in progress</strong>
        </div>
      )}
      {feature.description && <p>{feature.description}</p>}
      <ErrorNote error={query.error} />
      <PipelineControl feature={feature} onChanged={query.refetch} />
      <h2>Definitions per environment</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Environment</th>
            <th scope="col">Served now</th>
            <th scope="col">Rolled out by the release</th>
          </tr>
        </thead>
        <tbody>
          {feature.environments.map((env) => (
            <tr key={env.environment}>
              <th scope="row">{env.environment}</th>
              <td>
                <DefinitionView definition={env.definition} kind={feature.kind} />
              </td>
              <td>
                {env.rolledOutTargets.length === 0
                  ? "—"
                  : env.rolledOutTargets.map((t) => `${t.environment} / ${t.segment ?? "all"}`).join(", ")}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <EditDefinitions feature={feature} onSaved={query.refetch} />
      <h2>Releases</h2>
      {feature.releases.length === 0 ? (
        <p>No release yet.</p>
      ) : (
        <ul>
          {[...feature.releases].reverse().map((r) => (
            <li key={r.id}>
              <Link href={`/releases/${r.id}`}>Release {releaseNumber(r.id)}</Link>{" "}
              <Badge tone={releaseTone(r.status)}>{r.status}</Badge> started by {r.startedBy} {formatTime(r.startedAt)}
            </li>
          ))}
        </ul>
      )}
      <h2>History</h2>
      <ErrorNote error={history.error} />
      <ol class="history">
        {history.data?.feature?.history.edges.map(({ node }) => (
          <li key={node.id}>
            <time dateTime={node.at}>{formatTime(node.at)}</time> <strong>{node.type}</strong> by {node.actor}
          </li>
        ))}
      </ol>
      <p>
        <Link href={`/projects/${feature.project.id}/audit?entity=${encodeURIComponent(feature.id)}`}>
          Replay this feature's history in the audit log
        </Link>
      </p>
    </>
  );
}

function PipelineControl({ feature, onChanged }: { feature: Feature; onChanged: () => Promise<void> }) {
  const viewer = useViewer();
  const project = useQuery(PROJECT, { id: feature.project.id }, feature.project.id);
  const [choice, setChoice] = useState(feature.pipeline?.id ?? "");
  const [error, setError] = useState<unknown>(null);
  const [reason, setReason] = useState("");
  const editor = roleAtLeast(viewer.role, "EDITOR");
  const run = async (work: () => Promise<unknown>): Promise<void> => {
    setError(null);
    try {
      await work();
      await onChanged();
    } catch (failure) {
      setError(failure);
    }
  };
  const published = project.data?.project?.pipelines.filter((p) => p.status === "PUBLISHED") ?? [];
  return (
    <section aria-labelledby="pipeline-heading" class="card">
      <h2 id="pipeline-heading">Pipeline</h2>
      <p>
        {feature.pipeline ? (
          <>
            Changes go through <Link href={`/pipelines/${feature.pipeline.id}`}>{feature.pipeline.name}</Link>.
          </>
        ) : (
          "No pipeline: a change applies to every environment at once."
        )}
      </p>
      {editor && (
        <div class="row">
          <label>
            Attach pipeline
            <select value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
              <option value="">None</option>
              {published.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            onClick={() =>
              void run(() =>
                choice === ""
                  ? request(DETACH_PIPELINE, { featureId: feature.id })
                  : request(ATTACH_PIPELINE, { featureId: feature.id, pipelineId: choice }),
              )
            }
          >
            Save pipeline
          </button>
          {feature.pipeline && !feature.activeRelease && (
            <>
              <label>
                Release reason
                <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
              </label>
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    const { startRelease } = await request(START_RELEASE, {
                      featureId: feature.id,
                      reason: reason.trim() || null,
                    });
                    navigate(`/releases/${startRelease.id}`);
                  })
                }
              >
                Start release of the current definition
              </button>
            </>
          )}
        </div>
      )}
      <ErrorNote error={error} />
    </section>
  );
}

const same = (a: Definition | undefined, b: Definition): boolean => JSON.stringify(a) === JSON.stringify(b);

function ChangeSummary({ feature, after }: { feature: Feature; after: EnvironmentDefinition[] }) {
  return (
    <table>
      <caption>The change</caption>
      <thead>
        <tr>
          <th scope="col">Environment</th>
          <th scope="col">Now</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {after.map((env) => {
          const now = feature.environments.find((e) => e.environment === env.environment)?.definition;
          return (
            <tr key={env.environment}>
              <th scope="row">{env.environment}</th>
              <td>{now ? <DefinitionView definition={now} kind={feature.kind} /> : "—"}</td>
              <td>
                {same(now, env.definition) ? (
                  "unchanged"
                ) : (
                  <DefinitionView definition={env.definition} kind={feature.kind} />
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

interface RuleDraft {
  segment: string;
  enabled: boolean;
  value: string;
  rolloutPercentage: number;
}
interface Draft {
  environment: string;
  enabled: boolean;
  value: string;
  rules: RuleDraft[];
}
const json = (value: unknown): string => (value === null || value === undefined ? "" : JSON.stringify(value));
const toDraft = (environment: string, d: Definition): Draft => ({
  environment,
  enabled: d.enabled,
  value: json(d.value),
  rules: d.rules.map((r) => ({
    segment: r.segment,
    enabled: r.enabled,
    value: json(r.value),
    rolloutPercentage: r.rolloutPercentage,
  })),
});

function parseJson(text: string, what: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON.`);
  }
}

/** Statsig's "save, then confirm": the change per environment, then a release (or an immediate apply). */
function EditDefinitions({ feature, onSaved }: { feature: Feature; onSaved: () => Promise<void> }) {
  const viewer = useViewer();
  const [drafts, setDrafts] = useState<Draft[]>(() =>
    feature.environments.map((e) => toDraft(e.environment, e.definition)),
  );
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    setDrafts(feature.environments.map((e) => toDraft(e.environment, e.definition)));
  }, [feature.version, feature.id]);
  if (!roleAtLeast(viewer.role, "EDITOR")) return null;
  const config = feature.kind === "DYNAMIC_CONFIG";
  const segments = feature.project.segments.map((s) => s.key);
  const set = (i: number, patch: Partial<Draft>): void =>
    setDrafts((old) => old.map((d, j) => (j === i ? { ...d, ...patch } : d)));
  const setRule = (i: number, r: number, patch: Partial<RuleDraft>): void =>
    setDrafts((old) =>
      old.map((d, j) =>
        j === i ? { ...d, rules: d.rules.map((rule, k) => (k === r ? { ...rule, ...patch } : rule)) } : d,
      ),
    );
  const [pending, setPending] = useState<EnvironmentDefinition[] | null>(null);
  /** Save: the drafts are checked here, then a dialog says where the change goes and asks to confirm. */
  const review = (event: Event): void => {
    event.preventDefault();
    setError(null);
    setMessage(null);
    try {
      setPending(
        drafts.map((d) => ({
          environment: d.environment,
          definition: {
            enabled: d.enabled,
            value: config ? parseJson(d.value, `The value in ${d.environment}`) : null,
            rules: d.rules.map((rule, r) => ({
              segment: rule.segment,
              enabled: rule.enabled,
              value: config ? parseJson(rule.value, `The value of rule ${r + 1} in ${d.environment}`) : null,
              rolloutPercentage: rule.rolloutPercentage,
            })),
          },
        })),
      );
    } catch (failure) {
      setError(failure);
    }
  };
  const save = async (environments: EnvironmentDefinition[]): Promise<void> => {
    const { updateFeature } = await request(UPDATE_FEATURE, { id: feature.id, input: { environments } });
    if (updateFeature.__typename === "Release") navigate(`/releases/${updateFeature.id}`);
    else {
      setMessage("Saved: the change applies to every environment now.");
      await onSaved();
    }
  };
  return (
    <section aria-labelledby="edit-heading" class="card">
      <h2 id="edit-heading">Change the definitions</h2>
      <p>
        {feature.pipeline
          ? `Saving starts a release through ${feature.pipeline.name}.`
          : "Saving applies the change to every environment at once."}{" "}
        Rules are tried in order; the first whose segment matches a unit decides.
      </p>
      <form onSubmit={review} class="stack">
        {drafts.map((d, i) => (
          <fieldset key={d.environment}>
            <legend>{d.environment}</legend>
            <label class="check">
              <input
                type="checkbox"
                checked={d.enabled}
                onChange={(e) => set(i, { enabled: e.currentTarget.checked })}
              />
              Enabled in {d.environment}
            </label>
            {config && (
              <label>
                Value in {d.environment} (JSON)
                <input value={d.value} onInput={(e) => set(i, { value: e.currentTarget.value })} />
              </label>
            )}
            {d.rules.map((rule, r) => {
              const name = `rule ${r + 1} in ${d.environment}`;
              return (
                <div class="rule-row" key={`${d.environment}-${r}`}>
                  <label>
                    Segment of {name}
                    <select value={rule.segment} onChange={(e) => setRule(i, r, { segment: e.currentTarget.value })}>
                      {segments.map((key) => (
                        <option key={key} value={key}>
                          {key}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label class="check">
                    <input
                      type="checkbox"
                      checked={rule.enabled}
                      onChange={(e) => setRule(i, r, { enabled: e.currentTarget.checked })}
                    />
                    On for {name}
                  </label>
                  <label>
                    Rollout % of {name}
                    <input
                      type="number"
                      min={0}
                      max={100}
                      step="any"
                      value={rule.rolloutPercentage}
                      onInput={(e) => setRule(i, r, { rolloutPercentage: Number(e.currentTarget.value) })}
                    />
                  </label>
                  {config && (
                    <label>
                      Value of {name} (JSON)
                      <input value={rule.value} onInput={(e) => setRule(i, r, { value: e.currentTarget.value })} />
                    </label>
                  )}
                  <button type="button" onClick={() => set(i, { rules: d.rules.filter((_, k) => k !== r) })}>
                    Remove {name}
                  </button>
                </div>
              );
            })}
            {segments.length > 0 && (
              <button
                type="button"
                onClick={() =>
                  set(i, {
                    rules: [
                      ...d.rules,
                      { segment: segments[0] ?? "", enabled: true, value: "", rolloutPercentage: 100 },
                    ],
                  })
                }
              >
                Add rule in {d.environment}
              </button>
            )}
          </fieldset>
        ))}
        <ErrorNote error={error} />
        {message && <p role="status">{message}</p>}
        <button type="submit" class="primary" disabled={feature.activeRelease !== null}>
          {feature.pipeline ? "Save and start release" : "Save"}
        </button>
        {feature.activeRelease && <p>A release is in progress: finish or abort it before the next change.</p>}
      </form>
      {pending && (
        <ConfirmDialog
          title={feature.pipeline ? `Start a release of ${feature.key}` : `Save ${feature.key}`}
          onConfirm={() => save(pending)}
          onClose={() => setPending(null)}
        >
          <p>
            {feature.pipeline
              ? `These changes will progress through the pipeline ${feature.pipeline.name}, phase by phase; until a phase rolls them out, its environments keep what they serve now.`
              : "These changes apply to every environment at once."}
          </p>
          <ChangeSummary feature={feature} after={pending} />
        </ConfirmDialog>
      )}
    </section>
  );
}

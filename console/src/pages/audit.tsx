import { useEffect, useState } from "preact/hooks";
import { request } from "../api.ts";
import {
  Breadcrumbs,
  DefinitionView,
  ErrorNote,
  formatTime,
  Loading,
  PhaseTimeline,
  ReleaseStatusBanner,
} from "../components.tsx";
import {
  AUDIT_LOG,
  type AuditEvent,
  type AuditFilter,
  FEATURE_AS_OF,
  type Feature,
  PIPELINE_AS_OF,
  type Pipeline,
  RELEASE_AS_OF,
  type Release,
} from "../documents.ts";
import { useLiveRefetch, useQuery, useTitle } from "../hooks.ts";
import { Link, navigate } from "../router.tsx";
import { ProjectNav } from "./projects.tsx";

const PAGE = 50;

/** A datetime-local value ("2026-11-29T17:00") as an ISO instant; "" stays unset. */
const toIso = (local: string): string | undefined => (local === "" ? undefined : new Date(local).toISOString());

export function AuditPage({ projectId, url }: { projectId: string | null; url: URL }) {
  useTitle("Audit log");
  const params = url.searchParams;
  const entity = params.get("entity") ?? "";
  const [form, setForm] = useState({
    entity,
    types: params.get("types") ?? "",
    actor: params.get("actor") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
  });
  useEffect(() => setForm((old) => ({ ...old, entity })), [entity]);
  const filter: AuditFilter = {
    ...(projectId && { projectId }),
    ...(entity && { entityId: entity }),
    ...(params.get("types") && {
      types: (params.get("types") ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    }),
    ...(params.get("actor") && { actor: params.get("actor") ?? "" }),
    ...(params.get("from") && { from: toIso(params.get("from") ?? "") }),
    ...(params.get("to") && { to: toIso(params.get("to") ?? "") }),
  };
  const key = JSON.stringify(filter);
  const first = useQuery(AUDIT_LOG, { filter, order: "DESC", first: PAGE, after: null }, key);
  const [more, setMore] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  useEffect(() => {
    setMore([]);
    setCursor(null);
  }, [key]);
  useLiveRefetch(projectId ? { projectId } : {}, first.refetch);
  const edges = first.data?.auditLog.edges.map((e) => e.node) ?? [];
  const events = [...edges, ...more];
  const hasNext = cursor === null ? first.data?.auditLog.pageInfo.hasNextPage : cursor !== "";
  const loadMore = async (): Promise<void> => {
    setMoreError(null);
    try {
      const after = cursor ?? first.data?.auditLog.pageInfo.endCursor ?? null;
      const { auditLog } = await request(AUDIT_LOG, { filter, order: "DESC", first: PAGE, after });
      setMore((old) => [...old, ...auditLog.edges.map((e) => e.node)]);
      setCursor(auditLog.pageInfo.hasNextPage ? (auditLog.pageInfo.endCursor ?? "") : "");
    } catch (failure) {
      setMoreError(failure);
    }
  };
  const apply = (event: Event): void => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) if (value.trim() !== "") next.set(name, value.trim());
    const query = next.toString();
    navigate(`${url.pathname}${query ? `?${query}` : ""}`);
  };

  return (
    <>
      {projectId && (
        <Breadcrumbs
          items={[
            { href: "/", label: "Projects" },
            { href: `/projects/${projectId}`, label: "Project" },
            { label: "Audit log" },
          ]}
        />
      )}
      <h1>Audit log</h1>
      {projectId && <ProjectNav projectId={projectId} current="Audit log" />}
      <form class="row filters" onSubmit={apply} aria-label="Audit filters">
        <label>
          Entity id
          <input value={form.entity} onInput={(e) => setForm({ ...form, entity: e.currentTarget.value })} />
        </label>
        <label>
          Event types (comma separated)
          <input value={form.types} onInput={(e) => setForm({ ...form, types: e.currentTarget.value })} />
        </label>
        <label>
          Actor
          <input value={form.actor} onInput={(e) => setForm({ ...form, actor: e.currentTarget.value })} />
        </label>
        <label>
          From
          <input
            type="datetime-local"
            step={1}
            value={form.from}
            onInput={(e) => setForm({ ...form, from: e.currentTarget.value })}
          />
        </label>
        <label>
          To
          <input
            type="datetime-local"
            step={1}
            value={form.to}
            onInput={(e) => setForm({ ...form, to: e.currentTarget.value })}
          />
        </label>
        <button type="submit" class="primary">
          Apply filters
        </button>
      </form>
      {entity && <Replay entityId={entity} />}
      <h2>Events, newest first</h2>
      <ErrorNote error={first.error} />
      {first.loading && <Loading what="events" />}
      {!first.loading && events.length === 0 && <p>No event matches.</p>}
      {events.length > 0 && (
        <table class="audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Event</th>
              <th scope="col">Entity</th>
              <th scope="col">Actor</th>
              <th scope="col">Data</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td>
                  <time dateTime={e.at}>{formatTime(e.at)}</time>
                </td>
                <td>{e.type}</td>
                <td>
                  <Link href={`${url.pathname}?entity=${encodeURIComponent(e.entityId)}`}>{e.entityId}</Link>
                </td>
                <td>{e.actor}</td>
                <td>
                  <details>
                    <summary>Data</summary>
                    <pre class="data">{JSON.stringify(e.data, null, 2)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorNote error={moreError} />
      {hasNext && (
        <button type="button" onClick={() => void loadMore()}>
          Load older events
        </button>
      )}
    </>
  );
}

type Snapshot =
  | { kind: "feature"; value: Feature | null }
  | { kind: "release"; value: Release | null }
  | { kind: "pipeline"; value: Pipeline | null }
  | { kind: "other"; value: null };

/** Audit replay: a slider over the entity's events; the entity is shown as it was after the chosen one. */
function Replay({ entityId }: { entityId: string }) {
  const trail = useQuery(AUDIT_LOG, { filter: { entityId }, order: "ASC", first: 500, after: null }, entityId);
  const events = trail.data?.auditLog.edges.map((e) => e.node) ?? [];
  const [index, setIndex] = useState<number | null>(null);
  // The state as of `position`: shown only while that is the chosen event's, so the heading ("As of event
  // n") and the table never disagree while the next point in time loads.
  const [loaded, setLoaded] = useState<{ position: string; snapshot: Snapshot } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const at = index ?? events.length - 1;
  const event = events[at];
  const stream = events[0]?.stream ?? "";
  useEffect(() => setIndex(null), [entityId]);
  useEffect(() => {
    if (!event) return;
    let stale = false;
    setError(null);
    const position = event.position;
    const load = async (): Promise<Snapshot> => {
      if (stream.startsWith("feature-"))
        return { kind: "feature", value: (await request(FEATURE_AS_OF, { id: entityId, position })).featureAsOf };
      if (stream.startsWith("release-"))
        return { kind: "release", value: (await request(RELEASE_AS_OF, { id: entityId, position })).releaseAsOf };
      if (stream.startsWith("pipeline-"))
        return { kind: "pipeline", value: (await request(PIPELINE_AS_OF, { id: entityId, position })).pipelineAsOf };
      return { kind: "other", value: null };
    };
    load()
      .then((result) => {
        if (!stale) setLoaded({ position, snapshot: result });
      })
      .catch((failure: unknown) => {
        if (!stale) setError(failure);
      });
    return () => {
      stale = true;
    };
  }, [event?.position, entityId, stream]);

  if (trail.loading) return <Loading what="the entity's history" />;
  if (events.length === 0) return <ErrorNote error={trail.error} />;
  const snapshot = loaded !== null && loaded.position === event?.position ? loaded.snapshot : null;
  return (
    <section class="card replay" aria-labelledby="replay-heading">
      <h2 id="replay-heading">Replay {entityId}</h2>
      <label>
        Point in time
        <input
          type="range"
          min={0}
          max={events.length - 1}
          value={at}
          aria-valuetext={event ? `${event.type} at ${formatTime(event.at)}` : undefined}
          onInput={(e) => setIndex(Number(e.currentTarget.value))}
        />
      </label>
      <p>
        As of event {at + 1} of {events.length}: <strong>{event?.type}</strong> by {event?.actor},{" "}
        {formatTime(event?.at ?? null)}
      </p>
      <ErrorNote error={error ?? trail.error} />
      {snapshot === null && error === null && <Loading what="the state as of then" />}
      {snapshot?.kind === "feature" && snapshot.value && (
        <table>
          <caption>Definitions as of then</caption>
          <tbody>
            {snapshot.value.environments.map((env) => (
              <tr key={env.environment}>
                <th scope="row">{env.environment}</th>
                <td>
                  <DefinitionView definition={env.definition} kind={snapshot.value?.kind ?? "GATE"} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {snapshot?.kind === "release" && snapshot.value && (
        <>
          <ReleaseStatusBanner release={snapshot.value} />
          <PhaseTimeline release={snapshot.value} />
        </>
      )}
      {snapshot?.kind === "pipeline" && snapshot.value && (
        <p>
          {snapshot.value.name}: {snapshot.value.status}, version {snapshot.value.version},{" "}
          {snapshot.value.phases.length} phases ({snapshot.value.phases.map((p) => p.name).join(" → ")})
        </p>
      )}
    </section>
  );
}

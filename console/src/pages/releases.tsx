import { useEffect, useState } from "preact/hooks";
import { type ApiError, subscribe } from "../api.ts";
import {
  Badge,
  Breadcrumbs,
  DefinitionView,
  ErrorNote,
  formatTime,
  Loading,
  PhaseTimeline,
  ReleaseActions,
  ReleaseStatusBanner,
  releaseNumber,
  releaseTone,
  statusLine,
} from "../components.tsx";
import { PROJECT_RELEASES, RELEASE_QUERY, RELEASE_UPDATED, type Release } from "../documents.ts";
import { useLiveRefetch, useQuery, useTitle } from "../hooks.ts";
import { Link } from "../router.tsx";
import { ProjectNav } from "./projects.tsx";

export function ReleasePage({ id }: { id: string }) {
  useTitle(`Release ${releaseNumber(id)}`);
  const query = useQuery(RELEASE_QUERY, { id }, id);
  const [live, setLive] = useState<Release | null>(null);
  const [liveError, setLiveError] = useState<ApiError | null>(null);
  // releaseUpdated starts with the current state, then every change: the page never reloads.
  useEffect(() => {
    setLive(null);
    return subscribe(
      RELEASE_UPDATED,
      { id },
      ({ releaseUpdated }) => {
        setLiveError(null);
        setLive((old) => (old && old.version > releaseUpdated.version ? old : releaseUpdated));
      },
      setLiveError,
    );
  }, [id]);
  const loaded = query.data?.release ?? null;
  const release = live && (!loaded || live.version >= loaded.version) ? live : loaded;
  if (query.loading && !release) return <Loading what="the release" />;
  if (!release)
    return (
      <>
        <h1>Release not found</h1>
        <ErrorNote error={query.error ?? liveError} />
      </>
    );
  const { feature } = release;
  const accept = (updated: Release): void => setLive((old) => (old && old.version > updated.version ? old : updated));
  return (
    <>
      <Breadcrumbs
        items={[
          { href: "/", label: "Projects" },
          { href: `/projects/${feature.project.id}`, label: feature.project.name },
          { href: `/features/${feature.id}`, label: feature.key },
          { label: `Release ${releaseNumber(release.id)}` },
        ]}
      />
      <div class="title-row">
        <h1>
          {feature.key}: release {releaseNumber(release.id)}{" "}
          <Badge tone={releaseTone(release.status)}>{release.status.replace("_", " ")}</Badge>
        </h1>
        <ReleaseActions release={release} onDone={accept} />
      </div>
      <ReleaseStatusBanner release={release} />
      {liveError && <ErrorNote error={liveError} />}
      <p>
        <Link href={`/features/${feature.id}`}>{feature.key}</Link> through{" "}
        <Link href={`/pipelines/${release.pipeline.id}`}>{release.pipeline.name}</Link> (version{" "}
        {release.pipelineVersion}
        ), started by <strong>{release.startedBy}</strong> {formatTime(release.startedAt)}
        {release.endedAt && `, ended ${formatTime(release.endedAt)}`}.
      </p>
      <h2>Phases</h2>
      <PhaseTimeline release={release} />
      <h2>Actions taken</h2>
      {release.actions.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">By</th>
              <th scope="col">Phase</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {release.actions.map((a) => (
              <tr key={`${a.at}-${a.kind}-${a.by}`}>
                <td>{formatTime(a.at)}</td>
                <td>{a.kind}</td>
                <td>{a.by}</td>
                <td>{a.phaseIndex === null ? "—" : (release.phases[a.phaseIndex]?.name ?? a.phaseIndex + 1)}</td>
                <td>{a.reason ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>The change</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Environment</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {release.after.map((env) => {
            const before = release.before.find((b) => b.environment === env.environment);
            return (
              <tr key={env.environment}>
                <th scope="row">{env.environment}</th>
                <td>{before ? <DefinitionView definition={before.definition} kind={feature.kind} /> : "—"}</td>
                <td>
                  <DefinitionView definition={env.definition} kind={feature.kind} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p>
        <Link href={`/projects/${feature.project.id}/audit?entity=${encodeURIComponent(release.id)}`}>
          Replay this release in the audit log
        </Link>
      </p>
    </>
  );
}

export function ReleasesPage({ projectId }: { projectId: string }) {
  const [showAll, setShowAll] = useState(false);
  const query = useQuery(
    PROJECT_RELEASES,
    { id: projectId, status: showAll ? null : "IN_PROGRESS" },
    `${projectId}-${showAll}`,
  );
  useLiveRefetch({ projectId }, query.refetch);
  const project = query.data?.project;
  useTitle(`Releases · ${project?.name ?? "Project"}`);
  return (
    <>
      <Breadcrumbs
        items={[
          { href: "/", label: "Projects" },
          { href: `/projects/${projectId}`, label: project?.name ?? projectId },
          { label: "Releases" },
        ]}
      />
      <h1>{showAll ? "Every release" : "Releases in flight"}</h1>
      <ProjectNav projectId={projectId} current="Releases in flight" />
      <label class="check">
        <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.currentTarget.checked)} />
        Show completed and aborted releases too
      </label>
      <ErrorNote error={query.error} />
      {query.loading && <Loading what="releases" />}
      {project && project.releases.length === 0 && <p>No release {showAll ? "yet" : "in flight"}.</p>}
      {project && project.releases.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Release</th>
              <th scope="col">Feature</th>
              <th scope="col">State</th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {[...project.releases].reverse().map((r) => (
              <tr key={r.id}>
                <td>
                  <Link href={`/releases/${r.id}`}>
                    {r.feature.key} release {releaseNumber(r.id)}
                  </Link>
                </td>
                <td>
                  <Link href={`/features/${r.feature.id}`}>{r.feature.key}</Link>
                </td>
                <td>{statusLine(r)}</td>
                <td>
                  {r.startedBy}, {formatTime(r.startedAt)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

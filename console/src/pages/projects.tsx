import { useState } from "preact/hooks";
import { request } from "../api.ts";
import {
  Badge,
  Breadcrumbs,
  ErrorNote,
  formatTime,
  Loading,
  phaseWords,
  roleAtLeast,
  useViewer,
} from "../components.tsx";
import {
  CREATE_FEATURE,
  CREATE_PROJECT,
  type FeatureSummary,
  FREEZE_PROJECT,
  type Freeze,
  PROJECT,
  PROJECTS,
  type Segment,
  UNFREEZE_PROJECT,
} from "../documents.ts";
import { useLiveRefetch, useQuery, useTitle } from "../hooks.ts";
import { Link, navigate } from "../router.tsx";

export function ProjectsPage() {
  useTitle("Projects");
  const viewer = useViewer();
  const projects = useQuery(PROJECTS, {}, "projects");
  useLiveRefetch({}, projects.refetch);
  return (
    <>
      <h1>Projects</h1>
      <ErrorNote error={projects.error} />
      {projects.loading && <Loading what="projects" />}
      {projects.data && projects.data.projects.length === 0 && <p>No project yet.</p>}
      {projects.data && projects.data.projects.length > 0 && (
        <ul class="cards">
          {projects.data.projects.map((project) => (
            <li key={project.id} class="card">
              <h2>
                <Link href={`/projects/${project.id}`}>{project.name}</Link>
              </h2>
              <p>Environments: {project.environments.join(" → ")}</p>
              <p>
                {project.features.length} features · {project.releases.length} releases in flight
              </p>
            </li>
          ))}
        </ul>
      )}
      {viewer.role === "ADMIN" && viewer.projectId === null && <CreateProject />}
    </>
  );
}

/** "us-west: region IN us-west, us-west-2" per line. */
function parseSegments(text: string): Segment[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => {
      const m = /^([^:]+):\s*(\S+)\s+(IN|NOT_IN|NOT IN)\s+(.+)$/i.exec(line);
      if (!m) throw new Error(`Segment line not understood: "${line}" (expected "key: attribute IN value, value")`);
      return {
        key: (m[1] ?? "").trim(),
        attribute: m[2] ?? "",
        operator: (m[3] ?? "IN").toUpperCase().replace(" ", "_") === "IN" ? "IN" : "NOT_IN",
        values: (m[4] ?? "")
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v !== ""),
      };
    });
}

function CreateProject() {
  const [name, setName] = useState("");
  const [environments, setEnvironments] = useState("development, staging, production");
  const [segments, setSegments] = useState("us-west: region IN us-west\nus-east: region IN us-east");
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      const input = {
        name: name.trim(),
        environments: environments
          .split(",")
          .map((e) => e.trim())
          .filter((e) => e !== ""),
        segments: parseSegments(segments),
      };
      const { createProject } = await request(CREATE_PROJECT, { input });
      navigate(`/projects/${createProject.id}`);
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <section class="card" aria-labelledby="new-project">
      <h2 id="new-project">New project</h2>
      <form onSubmit={(event) => void submit(event)} class="stack">
        <label>
          Name
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Environments, in order (comma separated)
          <input required value={environments} onInput={(e) => setEnvironments(e.currentTarget.value)} />
        </label>
        <label>
          Segments, one a line (key: attribute IN value, value)
          <textarea rows={3} value={segments} onInput={(e) => setSegments(e.currentTarget.value)} />
        </label>
        <ErrorNote error={error} />
        <button type="submit" class="primary">
          Create project
        </button>
      </form>
    </section>
  );
}

export function featureStatus(feature: FeatureSummary): string {
  const release = feature.activeRelease;
  if (!release) return "No release in progress";
  const index = release.currentPhaseIndex ?? 0;
  const phase = release.phases[index];
  return `Releasing: phase ${index + 1} of ${release.phases.length}${phase ? ` (${phase.name}) — ${phaseWords(phase.status)}` : ""}`;
}

export function ProjectNav({ projectId, current }: { projectId: string; current: string }) {
  const viewer = useViewer();
  const links = [
    [`/projects/${projectId}`, "Features"],
    [`/projects/${projectId}/pipelines`, "Pipelines"],
    [`/projects/${projectId}/releases`, "Releases in flight"],
    [`/projects/${projectId}/audit`, "Audit log"],
    ...(viewer.role === "ADMIN" ? [[`/projects/${projectId}/sdk-keys`, "SDK keys"]] : []),
    ...(viewer.role === "ADMIN" ? [[`/projects/${projectId}/webhooks`, "Webhooks"]] : []),
  ];
  return (
    <nav aria-label="Project" class="tabs">
      <ul>
        {links.map(([href, label]) => (
          <li key={href}>
            <Link href={href ?? ""} aria-current={label === current ? "page" : undefined}>
              {label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function ProjectPage({ projectId }: { projectId: string }) {
  const viewer = useViewer();
  const query = useQuery(PROJECT, { id: projectId }, projectId);
  useLiveRefetch({ projectId }, query.refetch);
  const project = query.data?.project;
  useTitle(project?.name ?? "Project");
  if (query.loading) return <Loading what="the project" />;
  if (!project)
    return (
      <>
        <h1>Project not found</h1>
        <ErrorNote error={query.error} />
      </>
    );
  return (
    <>
      <Breadcrumbs items={[{ href: "/", label: "Projects" }, { label: project.name }]} />
      <h1>{project.name}</h1>
      <ProjectNav projectId={projectId} current="Features" />
      <ErrorNote error={query.error} />
      <FreezePanel projectId={projectId} freeze={project.freeze} onChange={() => void query.refetch()} />
      <p>
        Environments: {project.environments.join(" → ")}
        {project.segments.length > 0 &&
          ` · Segments: ${project.segments.map((s) => `${s.key} (${s.attribute} ${s.operator} ${s.values.join(", ")})`).join("; ")}`}
      </p>
      <h2>Features</h2>
      {project.features.length === 0 ? (
        <p>No feature yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Kind</th>
              <th scope="col">Pipeline</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {project.features.map((feature) => (
              <tr key={feature.id}>
                <td>
                  <Link href={`/features/${feature.id}`}>{feature.key}</Link>
                </td>
                <td>{feature.kind === "GATE" ? "Gate" : "Dynamic config"}</td>
                <td>
                  {feature.pipeline ? (
                    <Link href={`/pipelines/${feature.pipeline.id}`}>{feature.pipeline.name}</Link>
                  ) : (
                    "—"
                  )}
                </td>
                <td>
                  {feature.activeRelease ? (
                    <Link href={`/releases/${feature.activeRelease.id}`}>
                      <Badge tone="live">{featureStatus(feature)}</Badge>
                    </Link>
                  ) : (
                    featureStatus(feature)
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {roleAtLeast(viewer.role, "EDITOR") && (
        <CreateFeature projectId={projectId} pipelines={project.pipelines.filter((p) => p.status === "PUBLISHED")} />
      )}
    </>
  );
}

function CreateFeature({ projectId, pipelines }: { projectId: string; pipelines: { id: string; name: string }[] }) {
  const [key, setKey] = useState("");
  const [kind, setKind] = useState("GATE");
  const [description, setDescription] = useState("");
  const [pipelineId, setPipelineId] = useState("");
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    try {
      const { createFeature } = await request(CREATE_FEATURE, {
        input: {
          projectId,
          key: key.trim(),
          kind,
          ...(description.trim() && { description: description.trim() }),
          ...(pipelineId && { pipelineId }),
        },
      });
      navigate(`/features/${createFeature.id}`);
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <section class="card" aria-labelledby="new-feature">
      <h2 id="new-feature">New feature</h2>
      <form onSubmit={(event) => void submit(event)} class="row">
        <label>
          Key
          <input required value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            <option value="GATE">Gate</option>
            <option value="DYNAMIC_CONFIG">Dynamic config</option>
          </select>
        </label>
        <label>
          Pipeline
          <select value={pipelineId} onChange={(e) => setPipelineId(e.currentTarget.value)}>
            <option value="">None (changes apply at once)</option>
            {pipelines.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Description
          <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary">
          Create feature
        </button>
      </form>
      <ErrorNote error={error} />
    </section>
  );
}

/** The project's freeze ("stop the line"): a banner while it lasts; APPROVERs freeze and unfreeze. */
function FreezePanel({
  projectId,
  freeze,
  onChange,
}: {
  projectId: string;
  freeze: Freeze | null;
  onChange: () => void;
}) {
  const viewer = useViewer();
  const [reason, setReason] = useState("");
  const [until, setUntil] = useState("");
  const [error, setError] = useState<unknown>(null);
  const canFreeze = roleAtLeast(viewer.role, "APPROVER");
  const run = async (action: () => Promise<unknown>): Promise<void> => {
    setError(null);
    try {
      await action();
      setReason("");
      setUntil("");
      onChange();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <section aria-label="Freeze">
      {freeze ? (
        <div role="status" class="banner banner-bad">
          <strong>Frozen</strong> since {formatTime(freeze.since)} by {freeze.by}: {freeze.reason}
          {freeze.until ? ` · ends ${formatTime(freeze.until)}` : " · until unfrozen"}. No phase of this project's
          releases rolls out; timers still run and approvals are still recorded.
        </div>
      ) : null}
      {canFreeze && (
        <form
          class="row"
          onSubmit={(event) => {
            event.preventDefault();
            void run(() =>
              freeze
                ? request(UNFREEZE_PROJECT, { projectId, reason: reason.trim() || null })
                : request(FREEZE_PROJECT, {
                    projectId,
                    reason: reason.trim(),
                    until: until === "" ? null : new Date(until).toISOString(),
                  }),
            );
          }}
        >
          <label>
            {freeze ? "Reason (optional)" : "Freeze reason"}
            <input required={!freeze} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          {!freeze && (
            <label>
              Ends (optional)
              <input type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
            </label>
          )}
          <button type="submit" class={freeze ? "primary" : "danger"}>
            {freeze ? "Unfreeze project" : "Freeze project"}
          </button>
        </form>
      )}
      <ErrorNote error={error} />
    </section>
  );
}

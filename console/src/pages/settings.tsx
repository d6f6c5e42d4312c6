// ADMIN pages: API tokens and SDK keys. Both are contract-next additions ("Tokens and limits",
// "Serving"): when the service does not have the fields yet, the query answers VALIDATION "Cannot
// query field" and the page says the feature is not available instead of failing.
import { useState } from "preact/hooks";
import { isCannotQueryField, request } from "../api.ts";
import { Badge, Breadcrumbs, ErrorNote, formatTime, Loading, useViewer } from "../components.tsx";
import {
  API_TOKENS,
  CREATE_API_TOKEN,
  CREATE_SDK_KEY,
  PROJECTS,
  REVOKE_API_TOKEN,
  REVOKE_SDK_KEY,
  type Role,
  SDK_KEYS,
} from "../documents.ts";
import { useQuery, useTitle } from "../hooks.ts";
import { ProjectNav } from "./projects.tsx";

function SecretOnce({ what, secret }: { what: string; secret: string }) {
  return (
    <div role="status" class="banner banner-ok">
      <p>{what}: copy the secret now, it is shown once and only its hash is stored.</p>
      <label>
        Secret
        <input readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
      </label>
    </div>
  );
}

function NotAvailable({ what }: { what: string }) {
  return (
    <p role="note" class="banner banner-off">
      {what} are not available on this service yet (its API has no such field).
    </p>
  );
}

export function ApiTokensPage() {
  useTitle("API tokens");
  const viewer = useViewer();
  const tokens = useQuery(API_TOKENS, { includeRevoked: true }, "tokens");
  const projects = useQuery(PROJECTS, {}, "projects");
  const [form, setForm] = useState<{ name: string; role: Role; projectId: string }>({
    name: "",
    role: "VIEWER",
    projectId: "",
  });
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  if (viewer.role !== "ADMIN") return <p>API tokens are managed by ADMINs.</p>;
  const unavailable = isCannotQueryField(tokens.error);
  const create = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    setCreated(null);
    try {
      const { createApiToken } = await request(CREATE_API_TOKEN, {
        input: { name: form.name.trim(), role: form.role, projectId: form.projectId || null },
      });
      setCreated(createApiToken.secret);
      setForm({ ...form, name: "" });
      if (!unavailable) await tokens.refetch();
    } catch (failure) {
      setError(failure);
    }
  };
  const revoke = async (id: string): Promise<void> => {
    setError(null);
    try {
      await request(REVOKE_API_TOKEN, { id });
      await tokens.refetch();
    } catch (failure) {
      setError(failure);
    }
  };
  const projectName = (id: string | null): string =>
    id === null ? "every project" : (projects.data?.projects.find((p) => p.id === id)?.name ?? id);
  return (
    <>
      <h1>API tokens</h1>
      {tokens.loading && <Loading what="tokens" />}
      {unavailable ? <NotAvailable what="Listing and revoking API tokens" /> : <ErrorNote error={tokens.error} />}
      {tokens.data && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Project</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.apiTokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{t.role}</td>
                <td>{projectName(t.projectId)}</td>
                <td>
                  {formatTime(t.createdAt)} by {t.createdBy}
                </td>
                <td>{formatTime(t.expiresAt)}</td>
                <td>
                  {t.revokedAt ? (
                    <Badge tone="bad">Revoked {formatTime(t.revokedAt)}</Badge>
                  ) : (
                    <button type="button" class="danger" onClick={() => void revoke(t.id)}>
                      Revoke {t.name}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <section class="card" aria-labelledby="new-token">
        <h2 id="new-token">New API token</h2>
        <form class="row" onSubmit={(event) => void create(event)}>
          <label>
            Token name
            <input required value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
          </label>
          <label>
            Role
            <select value={form.role} onChange={(e) => setForm({ ...form, role: e.currentTarget.value as Role })}>
              {(["VIEWER", "EDITOR", "APPROVER", "ADMIN"] as const).map((role) => (
                <option key={role} value={role}>
                  {role}
                </option>
              ))}
            </select>
          </label>
          <label>
            Project
            <select value={form.projectId} onChange={(e) => setForm({ ...form, projectId: e.currentTarget.value })}>
              <option value="">Every project</option>
              {projects.data?.projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="primary">
            Create token
          </button>
        </form>
        <ErrorNote error={error} />
        {created && <SecretOnce what="Token created" secret={created} />}
      </section>
    </>
  );
}

export function SdkKeysPage({ projectId }: { projectId: string }) {
  useTitle("SDK keys");
  const viewer = useViewer();
  const keys = useQuery(SDK_KEYS, { id: projectId }, projectId);
  const [name, setName] = useState("");
  const [environment, setEnvironment] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const unavailable = isCannotQueryField(keys.error);
  const project = keys.data?.project;
  const create = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    setCreated(null);
    try {
      const { createSdkKey } = await request(CREATE_SDK_KEY, {
        projectId,
        environment: environment || (project?.environments[0] ?? ""),
        name: name.trim(),
      });
      setCreated(createSdkKey.secret);
      setName("");
      await keys.refetch();
    } catch (failure) {
      setError(failure);
    }
  };
  const revoke = async (id: string): Promise<void> => {
    setError(null);
    try {
      await request(REVOKE_SDK_KEY, { id });
      await keys.refetch();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <>
      <Breadcrumbs
        items={[
          { href: "/", label: "Projects" },
          { href: `/projects/${projectId}`, label: project?.name ?? "Project" },
          { label: "SDK keys" },
        ]}
      />
      <h1>SDK keys</h1>
      <ProjectNav projectId={projectId} current="SDK keys" />
      {viewer.role !== "ADMIN" && <p>SDK keys are managed by ADMINs.</p>}
      {keys.loading && <Loading what="SDK keys" />}
      {unavailable ? <NotAvailable what="SDK keys" /> : <ErrorNote error={keys.error} />}
      {project && (
        <>
          {project.sdkKeys.length === 0 ? (
            <p>No SDK key yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Environment</th>
                  <th scope="col">Created</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {project.sdkKeys.map((k) => (
                  <tr key={k.id}>
                    <td>{k.name}</td>
                    <td>{k.environment}</td>
                    <td>
                      {formatTime(k.createdAt)} by {k.createdBy}
                    </td>
                    <td>
                      {k.revokedAt ? (
                        <Badge tone="bad">Revoked {formatTime(k.revokedAt)}</Badge>
                      ) : (
                        <button type="button" class="danger" onClick={() => void revoke(k.id)}>
                          Revoke {k.name}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <section class="card" aria-labelledby="new-key">
            <h2 id="new-key">New SDK key</h2>
            <form class="row" onSubmit={(event) => void create(event)}>
              <label>
                Key name
                <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
              </label>
              <label>
                Environment
                <select
                  value={environment || project.environments[0]}
                  onChange={(e) => setEnvironment(e.currentTarget.value)}
                >
                  {project.environments.map((env) => (
                    <option key={env} value={env}>
                      {env}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" class="primary">
                Create SDK key
              </button>
            </form>
            <ErrorNote error={error} />
            {created && <SecretOnce what="SDK key created" secret={created} />}
          </section>
        </>
      )}
    </>
  );
}

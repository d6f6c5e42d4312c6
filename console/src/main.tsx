import "./style.css";
import { type JSX, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { closeSubscriptions, inWords, request, session, setUnauthenticatedListener, subscribe } from "./api.ts";
import { releaseNumber, roleAtLeast, ViewerContext } from "./components.tsx";
import { APPROVAL_REQUESTED, PROJECTS, VIEWER, type Viewer } from "./documents.ts";
import { AuditPage } from "./pages/audit.tsx";
import { FeaturePage } from "./pages/feature.tsx";
import { PipelinePage, PipelinesPage } from "./pages/pipelines.tsx";
import { ProjectPage, ProjectsPage } from "./pages/projects.tsx";
import { ReleasePage, ReleasesPage } from "./pages/releases.tsx";
import { ApiTokensPage, SdkKeysPage } from "./pages/settings.tsx";
import { WebhooksPage } from "./pages/webhooks.tsx";
import { Link, match, useLocation } from "./router.tsx";

function SignIn({ onSignedIn, problem }: { onSignedIn: (viewer: Viewer) => void; problem: string | null }) {
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<string | null>(problem);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = "Sign in · Release pipelines";
  }, []);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { viewer } = await request(VIEWER, {}, { token: secret.trim() });
      session.set(secret.trim());
      onSignedIn(viewer);
    } catch (failure) {
      setError(inWords(failure));
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>Release pipelines</h1>
      <form onSubmit={(event) => void submit(event)} class="card">
        <p>Sign in with an API token. The service printed the first ADMIN token when it started.</p>
        <label>
          API token
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            required
            value={secret}
            onInput={(event) => setSecret(event.currentTarget.value)}
          />
        </label>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

const ROUTES: [string, (params: Record<string, string>, url: URL) => JSX.Element][] = [
  ["/", () => <ProjectsPage />],
  ["/projects/:projectId", (p) => <ProjectPage projectId={p.projectId ?? ""} />],
  ["/projects/:projectId/pipelines", (p) => <PipelinesPage projectId={p.projectId ?? ""} />],
  ["/projects/:projectId/releases", (p) => <ReleasesPage projectId={p.projectId ?? ""} />],
  ["/projects/:projectId/audit", (p, url) => <AuditPage projectId={p.projectId ?? null} url={url} />],
  ["/projects/:projectId/sdk-keys", (p) => <SdkKeysPage projectId={p.projectId ?? ""} />],
  ["/projects/:projectId/webhooks", (p) => <WebhooksPage projectId={p.projectId ?? ""} />],
  ["/features/:id", (p) => <FeaturePage id={p.id ?? ""} />],
  ["/releases/:id", (p) => <ReleasePage id={p.id ?? ""} />],
  ["/pipelines/:id", (p) => <PipelinePage id={p.id ?? ""} />],
  ["/audit", (_, url) => <AuditPage projectId={null} url={url} />],
  ["/tokens", () => <ApiTokensPage />],
];

function Routes({ url }: { url: URL }) {
  for (const [pattern, page] of ROUTES) {
    const params = match(url.pathname, pattern);
    if (params !== null) return page(params, url);
  }
  return (
    <>
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{url.pathname}</code>. <Link href="/">Go to the projects</Link>.
      </p>
    </>
  );
}

interface Notice {
  key: string;
  releaseId: string;
  text: string;
}

/**
 * Statsig's "you will receive a notification prompting you to take action": an APPROVER or ADMIN is told,
 * on whatever page they are, when a phase of a release in their projects starts awaiting approval.
 */
function ApprovalNotices({ viewer }: { viewer: Viewer }) {
  const [notices, setNotices] = useState<Notice[]>([]);
  const approver = roleAtLeast(viewer.role, "APPROVER");
  useEffect(() => {
    if (!approver) return;
    const stops: (() => void)[] = [];
    let ended = false;
    request(PROJECTS, {})
      .then(({ projects }) => {
        if (ended) return;
        for (const project of projects) {
          stops.push(
            subscribe(APPROVAL_REQUESTED, { projectId: project.id }, ({ approvalRequested: r }) => {
              const phase = r.phases[r.currentPhaseIndex ?? 0]?.name ?? "a phase";
              const key = `${r.id}:${r.currentPhaseIndex}`;
              setNotices((old) =>
                old.some((n) => n.key === key)
                  ? old
                  : [
                      ...old,
                      {
                        key,
                        releaseId: r.id,
                        text: `${r.feature.key} release ${releaseNumber(r.id)}: ${phase} awaits approval`,
                      },
                    ],
              );
            }),
          );
        }
      })
      .catch(() => {});
    return () => {
      ended = true;
      for (const stop of stops) stop();
    };
  }, [approver]);
  if (!approver) return null;
  return (
    <section aria-label="Notifications" class="notices" aria-live="polite">
      {notices.map((notice) => (
        <p key={notice.key} class="notice">
          <Link
            href={`/releases/${notice.releaseId}`}
            onClick={() => setNotices((old) => old.filter((n) => n !== notice))}
          >
            {notice.text}
          </Link>
          <button
            type="button"
            class="close"
            aria-label={`Dismiss: ${notice.text}`}
            onClick={() => setNotices((old) => old.filter((n) => n !== notice))}
          >
            ×
          </button>
        </p>
      ))}
    </section>
  );
}

function App() {
  const url = useLocation();
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [checking, setChecking] = useState(session.get() !== null);
  const [problem, setProblem] = useState<string | null>(null);

  const signOut = (why: string | null): void => {
    session.clear();
    closeSubscriptions();
    setViewer(null);
    setProblem(why);
  };

  useEffect(() => {
    setUnauthenticatedListener(() =>
      signOut("Your token is no longer accepted (revoked or expired): sign in again. (UNAUTHENTICATED)"),
    );
    if (session.get() === null) return;
    request(VIEWER, {})
      .then(({ viewer }) => setViewer(viewer))
      .catch((error: unknown) => {
        session.clear();
        setProblem(inWords(error));
      })
      .finally(() => setChecking(false));
  }, []);

  if (checking) return <p aria-busy="true">Signing in…</p>;
  if (viewer === null)
    return (
      <SignIn
        problem={problem}
        onSignedIn={(signedIn) => {
          setProblem(null);
          setViewer(signedIn);
        }}
      />
    );
  return (
    <ViewerContext.Provider value={viewer}>
      <header class="top">
        <Link href="/" class="brand">
          Release pipelines
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link href="/" aria-current={url.pathname === "/" ? "page" : undefined}>
                Projects
              </Link>
            </li>
            <li>
              <Link href="/audit" aria-current={url.pathname === "/audit" ? "page" : undefined}>
                Audit log
              </Link>
            </li>
            {viewer.role === "ADMIN" && (
              <li>
                <Link href="/tokens" aria-current={url.pathname === "/tokens" ? "page" : undefined}>
                  API tokens
                </Link>
              </li>
            )}
            <li>
              <a href="/graphql">GraphiQL</a>
            </li>
          </ul>
        </nav>
        <span class="who">
          Signed in as <strong>{viewer.tokenName}</strong> ({viewer.role})
        </span>
        <button type="button" onClick={() => signOut(null)}>
          Sign out
        </button>
      </header>
      <ApprovalNotices viewer={viewer} />
      <main class="page">
        <Routes url={url} />
      </main>
    </ViewerContext.Provider>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);

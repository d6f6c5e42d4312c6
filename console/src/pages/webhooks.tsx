// ADMIN page: a project's webhooks — create (the signing secret is shown once), delete, and each
// webhook's recent deliveries with their attempts, status and last status code.
import { useState } from "preact/hooks";
import { request } from "../api.ts";
import { Badge, Breadcrumbs, ErrorNote, formatTime, Loading, useViewer } from "../components.tsx";
import { CREATE_WEBHOOK, DELETE_WEBHOOK, WEBHOOKS, type WebhookEventName } from "../documents.ts";
import { useLiveRefetch, useQuery, useTitle } from "../hooks.ts";
import { Link } from "../router.tsx";
import { ProjectNav } from "./projects.tsx";

const EVENTS: { name: WebhookEventName; label: string }[] = [
  { name: "APPROVAL_REQUESTED", label: "Approval requested" },
  { name: "PHASE_ROLLED_OUT", label: "Phase rolled out" },
  { name: "RELEASE_PAUSED", label: "Release paused" },
  { name: "RELEASE_COMPLETED", label: "Release completed" },
  { name: "RELEASE_ABORTED", label: "Release aborted" },
  { name: "GUARDRAIL_TRIPPED", label: "Guardrail tripped" },
  { name: "FREEZE_CHANGED", label: "Freeze changed" },
];

const tone = (status: string): string => (status === "DELIVERED" ? "ok" : status === "FAILED" ? "bad" : "live");

export function WebhooksPage({ projectId }: { projectId: string }) {
  const viewer = useViewer();
  const query = useQuery(WEBHOOKS, { id: projectId }, `webhooks-${projectId}`);
  useLiveRefetch({ projectId }, query.refetch);
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEventName[]>(["APPROVAL_REQUESTED", "RELEASE_COMPLETED"]);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const project = query.data?.project;
  useTitle(project ? `Webhooks — ${project.name}` : "Webhooks");
  if (viewer.role !== "ADMIN") return <p>Webhooks are managed by ADMINs.</p>;
  const create = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    setSecret(null);
    try {
      const { createWebhook } = await request(CREATE_WEBHOOK, { projectId, url: url.trim(), events });
      setSecret(createWebhook.secret);
      setUrl("");
      await query.refetch();
    } catch (failure) {
      setError(failure);
    }
  };
  const remove = async (id: string): Promise<void> => {
    setError(null);
    try {
      await request(DELETE_WEBHOOK, { id });
      await query.refetch();
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
          { label: "Webhooks" },
        ]}
      />
      <h1>Webhooks</h1>
      <ProjectNav projectId={projectId} current="Webhooks" />
      {query.loading && <Loading what="webhooks" />}
      <ErrorNote error={query.error ?? error} />
      {secret && (
        <div role="status" class="banner banner-ok">
          <p>
            Copy the signing secret now, it is shown once. Each delivery carries <code>X-Signature-256: sha256=</code>
            and the hex HMAC-SHA256 of its body under this secret.
          </p>
          <label>
            Secret
            <input readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
          </label>
        </div>
      )}
      {project?.webhooks.length === 0 && <p>No webhook yet.</p>}
      {project?.webhooks.map((webhook) => (
        <section key={webhook.id} class="card" aria-label={`Webhook ${webhook.url}`}>
          <h2>
            <code>{webhook.url}</code>
          </h2>
          <p>
            {webhook.events.map((name) => EVENTS.find((e) => e.name === name)?.label ?? name).join(", ")} · created{" "}
            {formatTime(webhook.createdAt)}{" "}
            <button type="button" class="danger" onClick={() => void remove(webhook.id)}>
              Delete webhook
            </button>
          </p>
          {webhook.deliveries.length === 0 ? (
            <p>No delivery yet.</p>
          ) : (
            <table>
              <caption>Recent deliveries</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Release</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last answer</th>
                  <th scope="col">Last attempt</th>
                </tr>
              </thead>
              <tbody>
                {webhook.deliveries.map((delivery) => (
                  <tr key={delivery.id}>
                    <td>{EVENTS.find((e) => e.name === delivery.event)?.label ?? delivery.event}</td>
                    <td>
                      {delivery.releaseId ? (
                        <Link href={`/releases/${delivery.releaseId}`}>{delivery.releaseId}</Link>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td>
                      <Badge tone={tone(delivery.status)}>{delivery.status}</Badge>
                    </td>
                    <td>{delivery.attempts}</td>
                    <td>{delivery.lastStatusCode ?? "no answer"}</td>
                    <td>{formatTime(delivery.lastAttemptAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
      <section class="card" aria-labelledby="new-webhook">
        <h2 id="new-webhook">New webhook</h2>
        <form class="stack" onSubmit={(event) => void create(event)}>
          <label>
            URL (http or https, no credentials)
            <input required type="url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          </label>
          <fieldset>
            <legend>Events</legend>
            {EVENTS.map((event) => (
              <label key={event.name}>
                <input
                  type="checkbox"
                  checked={events.includes(event.name)}
                  onChange={(e) =>
                    setEvents(
                      e.currentTarget.checked ? [...events, event.name] : events.filter((name) => name !== event.name),
                    )
                  }
                />{" "}
                {event.label}
              </label>
            ))}
          </fieldset>
          <button type="submit" class="primary">
            Create webhook
          </button>
        </form>
      </section>
    </>
  );
}

// Webhook deliveries end to end on the time-skipping server: a real release workflow, the worker's
// dispatcher following the log, the delivery workflow and its activity POSTing to a real local HTTP
// receiver that verifies every signature. The receiver fails the first attempts and then answers 200;
// another never answers 2xx and the delivery gives up after more than an hour of backoff. Neither delays
// the release.

import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestWorkflowEnvironment } from "@temporalio/testing";
import { DefaultLogger, Runtime, type Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { streams } from "../../services/core/streams.ts";
import { handleCommand } from "../../services/event-store/command-handler.ts";
import { type ProjectCommand, projectDecider } from "../../services/project/project.ts";
import type { DeliveryEvent, WebhookEventKind } from "../../services/webhook/events.ts";
import type { WebhookBody } from "../../services/webhook/notification.ts";
import { newWebhookSecret, sealSecret, webhookKeyFrom } from "../../services/webhook/secrets.ts";
import { type Delivery, evolveDelivery, webhookDecider } from "../../services/webhook/webhook.ts";
import { startReleaseWorkflow } from "../../workflows/client.ts";
import { seedRelease } from "../../workflows/testing/seed-release.ts";
import {
  startWebhookDispatcher,
  type WebhookDispatcher,
  webhookDeliveryWorkflowId,
} from "../../workflows/webhook-dispatch.ts";
import { WEBHOOK_RETRY } from "../../workflows/webhooks.workflow.ts";
import { buildWorkflowBundle, createWebhookWorker } from "../../workflows/worker.ts";
import { createTimeSkippingEnv } from "../setup/temporal.ts";
import { startWorkerHarness, type WorkerHarness } from "../workflows/helpers.ts";

const HOUR = 3_600_000;
const key = webhookKeyFrom("a test installation's webhook key, 32+ characters");

interface Received {
  path: string;
  deliveryId: string;
  event: string;
  attempt: number;
  signatureValid: boolean;
  body: WebhookBody;
  /** The test server's clock when the request arrived (skipped time included). */
  serverTimeMs: number;
  answered: number;
}

let env: TestWorkflowEnvironment;
let harness: WorkerHarness;
let webhookWorker: Worker;
let webhookRunning: Promise<void>;
let dispatcher: WebhookDispatcher;
let server: Server;
let baseUrl: string;
const received: Received[] = [];
/** Deliveries whose request a hanging receiver holds unanswered. */
const hanging: string[] = [];
const secrets = new Map<string, string>();
const webhookQueue = `webhooks-test-${Date.now()}`;

/** Each path's receiver: answers `status(n)` to the n-th request (1-based) of one delivery. */
const behaviour = new Map<string, (n: number) => number>();

beforeAll(async () => {
  // Every failed attempt is an activity failure the SDK logs as a warning: errors only, here.
  Runtime.install({ logger: new DefaultLogger("ERROR") });
  env = await createTimeSkippingEnv();
  const bundle = await buildWorkflowBundle();
  harness = await startWorkerHarness({ nativeConnection: env.nativeConnection, client: env.client, bundle });
  webhookWorker = await createWebhookWorker({
    connection: env.nativeConnection,
    store: harness.store,
    bundle,
    taskQueue: webhookQueue,
    webhookKey: () => key,
    publicUrl: "https://releases.example.com",
  });
  webhookRunning = webhookWorker.run();
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      void (async () => {
        const raw = Buffer.concat(chunks);
        const path = request.url ?? "/";
        const webhookId = String(request.headers["x-webhook-id"]);
        const secret = secrets.get(webhookId) ?? "";
        const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`);
        const given = Buffer.from(String(request.headers["x-signature-256"] ?? ""));
        const deliveryId = String(request.headers["x-webhook-delivery"]);
        const n = received.filter((r) => r.deliveryId === deliveryId).length + 1;
        const answered = (behaviour.get(path) ?? (() => 200))(n);
        if (answered === 0) {
          // A receiver that hangs: never answers (the attempt times out after 10 s).
          hanging.push(deliveryId);
          return;
        }
        received.push({
          path,
          deliveryId,
          event: String(request.headers["x-webhook-event"]),
          attempt: Number(request.headers["x-webhook-attempt"]),
          signatureValid: given.length === expected.length && timingSafeEqual(given, expected),
          body: JSON.parse(raw.toString("utf8")) as WebhookBody,
          serverTimeMs: await env.currentTimeMs(),
          answered,
        });
        response.writeHead(answered, { "content-type": "text/plain" }).end("ok");
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dispatcher = startWebhookDispatcher(env.client, harness.store, { taskQueue: webhookQueue, retryMs: 200 });
  await dispatcher.ready;
}, 180_000);

afterAll(async () => {
  await dispatcher?.close();
  if (webhookWorker?.getState() === "RUNNING") webhookWorker.shutdown();
  await webhookRunning;
  await harness?.close();
  await env?.teardown();
  await new Promise((resolve) => server?.close(resolve));
});

async function createWebhook(projectId: string, path: string, events: WebhookEventKind[]): Promise<string> {
  const webhookId = `wh-${path.slice(1)}`;
  const secret = newWebhookSecret();
  secrets.set(webhookId, secret);
  await handleCommand(harness.store, webhookDecider, {
    stream: streams.webhook(webhookId),
    command: {
      type: "CreateWebhook",
      data: {
        webhookId,
        projectId,
        url: `${baseUrl}${path}`,
        events,
        secret: sealSecret(key, secret),
        projectExists: true,
        webhooksInProject: 0,
      },
      actor: { name: "admin", role: "ADMIN" },
      now: new Date().toISOString(),
    },
    metadata: {
      actor: "admin",
      occurredAt: new Date().toISOString(),
      correlationId: "test",
      causationId: null,
      projectId,
    },
  });
  return webhookId;
}

async function deliveries(webhookId: string): Promise<Delivery[]> {
  const all = await harness.store.readAll();
  const byId = new Map<string, Delivery | null>();
  for (const event of all) {
    if (!event.stream.startsWith(streams.delivery(""))) continue;
    const delivery = evolveDelivery(byId.get(event.stream) ?? null, event as unknown as DeliveryEvent);
    if (delivery?.webhookId === webhookId) byId.set(event.stream, delivery);
  }
  return [...byId.values()].filter((d): d is Delivery => d !== null);
}

/** Waits (skipping server time) until every delivery workflow of `webhookId` has ended. */
async function settled(webhookId: string, count: number): Promise<Delivery[]> {
  for (let i = 0; i < 200; i++) {
    const pending = dispatcher.pending().filter((job) => job.webhookId === webhookId);
    const list = await deliveries(webhookId);
    if (pending.length === 0 && list.length >= count) {
      for (const delivery of list) await env.client.workflow.getHandle(webhookDeliveryWorkflowId(delivery.id)).result();
      return deliveries(webhookId);
    }
    await env.sleep(1_000);
  }
  throw new Error(`deliveries of ${webhookId} never settled`);
}

describe("webhook deliveries", () => {
  it("retries with a doubling backoff for more than an hour", () => {
    let delay: number = WEBHOOK_RETRY.initialInterval;
    let total = 0;
    for (let attempt = 2; attempt <= WEBHOOK_RETRY.maximumAttempts; attempt++) {
      total += delay;
      delay = Math.min(delay * WEBHOOK_RETRY.backoffCoefficient, WEBHOOK_RETRY.maximumInterval);
    }
    expect(total).toBeGreaterThanOrEqual(HOUR);
  });

  it("a receiver that fails the first attempts gets every event, signed, once it answers 2xx", async () => {
    const projectId = "project-flaky";
    behaviour.set("/flaky", (n) => (n <= 3 ? 503 : 200));
    const webhookId = await createWebhook(projectId, "/flaky", [
      "APPROVAL_REQUESTED",
      "PHASE_ROLLED_OUT",
      "RELEASE_COMPLETED",
    ]);
    const { releaseId } = await seedRelease(harness.store, {
      projectId,
      phases: [
        { name: "dev", environment: "development", waitMs: HOUR },
        { name: "prod", environment: "production", approvals: 0 },
      ],
      now: new Date(await env.currentTimeMs()).toISOString(),
    });
    const handle = await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
    expect((await handle.result()).status).toBe("COMPLETED");

    const list = await settled(webhookId, 3);
    expect(list.map((d) => d.event).sort()).toEqual(["PHASE_ROLLED_OUT", "PHASE_ROLLED_OUT", "RELEASE_COMPLETED"]);
    for (const delivery of list) {
      expect(delivery).toMatchObject({ status: "DELIVERED", attempts: 4, lastStatusCode: 200, releaseId });
      const requests = received.filter((r) => r.deliveryId === delivery.id);
      expect(requests.map((r) => [r.attempt, r.answered])).toEqual([
        [1, 503],
        [2, 503],
        [3, 503],
        [4, 200],
      ]);
      // The same signed bytes every attempt: a receiver can drop a duplicate by the body's id.
      expect(new Set(requests.map((r) => JSON.stringify(r.body))).size).toBe(1);
      // Backoff: 10 s, 20 s, 40 s between attempts (server time).
      const gaps = requests.slice(1).map((r, i) => r.serverTimeMs - (requests[i] as Received).serverTimeMs);
      expect(gaps[0]).toBeGreaterThanOrEqual(10_000);
      expect(gaps[1]).toBeGreaterThanOrEqual(20_000);
      expect(gaps[2]).toBeGreaterThanOrEqual(40_000);
    }
    const all = received.filter((r) => r.path === "/flaky");
    expect(all.every((r) => r.signatureValid)).toBe(true);
    const rolledOut = all.find((r) => r.event === "PHASE_ROLLED_OUT" && r.body.phase?.name === "dev");
    expect(rolledOut?.body).toMatchObject({
      version: 1,
      event: "PHASE_ROLLED_OUT",
      type: "ReleasePhaseRolledOut",
      actor: "system",
      project: { id: projectId },
      release: { id: releaseId, url: `https://releases.example.com/releases/${releaseId}` },
      phase: { index: 0, name: "dev", status: "ROLLED_OUT" },
      url: `https://releases.example.com/releases/${releaseId}`,
    });
  }, 120_000);

  it("a receiver that never answers 2xx is given up after more than an hour, and the release goes on", async () => {
    const projectId = "project-down";
    behaviour.set("/down", () => 500);
    const webhookId = await createWebhook(projectId, "/down", ["RELEASE_COMPLETED"]);
    const { releaseId } = await seedRelease(harness.store, {
      projectId,
      phases: [{ name: "all", environment: "production" }],
      now: new Date(await env.currentTimeMs()).toISOString(),
    });
    const handle = await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
    expect((await handle.result()).status).toBe("COMPLETED");
    const [delivery] = await settled(webhookId, 1);
    expect(delivery).toMatchObject({ status: "FAILED", attempts: WEBHOOK_RETRY.maximumAttempts, lastStatusCode: 500 });
    const requests = received.filter((r) => r.path === "/down");
    expect(requests).toHaveLength(WEBHOOK_RETRY.maximumAttempts);
    expect(requests.every((r) => r.signatureValid)).toBe(true);
    const span = (requests.at(-1) as Received).serverTimeMs - (requests[0] as Received).serverTimeMs;
    expect(span).toBeGreaterThanOrEqual(HOUR);
  }, 120_000);

  it("a receiver that hangs does not delay the release", async () => {
    const projectId = "project-hanging";
    behaviour.set("/hang", () => 0);
    const webhookId = await createWebhook(projectId, "/hang", ["PHASE_ROLLED_OUT", "RELEASE_COMPLETED"]);
    const { releaseId } = await seedRelease(harness.store, {
      projectId,
      phases: [
        { name: "dev", environment: "development" },
        { name: "prod", environment: "production" },
      ],
      now: new Date(await env.currentTimeMs()).toISOString(),
    });
    const handle = await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue });
    for (let i = 0; i < 200 && hanging.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    // The receiver holds a delivery's request; the release runs to its end regardless.
    expect(hanging.length).toBeGreaterThan(0);
    expect((await handle.result()).status).toBe("COMPLETED");
    const list = await deliveries(webhookId);
    expect(list.every((d) => d.status === "PENDING")).toBe(true);
    // Deleted, so the hanging deliveries stop at their next attempt instead of retrying for an hour.
    await handleCommand(harness.store, webhookDecider, {
      stream: streams.webhook(webhookId),
      command: {
        type: "DeleteWebhook",
        data: { webhookId },
        actor: { name: "admin", role: "ADMIN" },
        now: new Date().toISOString(),
      },
      metadata: {
        actor: "admin",
        occurredAt: new Date().toISOString(),
        correlationId: "test",
        causationId: null,
        projectId,
      },
    });
  }, 60_000);

  it("a deleted webhook stops before its next attempt", async () => {
    const projectId = "project-deleted";
    behaviour.set("/deleted", () => 500);
    const webhookId = await createWebhook(projectId, "/deleted", ["RELEASE_COMPLETED"]);
    const { releaseId } = await seedRelease(harness.store, {
      projectId,
      phases: [{ name: "all", environment: "production" }],
      now: new Date(await env.currentTimeMs()).toISOString(),
    });
    await (await startReleaseWorkflow(harness.client, releaseId, { taskQueue: harness.taskQueue })).result();
    for (let i = 0; i < 200 && received.filter((r) => r.path === "/deleted").length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await handleCommand(harness.store, webhookDecider, {
      stream: streams.webhook(webhookId),
      command: {
        type: "DeleteWebhook",
        data: { webhookId },
        actor: { name: "admin", role: "ADMIN" },
        now: new Date().toISOString(),
      },
      metadata: {
        actor: "admin",
        occurredAt: new Date().toISOString(),
        correlationId: "test",
        causationId: null,
        projectId,
      },
    });
    const [delivery] = await settled(webhookId, 1);
    expect(delivery?.status).toBe("FAILED");
    expect(delivery?.lastError).toContain("deleted");
    expect(received.filter((r) => r.path === "/deleted").length).toBeLessThan(WEBHOOK_RETRY.maximumAttempts);
  }, 120_000);

  it("a freeze and its end are FREEZE_CHANGED deliveries linking to the project", async () => {
    const projectId = "project-frozen";
    behaviour.set("/freeze", () => 204);
    const webhookId = await createWebhook(projectId, "/freeze", ["FREEZE_CHANGED"]);
    const now = new Date().toISOString();
    const project = (type: "CreateProject" | "FreezeProject" | "UnfreezeProject", data: Record<string, unknown>) =>
      handleCommand(harness.store, projectDecider, {
        stream: streams.project(projectId),
        command: {
          type,
          data: { projectId, ...data },
          actor: { name: "ann", role: "APPROVER" },
          now,
        } as ProjectCommand,
        metadata: { actor: "ann", occurredAt: now, correlationId: "test", causationId: null, projectId },
      });
    await project("CreateProject", { name: "frozen", environments: ["production"] });
    await project("FreezeProject", { reason: "incident 5" });
    await project("UnfreezeProject", { reason: "resolved" });
    const list = await settled(webhookId, 2);
    expect(list.map((d) => [d.event, d.status, d.lastStatusCode])).toEqual([
      ["FREEZE_CHANGED", "DELIVERED", 204],
      ["FREEZE_CHANGED", "DELIVERED", 204],
    ]);
    const bodies = received.filter((r) => r.path === "/freeze").map((r) => r.body);
    expect(bodies.map((b) => [b.type, b.actor, b.reason])).toEqual(
      expect.arrayContaining([
        ["ProjectFrozen", "ann", "incident 5"],
        ["ProjectUnfrozen", "ann", "resolved"],
      ]),
    );
    expect(bodies[0]).toMatchObject({ release: null, url: `https://releases.example.com/projects/${projectId}` });
  }, 60_000);

  it("a restarted dispatcher (or a second worker's) starts nothing already delivered, and nothing twice", async () => {
    const before = received.length;
    const second = startWebhookDispatcher(env.client, harness.store, { taskQueue: webhookQueue, retryMs: 200 });
    try {
      await second.ready;
      expect(second.pending()).toEqual([]);
      await env.sleep(HOUR);
      expect(received.length).toBe(before);
    } finally {
      await second.close();
    }
  }, 60_000);
});

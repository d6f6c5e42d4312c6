// The server SDK against real API processes (two on one store, as in production): it loads the
// configuration, evaluates in process, reports changes, never throws from an evaluation, stops on a
// revoked or unknown key (keeping the last configuration), keeps serving while the API is down,
// reconnects after an API restart and resumes from its version without missing a change made
// meanwhile, and falls back to polling when the stream cannot be had.

import { ProviderEvents } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ChangeEvent,
  createClient,
  type ReleasePipelinesClient,
  ReleasePipelinesProvider,
  SdkKeyError,
} from "../../sdk/index.ts";
import { createProject } from "../api/documents.ts";
import { startTestApi, type TestApi } from "../api/harness.ts";

let first: TestApi;
let second: TestApi;
let projectId: string;
let secret: string;
let featureId: string;
const clients: ReleasePipelinesClient[] = [];

const baseOf = (api: TestApi): string => api.url.replace(/\/graphql$/, "");
const west = { id: "u-1", attributes: { region: "us-west" } };

async function setProduction(api: TestApi, definition: Record<string, unknown>): Promise<void> {
  await api.ok(
    /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) { updateFeature(id: $id, input: $input) { __typename } }`,
    { id: featureId, input: { environments: [{ environment: "production", definition }] } },
    // An API started on an existing store prints no ADMIN token: every process takes the first one's.
    first.adminToken,
  );
}

async function newKey(api: TestApi, name: string): Promise<{ id: string; secret: string }> {
  const data = await api.ok<{ createSdkKey: { secret: string; key: { id: string } } }>(
    /* GraphQL */ `mutation($p: ID!, $n: String!) { createSdkKey(projectId: $p, environment: "production", name: $n) { secret key { id } } }`,
    { p: projectId, n: name },
  );
  return { id: data.createSdkKey.key.id, secret: data.createSdkKey.secret };
}

/** A client that reconnects fast (tests), tracked for closing. */
function client(base: string, key: string, extra: Partial<Parameters<typeof createClient>[0]> = {}) {
  const created = createClient({
    baseUrl: base,
    sdkKey: key,
    initialBackoffMs: 50,
    maxBackoffMs: 400,
    logger: { warn: () => {} },
    ...extra,
  });
  clients.push(created);
  return created;
}

/** Resolves with the next change event for which `predicate` holds. */
function nextChange(sdk: ReleasePipelinesClient, predicate: (event: ChangeEvent) => boolean = () => true) {
  return new Promise<ChangeEvent>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error("no change event within 20 s"));
    }, 20_000);
    const off = sdk.on("change", (event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

function once<T>(subscribe: (listener: (value: T) => void) => () => void): Promise<T> {
  return new Promise((resolve) => {
    const off = subscribe((value) => {
      off();
      resolve(value);
    });
  });
}

beforeAll(async () => {
  first = await startTestApi({ options: { sdkHeartbeatMs: 500 } });
  second = await startTestApi({
    dataDir: first.dataDir,
    taskQueue: first.taskQueue,
    worker: false,
    options: { sdkHeartbeatMs: 500 },
  });
  projectId = await createProject(first, "SDK");
  const data = await first.ok<{ createFeature: { id: string } }>(
    /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`,
    {
      input: {
        projectId,
        key: "checkout",
        kind: "GATE",
        environments: [{ environment: "production", definition: { enabled: false } }],
      },
    },
  );
  featureId = data.createFeature.id;
  secret = (await newKey(first, "app")).secret;
}, 120_000);

afterAll(async () => {
  for (const sdk of clients) await sdk.close();
  await second?.close();
  await first?.close();
});

describe("the server SDK", () => {
  it("loads the configuration, evaluates in process and reports each change, naming the flag", async () => {
    const sdk = client(baseOf(first), secret);
    await sdk.ready();
    expect(sdk.status).toBe("READY");
    expect(sdk.evaluate("checkout", west)).toMatchObject({ enabled: false, reason: "DEFAULT", kind: "GATE" });
    const changed = nextChange(sdk);
    await setProduction(first, { enabled: false, rules: [{ segment: "us-west", enabled: true }] });
    const event = await changed;
    expect(event.changedFlags).toEqual(["checkout"]);
    expect(event.version).toBe(sdk.version);
    expect(sdk.evaluate("checkout", west)).toMatchObject({
      enabled: true,
      reason: "RULE:us-west",
      configVersion: event.version,
    });
    expect(sdk.evaluate("checkout", { id: "u-2", attributes: { region: "us-east" } }).enabled).toBe(false);
    // Streaming only: no config request was needed.
    expect(sdk.requests).toEqual({ config: 0, stream: 1 });
  });

  it("never throws from an evaluation: unknown flags, odd units and no configuration answer with an error code", async () => {
    const sdk = client(baseOf(first), secret);
    expect(sdk.evaluate("checkout", west)).toMatchObject({
      enabled: false,
      reason: "ERROR",
      errorCode: "PROVIDER_NOT_READY",
    });
    await sdk.ready();
    expect(sdk.evaluate("nope", west)).toMatchObject({
      enabled: false,
      reason: "NOT_FOUND",
      errorCode: "FLAG_NOT_FOUND",
    });
    for (const unit of [
      null,
      undefined,
      { id: 7 },
      { id: "x", attributes: "region" },
      { id: "x", attributes: [1, 2] },
    ]) {
      expect(() => sdk.evaluate("checkout", unit as never)).not.toThrow();
    }
  });

  it("a change through one API reaches a client streaming from another", async () => {
    const sdk = client(baseOf(second), secret);
    await sdk.ready();
    const changed = nextChange(sdk);
    await setProduction(first, { enabled: true });
    await changed;
    expect(sdk.evaluate("checkout", west)).toMatchObject({ enabled: true, reason: "DEFAULT" });
  });

  it("stops on an unknown key: ready() rejects with UNAUTHENTICATED", async () => {
    const sdk = client(baseOf(first), "rp_sdk_not-a-key");
    const error = await sdk.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SdkKeyError);
    expect((error as SdkKeyError).code).toBe("UNAUTHENTICATED");
    expect(sdk.status).toBe("ERROR");
    expect(sdk.evaluate("checkout", west).errorCode).toBe("PROVIDER_NOT_READY");
  });

  it("a revoked key closes the stream and stops the client, which keeps serving its last configuration", async () => {
    const key = await newKey(first, "revoked-app");
    const sdk = client(baseOf(first), key.secret);
    await sdk.ready();
    const before = sdk.evaluate("checkout", west);
    const streams = first.app.sdk.openStreams;
    const stopped = once<Error>((listener) => sdk.on("error", listener));
    await first.ok(/* GraphQL */ `mutation($id: ID!) { revokeSdkKey(id: $id) { id } }`, { id: key.id });
    const error = await stopped;
    expect((error as SdkKeyError).code).toBe("UNAUTHENTICATED");
    expect(sdk.status).toBe("ERROR");
    expect(first.app.sdk.openStreams).toBe(streams - 1);
    expect(sdk.evaluate("checkout", west)).toEqual(before);
    const config = await fetch(`${baseOf(first)}/sdk/v1/config`, {
      headers: { authorization: `Bearer ${key.secret}` },
    });
    expect(config.status).toBe(401);
    // It does not keep knocking.
    expect(sdk.requests.stream).toBe(1);
  });

  it("serves the last configuration while the API is down, then reconnects after a restart and resumes without missing a change", async () => {
    // A third API process on the store, which this test stops and starts again on the same port.
    let restartable = await startTestApi({ dataDir: first.dataDir, taskQueue: first.taskQueue, worker: false });
    const port = Number(new URL(restartable.url).port);
    const base = baseOf(restartable);
    const sent: (string | null)[] = [];
    const sdk = client(base, secret, {
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        if (String(input).endsWith("/stream")) sent.push(headers.get("last-event-id"));
        return fetch(input, init);
      },
    });
    await sdk.ready();
    // The OpenFeature provider over this client reports the outage and the recovery.
    const provider = new ReleasePipelinesProvider({ client: sdk });
    await provider.initialize();
    const providerEvents: string[] = [];
    for (const event of [ProviderEvents.Stale, ProviderEvents.Ready, ProviderEvents.ConfigurationChanged]) {
      provider.events.addHandler(event, () => providerEvents.push(event));
    }
    const versionBefore = sdk.version;
    const answerBefore = sdk.evaluate("checkout", west);

    const stale = once<string>((listener) => sdk.on("stale", listener));
    await restartable.close();
    await stale;
    expect(sdk.status).toBe("STALE");
    // The API is down: the last good configuration is still served.
    expect(sdk.evaluate("checkout", west)).toEqual(answerBefore);

    // A change while it is down, through another API process.
    const changed = nextChange(sdk);
    await setProduction(first, {
      enabled: false,
      rules: [{ segment: "us-west", enabled: true, rolloutPercentage: 100 }],
      value: null,
    });
    await setProduction(first, { enabled: false });
    restartable = await startTestApi({ dataDir: first.dataDir, taskQueue: first.taskQueue, worker: false, port });
    try {
      const event = await changed;
      expect(event.previousVersion).toBe(versionBefore);
      expect(event.changedFlags).toEqual(["checkout"]);
      expect(sdk.evaluate("checkout", west)).toMatchObject({ enabled: false, reason: "DEFAULT" });
      expect(sdk.status).toBe("READY");
      expect(providerEvents).toEqual([ProviderEvents.Stale, ProviderEvents.ConfigurationChanged, ProviderEvents.Ready]);
      // It reconnected from its version (Last-Event-ID), not from scratch.
      expect(sent[0]).toBeNull();
      expect(sent.slice(1).every((id) => id === versionBefore)).toBe(true);
      expect(sent.length).toBeGreaterThan(1);
      // And it follows changes on the restarted process.
      const next = nextChange(sdk);
      await setProduction(restartable, { enabled: true });
      await next;
      expect(sdk.evaluate("checkout", west).enabled).toBe(true);
    } finally {
      await restartable.close();
    }
  });

  it("falls back to polling (ETag, 304) when the stream cannot be had", async () => {
    const sdk = client(baseOf(first), secret, {
      pollIntervalMs: 100,
      fetch: (input, init) =>
        String(input).endsWith("/stream") ? Promise.reject(new Error("proxy drops SSE")) : fetch(input, init),
    });
    const changed = nextChange(sdk);
    await setProduction(first, { enabled: false, rules: [{ segment: "us-east", enabled: true }] });
    // The first poll brings the configuration; a later one the change (or the first already has it).
    await sdk.ready();
    if (!sdk.evaluate("checkout", { id: "e", attributes: { region: "us-east" } }).enabled) await changed;
    expect(sdk.evaluate("checkout", { id: "e", attributes: { region: "us-east" } }).enabled).toBe(true);
    const polls = sdk.requests.config;
    const again = nextChange(sdk);
    await setProduction(first, { enabled: true });
    await again;
    expect(sdk.requests.config).toBeGreaterThan(polls);
    expect(sdk.evaluate("checkout", west).enabled).toBe(true);
  });
});

// An application's view of a Statsig release pipeline: the real OpenFeature server SDK with
// ReleasePipelinesProvider (a production SDK key) watches a gate go through development → staging →
// production/us-west (approval) → production (approval), against the API wired as `npm start` wires it
// (a real worker, the run's Temporal dev server). Units in the us-west segment switch when their phase
// rolls out, everyone reverts when the release is aborted, and a second release completes — each seen
// by the application through PROVIDER_CONFIGURATION_CHANGED naming the flag, on the one stream the
// provider opened: it never polls the API.

import { type EvaluationDetails, OpenFeature, ProviderEvents } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReleasePipelinesProvider } from "../../sdk/index.ts";
import {
  action,
  answered,
  createProject,
  createPublishedPipeline,
  createToken,
  RELEASE_FIELDS,
  RELEASE_UPDATED,
  type ReleaseView,
} from "../api/documents.ts";
import { startTestApi, subscribe, type TestApi } from "../api/harness.ts";

let api: TestApi;
let projectId: string;
let editor: string;
let approver: string;
let featureId: string;
let provider: ReleasePipelinesProvider;
const requests = { config: 0, stream: 0 };
const changes: { flagsChanged?: string[] }[] = [];
const DOMAIN = "checkout-service";
const flags = () => OpenFeature.getClient(DOMAIN);

const WEST = { targetingKey: "user-west", region: "us-west" };
const EAST = { targetingKey: "user-east", region: "us-east" };

beforeAll(async () => {
  api = await startTestApi();
  projectId = await createProject(api, "Checkout");
  editor = await createToken(api, "of-eve", "EDITOR", projectId);
  approver = await createToken(api, "of-amy", "APPROVER", projectId);
  const pipelineId = await createPublishedPipeline(
    api,
    projectId,
    [
      { name: "Development", targets: [{ environment: "development" }] },
      { name: "Staging", targets: [{ environment: "staging" }] },
      {
        name: "Production us-west",
        requiresApproval: true,
        approvalsRequired: 1,
        targets: [{ environment: "production", segment: "us-west" }],
      },
      { name: "Production", requiresApproval: true, approvalsRequired: 1, targets: [{ environment: "production" }] },
    ],
    { name: "Statsig standard", selfApproval: "FORBIDDEN", token: editor },
  );
  const created = await api.ok<{ createFeature: { id: string } }>(
    /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`,
    { input: { projectId, key: "new-checkout", kind: "GATE", pipelineId } },
    editor,
  );
  featureId = created.createFeature.id;
  const key = await api.ok<{ createSdkKey: { secret: string } }>(
    /* GraphQL */ `mutation($p: ID!) { createSdkKey(projectId: $p, environment: "production", name: "checkout-service") { secret } }`,
    { p: projectId },
  );

  provider = new ReleasePipelinesProvider({
    baseUrl: api.url.replace(/\/graphql$/, ""),
    sdkKey: key.createSdkKey.secret,
    // Counts what the provider asks of the API.
    fetch: (input, init) => {
      if (String(input).endsWith("/sdk/v1/config")) requests.config++;
      if (String(input).endsWith("/sdk/v1/stream")) requests.stream++;
      return fetch(input, init);
    },
  });
  await OpenFeature.setProviderAndWait(DOMAIN, provider);
  flags().addHandler(ProviderEvents.ConfigurationChanged, (details) => {
    changes.push({ flagsChanged: details?.flagsChanged });
  });
}, 120_000);

afterAll(async () => {
  await OpenFeature.close();
  await api?.close();
});

interface Seen {
  west: EvaluationDetails<boolean>;
  east: EvaluationDetails<boolean>;
}

async function seen(): Promise<Seen> {
  return {
    west: await flags().getBooleanDetails("new-checkout", false, WEST),
    east: await flags().getBooleanDetails("new-checkout", false, EAST),
  };
}

/** Waits — on configuration-changed events, never by polling — until what the application sees passes `check`. */
function until(check: (now: Seen) => boolean, timeoutMs = 30_000): Promise<Seen> {
  return new Promise((resolve, reject) => {
    let done = false;
    const attempt = async () => {
      const now = await seen();
      if (!done && check(now)) {
        done = true;
        clearTimeout(timer);
        flags().removeHandler(ProviderEvents.ConfigurationChanged, attempt);
        resolve(now);
      }
    };
    const timer = setTimeout(async () => {
      flags().removeHandler(ProviderEvents.ConfigurationChanged, attempt);
      reject(new Error(`timed out; the application sees ${JSON.stringify(await seen())}`));
    }, timeoutMs);
    flags().addHandler(ProviderEvents.ConfigurationChanged, attempt);
    void attempt();
  });
}

async function startRelease(enabled: boolean): Promise<string> {
  const started = await api.ok<{ updateFeature: ReleaseView & { __typename: string } }>(
    /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) {
      updateFeature(id: $id, input: $input) { __typename ... on Release { ${RELEASE_FIELDS} } }
    }`,
    {
      id: featureId,
      input: {
        environments: ["development", "staging", "production"].map((environment) => ({
          environment,
          definition: { enabled },
        })),
      },
    },
    editor,
  );
  expect(started.updateFeature.__typename).toBe("Release");
  return started.updateFeature.id;
}

async function approveWhenAsked(releaseId: string, phaseIndex: number): Promise<void> {
  const updates = subscribe(api.ws(editor), RELEASE_UPDATED, { id: releaseId }, (d) => d.releaseUpdated as ReleaseView);
  await updates.until((r) => r.phases[phaseIndex]?.status === "AWAITING_APPROVAL");
  updates.stop();
  const approved = await action(api, "approveRelease", releaseId, { phaseIndex }, approver);
  expect(answered(approved).phases[phaseIndex]?.status).toBe("ROLLED_OUT");
}

describe("OpenFeature watches a Statsig walk-through", () => {
  it("starts with the gate off everywhere, from the provider's first configuration", async () => {
    const now = await seen();
    expect(now.west).toMatchObject({ value: false, reason: "DEFAULT" });
    expect(now.east).toMatchObject({ value: false, reason: "DEFAULT" });
    expect(now.west.flagMetadata.configVersion).toMatch(/^[0-9a-f]{16}$/);
    expect(now.west.flagMetadata.releaseId).toBeUndefined();
  });

  it("switches us-west units when their phase rolls out, and everyone back when the release is aborted", async () => {
    const releaseId = await startRelease(true);
    await approveWhenAsked(releaseId, 2);
    const rolledOut = await until((now) => now.west.value === true);
    expect(rolledOut.west).toMatchObject({
      value: true,
      reason: "TARGETING_MATCH",
      flagMetadata: { releaseId, phaseIndex: 2 },
    });
    expect(rolledOut.east).toMatchObject({ value: false, reason: "DEFAULT", flagMetadata: { releaseId } });
    expect(rolledOut.east.flagMetadata.phaseIndex).toBeUndefined();
    expect(changes.at(-1)?.flagsChanged).toEqual(["new-checkout"]);

    const aborted = await action(api, "abortRelease", releaseId, { reason: "errors up in us-west" }, editor);
    expect(answered(aborted).status).toBe("ABORTED");
    const reverted = await until((now) => now.west.value === false && now.west.flagMetadata.releaseId === undefined);
    expect(reverted.west).toMatchObject({ value: false, reason: "DEFAULT" });
    expect(reverted.east).toMatchObject({ value: false, reason: "DEFAULT" });
  });

  it("rolls a second release out to us-west, then to everyone", async () => {
    const releaseId = await startRelease(true);
    await approveWhenAsked(releaseId, 2);
    const west = await until((now) => now.west.value === true);
    expect(west.east.value).toBe(false);
    await approveWhenAsked(releaseId, 3);
    const everyone = await until((now) => now.east.value === true && now.west.flagMetadata.releaseId === undefined);
    expect(everyone.west).toMatchObject({ value: true, reason: "DEFAULT" });
    expect(everyone.east).toMatchObject({ value: true, reason: "DEFAULT" });
    expect(changes.every((change) => JSON.stringify(change.flagsChanged) === '["new-checkout"]')).toBe(true);
  });

  it("never polled the API: one stream carried every change", () => {
    expect(requests).toEqual({ config: 0, stream: 1 });
    expect(provider.client.status).toBe("READY");
  });

  it("answers OpenFeature errors: an unknown flag, and a gate asked for a string", async () => {
    const missing = await flags().getBooleanDetails("no-such-flag", true, WEST);
    expect(missing).toMatchObject({ value: true, reason: "ERROR", errorCode: "FLAG_NOT_FOUND" });
    const mismatch = await flags().getStringDetails("new-checkout", "fallback", WEST);
    expect(mismatch).toMatchObject({ value: "fallback", reason: "ERROR", errorCode: "TYPE_MISMATCH" });
  });
});

// Statsig's release pipeline, end to end over HTTP and WebSocket against the API wired as `npm start` wires
// it (buildApp on a free port, a real worker, a temp embedded store, the run's Temporal dev server):
// project → pipeline (development → staging after a bake → production/us-west with an approval →
// production) → publish → gate with the pipeline → change → release, with every action, the releaseUpdated
// subscription receiving each state in order, and `evaluate` checked per environment and region at each
// step. Then a second change is aborted and every environment is restored exactly. Then a gate whose
// production phase ramps (Flagsmith's phased rollout) goes from 20% to 100% in steps, paused on the way;
// and one whose production bake is guarded by an error-rate query (a local Prometheus-compatible
// endpoint) is aborted by `system` when the guardrail trips, with the audit trail to show for it.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inRamp } from "../../services/serving/evaluate.ts";
import {
  action,
  answered,
  createProject,
  createPublishedPipeline,
  createToken,
  evaluate,
  FEATURE_FIELDS,
  FEATURE_RELEASES,
  type FeatureView,
  feature,
  RELEASE_FIELDS,
  RELEASE_UPDATED,
  type ReleaseView,
  release,
  servedEverywhere,
  stateOf,
} from "../api/documents.ts";
import { startTestApi, subscribe, type TestApi } from "../api/harness.ts";
import { type CheckTargets, startCheckTargets } from "../support/check-targets.ts";

let api: TestApi;
let projectId: string;
let editor: string;
let approver: string;
let pipelineId: string;
let featureId: string;
let targets: CheckTargets;

beforeAll(async () => {
  api = await startTestApi();
  targets = await startCheckTargets();
  projectId = await createProject(api, "Checkout");
  editor = await createToken(api, "eve", "EDITOR", projectId);
  approver = await createToken(api, "amy", "APPROVER", projectId);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await targets?.close();
});

const versionsAreConsecutive = (states: ReleaseView[]): boolean =>
  states.every((state, i) => i === 0 || state.version === (states[i - 1]?.version ?? 0) + 1);

describe("Statsig walk-through", () => {
  it("builds a pipeline: development → staging (bake) → production/us-west (approval) → production", async () => {
    pipelineId = await createPublishedPipeline(
      api,
      projectId,
      [
        { name: "Development", targets: [{ environment: "development" }] },
        { name: "Staging", waitFor: "PT2S", targets: [{ environment: "staging" }] },
        {
          name: "Production us-west",
          requiresApproval: true,
          approvalsRequired: 1,
          targets: [{ environment: "production", segment: "us-west" }],
        },
        { name: "Production", waitFor: "PT1M", targets: [{ environment: "production" }] },
      ],
      { name: "Statsig standard", selfApproval: "FORBIDDEN", token: editor },
    );
    const data = await api.ok<{ pipeline: { status: string; version: number; phases: { waitFor: string | null }[] } }>(
      /* GraphQL */ `query($id: ID!) { pipeline(id: $id) { status version phases { waitFor } } }`,
      { id: pipelineId },
      editor,
    );
    expect(data.pipeline.status).toBe("PUBLISHED");
    expect(data.pipeline.phases.map((p) => p.waitFor)).toEqual([null, "PT2S", null, "PT1M"]);
    // Published pipelines are immutable.
    const edit = await api.gql(
      /* GraphQL */ `mutation($id: ID!) { updatePipeline(id: $id, input: { name: "renamed" }) { id } }`,
      { id: pipelineId },
      editor,
    );
    expect(edit.errors?.[0]?.extensions?.code).toBe("IMMUTABLE");
  });

  it("creates a gate with the pipeline attached, off everywhere", async () => {
    const data = await api.ok<{ createFeature: FeatureView }>(
      /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { ${FEATURE_FIELDS} } }`,
      { input: { projectId, key: "new-checkout", kind: "GATE", pipelineId, description: "The new checkout flow" } },
      editor,
    );
    featureId = data.createFeature.id;
    expect(data.createFeature.pipeline?.id).toBe(pipelineId);
    expect(await servedEverywhere(api, projectId, "new-checkout")).toEqual({
      development: false,
      staging: false,
      usWest: false,
      usEast: false,
    });
  });

  it("runs the change through every phase, with every action, subscriptions seeing each state in order", async () => {
    const everyRelease = subscribe(
      api.ws(editor),
      FEATURE_RELEASES,
      { featureId },
      (d) => d.featureReleases as ReleaseView,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Save → confirm: the change starts a release (the union answers a Release).
    const started = await api.ok<{ updateFeature: ReleaseView & { __typename: string } }>(
      /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) {
        updateFeature(id: $id, input: $input) { __typename ... on Release { ${RELEASE_FIELDS} } }
      }`,
      {
        id: featureId,
        input: {
          environments: ["development", "staging", "production"].map((environment) => ({
            environment,
            definition: { enabled: true },
          })),
        },
      },
      editor,
    );
    const first = started.updateFeature;
    expect(first.__typename).toBe("Release");
    const releaseId = first.id;
    expect(first.startedBy).toBe("eve");
    // The API answered once the workflow took its first step: development rolled out, staging baking.
    expect(first.phases[0]?.status).toBe("ROLLED_OUT");

    const updates = subscribe(
      api.ws(editor),
      RELEASE_UPDATED,
      { id: releaseId },
      (d) => d.releaseUpdated as ReleaseView,
    );
    const staging = await updates.until((r) => r.phases[1]?.status === "WAITING");
    expect(staging.phases[1]?.waitEndsAt).not.toBeNull();
    expect(await servedEverywhere(api, projectId, "new-checkout")).toEqual({
      development: true,
      staging: false,
      usWest: false,
      usEast: false,
    });

    // Another change while one is active: refused.
    const second = await api.gql(
      /* GraphQL */ `mutation($id: ID!) { updateFeature(id: $id, input: { environments: [] }) { __typename } }`,
      { id: featureId },
      editor,
    );
    expect(second.errors?.[0]?.extensions?.code).toBe("RELEASE_IN_PROGRESS");

    // Pause the bake: the remaining time is kept; unpause resumes it.
    const paused = await action(
      api,
      "pauseRelease",
      releaseId,
      { phaseIndex: 1, reason: "checking dashboards" },
      editor,
    );
    expect(paused.errors).toBeUndefined();
    const pausedRelease = answered(paused);
    expect(pausedRelease.phases[1]?.status).toBe("PAUSED");
    expect(pausedRelease.phases[1]?.waitEndsAt).toBeNull();
    expect(pausedRelease.phases[1]?.remainingWait).toMatch(/^PT[0-9.]+S$/);
    const unpaused = await action(api, "unpauseRelease", releaseId, { phaseIndex: 1 }, editor);
    expect(answered(unpaused).phases[1]?.status).toBe("WAITING");

    // The bake ends by itself; the us-west phase then awaits approval.
    const awaiting = await updates.until((r) => r.phases[2]?.status === "AWAITING_APPROVAL");
    expect(awaiting.phases[1]?.status).toBe("ROLLED_OUT");
    expect(await servedEverywhere(api, projectId, "new-checkout")).toEqual({
      development: true,
      staging: true,
      usWest: false,
      usEast: false,
    });

    // Wrong-state actions say why; the starter cannot approve (selfApproval FORBIDDEN); a stale phaseIndex is refused.
    const pauseWhileApproval = await action(api, "pauseRelease", releaseId, {}, editor);
    expect(pauseWhileApproval.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");
    expect(pauseWhileApproval.errors?.[0]?.message).toContain("AWAITING_APPROVAL");
    const skipWhileApproval = await action(api, "skipPhase", releaseId, {}, editor);
    expect(skipWhileApproval.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");
    const editorApproves = await action(api, "approveRelease", releaseId, {}, editor);
    expect(editorApproves.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    // Nor under a second token with her name: token names are unique, so "eve" is one person everywhere.
    const eveApprover = await api.gql(
      /* GraphQL */ `mutation($p: ID) { createApiToken(input: { name: "eve", role: APPROVER, projectId: $p }) { secret } }`,
      { p: projectId },
    );
    expect(eveApprover.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    const stale = await action(api, "approveRelease", releaseId, { phaseIndex: 1 }, approver);
    expect(stale.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");

    const approved = await action(api, "approveRelease", releaseId, { phaseIndex: 2, comment: "LGTM" }, approver);
    expect(approved.errors).toBeUndefined();
    const afterApproval = answered(approved);
    expect(afterApproval.phases[2]?.status).toBe("ROLLED_OUT");
    expect(afterApproval.phases[2]?.approvals).toEqual([{ by: "amy", comment: "LGTM" }]);
    // us-west serves the change from the release; us-east still the stored definition.
    const west = await api.ok<{ evaluate: { enabled: boolean; reason: string } }>(
      /* GraphQL */ `query($p: ID!) { evaluate(projectId: $p, featureKey: "new-checkout", environment: "production", unit: { id: "u1", attributes: { region: "us-west" } }) { enabled reason } }`,
      { p: projectId },
    );
    expect(west.evaluate).toEqual({ enabled: true, reason: `RELEASE:${releaseId}:PHASE:2` });
    expect(await servedEverywhere(api, projectId, "new-checkout")).toEqual({
      development: true,
      staging: true,
      usWest: true,
      usEast: false,
    });
    const midway = await feature(api, featureId);
    expect(midway.activeRelease?.id).toBe(releaseId);
    expect(midway.environments.find((e) => e.environment === "production")?.rolledOutTargets).toEqual([
      { environment: "production", segment: "us-west" },
    ]);
    expect(midway.environments.find((e) => e.environment === "production")?.definition.enabled).toBe(false);

    // The last phase bakes for a minute: skip it.
    await updates.until((r) => r.phases[3]?.status === "WAITING");
    const skipped = await action(api, "skipPhase", releaseId, { phaseIndex: 3, reason: "confident" }, editor);
    expect(skipped.errors).toBeUndefined();
    const done = answered(skipped);
    expect(done.status).toBe("COMPLETED");
    expect(done.currentPhaseIndex).toBeNull();
    expect(done.actions.map((a) => [a.kind, a.by, a.phaseIndex])).toEqual([
      ["PAUSE", "eve", 1],
      ["UNPAUSE", "eve", 1],
      ["APPROVE", "amy", 2],
      ["SKIP", "eve", 3],
    ]);
    expect(await servedEverywhere(api, projectId, "new-checkout")).toEqual({
      development: true,
      staging: true,
      usWest: true,
      usEast: true,
    });
    const completed = await feature(api, featureId);
    expect(completed.activeRelease).toBeNull();
    expect(completed.environments.map((e) => e.definition.enabled)).toEqual([true, true, true]);

    // Any action on a completed release: INVALID_STATE.
    const late = await action(api, "abortRelease", releaseId, {}, editor);
    expect(late.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");
    expect(late.errors?.[0]?.message).toContain("COMPLETED");

    // releaseUpdated: the current state first, then every change in order, ending with COMPLETED.
    await updates.until((r) => r.status === "COMPLETED");
    expect(versionsAreConsecutive(updates.items)).toBe(true);
    expect(updates.items[0]?.version).toBeLessThanOrEqual(staging.version);
    expect(updates.items.at(-1)?.status).toBe("COMPLETED");
    // featureReleases saw the release from ReleaseStarted (version 1) to the end, every state once, in order.
    await everyRelease.until((r) => r.status === "COMPLETED");
    expect(everyRelease.items.map((r) => r.version)).toEqual(everyRelease.items.map((_, i) => i + 1));
    // One state per stored event: the whole timeline, exactly.
    expect(everyRelease.items.map(stateOf)).toEqual([
      "0:PENDING",
      "1:PENDING",
      "1:WAITING",
      "1:PAUSED",
      "1:WAITING",
      "2:PENDING",
      "2:AWAITING_APPROVAL",
      "2:AWAITING_APPROVAL",
      "3:PENDING",
      "3:WAITING",
      "3:SKIPPED_WAIT",
      "3:ROLLED_OUT",
      "COMPLETED",
    ]);
    updates.stop();
    everyRelease.stop();

    // The audit log and the feature's history recorded every step.
    const history = await api.ok<{ feature: { history: { edges: { node: { type: string; actor: string } }[] } } }>(
      /* GraphQL */ `query($id: ID!) { feature(id: $id) { history(first: 100) { edges { node { type actor } } } } }`,
      { id: featureId },
    );
    const types = history.feature.history.edges.map((e) => e.node.type);
    for (const type of [
      "FeatureCreated",
      "FeatureReleaseStarted",
      "ReleaseStarted",
      "ReleasePhaseWaitStarted",
      "ReleasePaused",
      "ReleaseUnpaused",
      "ReleaseApprovalRequested",
      "ReleasePhaseApproved",
      "ReleasePhaseRolledOut",
      "ReleasePhaseWaitSkipped",
      "ReleaseCompleted",
      "FeatureUpdated",
      "FeatureReleaseEnded",
    ]) {
      expect(types).toContain(type);
    }
    expect(history.feature.history.edges.find((e) => e.node.type === "ReleasePhaseApproved")?.node.actor).toBe("amy");
    expect(history.feature.history.edges.find((e) => e.node.type === "ReleaseCompleted")?.node.actor).toBe("system");
  });

  it("aborts a second change: every environment returns exactly to what it was", async () => {
    const before = await feature(api, featureId);
    const servedBefore = await servedEverywhere(api, projectId, "new-checkout");
    const started = await api.ok<{ updateFeature: ReleaseView }>(
      /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) {
        updateFeature(id: $id, input: $input) { ... on Release { ${RELEASE_FIELDS} } }
      }`,
      {
        id: featureId,
        input: {
          environments: [
            {
              environment: "development",
              definition: { enabled: true, rules: [{ segment: "us-east", enabled: false, rolloutPercentage: 50 }] },
            },
            { environment: "staging", definition: { enabled: false } },
            { environment: "production", definition: { enabled: false } },
          ],
        },
      },
      editor,
    );
    const releaseId = started.updateFeature.id;
    expect(started.updateFeature.before.map((e) => e.definition)).toEqual(before.environments.map((e) => e.definition));
    // Development (a whole environment) has rolled out: the answer came once its stored definition changed.
    const during = await feature(api, featureId);
    expect(during.environments[0]?.definition.rules).toHaveLength(1);
    expect((await evaluate(api, projectId, "new-checkout", "development", { region: "us-east" }, "u-7")).reason).toBe(
      `RELEASE:${releaseId}:PHASE:0`,
    );

    const aborted = await action(api, "abortRelease", releaseId, { reason: "metrics regressed" }, editor);
    expect(aborted.errors).toBeUndefined();
    const abortedRelease = answered(aborted);
    expect(abortedRelease.status).toBe("ABORTED");
    expect(abortedRelease.abortReason).toBe("metrics regressed");

    const after = await feature(api, featureId);
    expect(after.environments).toEqual(before.environments);
    expect(after.activeRelease).toBeNull();
    expect(await servedEverywhere(api, projectId, "new-checkout")).toEqual(servedBefore);
    expect((await release(api, releaseId)).actions.map((a) => a.kind)).toEqual(["ABORT"]);

    // Irreversible: a second abort answers INVALID_STATE.
    const again = await action(api, "abortRelease", releaseId, {}, editor);
    expect(again.errors?.[0]?.extensions?.code).toBe("INVALID_STATE");
    expect(again.errors?.[0]?.message).toContain("ABORTED");
  });

  it("ramps production: 20% of units, then +40% every 3 s, each unit once in staying in, paused on the way", async () => {
    const rampPipeline = await createPublishedPipeline(
      api,
      projectId,
      [
        { name: "Development", targets: [{ environment: "development" }] },
        {
          name: "Production ramp",
          targets: [{ environment: "production" }],
          ramp: { initialPercentage: 20, increaseBy: 40, every: "PT3S" },
        },
      ],
      { name: "Phased rollout", token: editor },
    );
    const phases = await api.ok<{ pipeline: { phases: { ramp: unknown }[] } }>(
      /* GraphQL */ `query($id: ID!) { pipeline(id: $id) { phases { ramp { initialPercentage increaseBy every } } } }`,
      { id: rampPipeline },
      editor,
    );
    expect(phases.pipeline.phases.map((p) => p.ramp)).toEqual([
      null,
      { initialPercentage: 20, increaseBy: 40, every: "PT3S" },
    ]);
    const created = await api.ok<{ createFeature: FeatureView }>(
      /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { ${FEATURE_FIELDS} } }`,
      { input: { projectId, key: "ramped-checkout", kind: "GATE", pipelineId: rampPipeline } },
      editor,
    );
    const started = await api.ok<{ updateFeature: ReleaseView }>(
      /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) {
        updateFeature(id: $id, input: $input) { ... on Release { ${RELEASE_FIELDS} } }
      }`,
      {
        id: created.createFeature.id,
        input: {
          environments: ["development", "staging", "production"].map((environment) => ({
            environment,
            definition: { enabled: true },
          })),
        },
      },
      editor,
    );
    const releaseId = started.updateFeature.id;
    const updates = subscribe(
      api.ws(editor),
      RELEASE_UPDATED,
      { id: releaseId },
      (d) => d.releaseUpdated as ReleaseView,
    );
    await updates.until((r) => (r.phases[1]?.rolloutPercentage ?? 0) > 0);
    // Paused, the ramp holds its share: the API serves exactly the units the release's buckets put in.
    const paused = answered(await action(api, "pauseRelease", releaseId, { phaseIndex: 1, reason: "look" }, editor));
    expect(paused.phases[1]?.status).toBe("PAUSED");
    const share = paused.phases[1]?.rolloutPercentage ?? 0;
    expect([20, 60]).toContain(share);
    const units = Array.from({ length: 60 }, (_, i) => `buyer-${i}`);
    // In batches of 30 (the API's alias limit per operation).
    const servedUnits = async () => {
      const answers: { enabled: boolean; reason: string }[] = [];
      for (let from = 0; from < units.length; from += 30) {
        const batch = units.slice(from, from + 30);
        const fields = batch
          .map(
            (id, i) =>
              `u${i}: evaluate(projectId: $p, featureKey: "ramped-checkout", environment: "production", unit: { id: "${id}" }) { enabled reason }`,
          )
          .join("\n");
        const data = await api.ok<Record<string, { enabled: boolean; reason: string }>>(
          `query($p: ID!) { ${fields} }`,
          {
            p: projectId,
          },
        );
        answers.push(...batch.map((_, i) => data[`u${i}`] as { enabled: boolean; reason: string }));
      }
      return answers;
    };
    const during = await servedUnits();
    units.forEach((id, i) => {
      const inside = inRamp(releaseId, id, share);
      expect(during[i]).toEqual(
        inside
          ? { enabled: true, reason: `RELEASE:${releaseId}:PHASE:1:RAMP:${share}` }
          : { enabled: false, reason: "DEFAULT" },
      );
    });
    answered(await action(api, "unpauseRelease", releaseId, { phaseIndex: 1 }, editor));
    const done = await updates.until((r) => r.status === "COMPLETED");
    expect(done.phases[1]).toMatchObject({ status: "ROLLED_OUT", rolloutPercentage: 100 });
    const seen = updates.items.map((r) => r.phases[1]?.rolloutPercentage);
    expect(seen).toContain(60);
    expect((await servedUnits()).every((e) => e.enabled)).toBe(true);
    updates.stop();
  });

  it("a guardrail on production's bake trips on an error rate and aborts as system, with the audit trail", async () => {
    targets.queryValues = [0.01, 0.2];
    const guardedPipeline = await createPublishedPipeline(
      api,
      projectId,
      [
        { name: "Development", targets: [{ environment: "development" }] },
        {
          name: "Production",
          waitFor: "PT1H",
          targets: [{ environment: "production" }],
          guardrails: [
            {
              name: "checkout error rate",
              kind: "PROMETHEUS_QUERY",
              url: targets.url,
              query: 'sum(rate(http_requests_total{app="checkout",code=~"5.."}[5m]))',
              comparator: "LT",
              threshold: 0.05,
              interval: "PT1S",
              failuresToTrip: 2,
              onFailure: "ABORT",
            },
          ],
        },
      ],
      { name: "Guarded", token: editor },
    );
    const created = await api.ok<{ createFeature: FeatureView }>(
      /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { ${FEATURE_FIELDS} } }`,
      { input: { projectId, key: "guarded-checkout", kind: "GATE", pipelineId: guardedPipeline } },
      editor,
    );
    const started = await api.ok<{ updateFeature: ReleaseView }>(
      /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) {
        updateFeature(id: $id, input: $input) { ... on Release { ${RELEASE_FIELDS} } }
      }`,
      {
        id: created.createFeature.id,
        input: {
          environments: ["development", "staging", "production"].map((environment) => ({
            environment,
            definition: { enabled: true },
          })),
        },
      },
      editor,
    );
    const releaseId = started.updateFeature.id;
    const updates = subscribe(
      api.ws(editor),
      RELEASE_UPDATED,
      { id: releaseId },
      (d) => d.releaseUpdated as ReleaseView,
    );
    const ended = await updates.until((r) => r.status === "ABORTED", 30_000);
    expect(ended.abortReason).toBe(
      'guardrail "checkout error rate" tripped after 2 consecutive failed checks (last: 0.2 not < 0.05)',
    );
    expect(ended.actions).toEqual([{ kind: "ABORT", by: "system", reason: ended.abortReason, phaseIndex: 1 }]);
    const states = await api.ok<{
      release: { phases: { guardrails: { name: string; consecutiveFailures: number; lastResult: string }[] }[] };
    }>(
      /* GraphQL */ `query($id: ID!) { release(id: $id) { phases { guardrails { name consecutiveFailures lastCheckedAt lastResult } } } }`,
      { id: releaseId },
      editor,
    );
    expect(states.release.phases[1]?.guardrails).toEqual([
      expect.objectContaining({ name: "checkout error rate", consecutiveFailures: 2, lastResult: "0.2 not < 0.05" }),
    ]);
    expect(await servedEverywhere(api, projectId, "guarded-checkout")).toEqual({
      development: false,
      staging: false,
      usWest: false,
      usEast: false,
    });
    const audit = await api.ok<{
      auditLog: { edges: { node: { type: string; actor: string; at: string; data: Record<string, unknown> } }[] };
    }>(
      /* GraphQL */ `query($id: ID!) { auditLog(filter: { entityId: $id }, first: 100) { edges { node { type actor at data } } } }`,
      { id: releaseId },
      editor,
    );
    const trail = audit.auditLog.edges.map((e) => e.node).reverse(); // newest first → oldest first
    expect(trail.map((n) => `${n.type} by ${n.actor}`)).toEqual([
      "ReleaseStarted by eve",
      "ReleasePhaseRolledOut by system",
      "ReleasePhaseWaitStarted by system",
      "ReleaseGuardrailChecked by system",
      "ReleaseGuardrailChecked by system",
      "ReleaseGuardrailChecked by system",
      "ReleaseGuardrailTripped by system",
      "ReleaseAborted by system",
    ]);
    console.info(
      `tripped guardrail's audit trail (${releaseId}):\n${trail
        .map((n) => {
          const d = n.data as { result?: string; consecutiveFailures?: number; reason?: string; outcome?: string };
          const detail = d.result ?? d.reason ?? "";
          return `  ${n.at} ${n.type} by ${n.actor}${d.consecutiveFailures !== undefined ? ` failures=${d.consecutiveFailures}` : ""}${d.outcome ? ` outcome=${d.outcome}` : ""} ${detail}`;
        })
        .join("\n")}`,
    );
    updates.stop();
  });
});

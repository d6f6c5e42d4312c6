// Serving benchmark: `npm run bench:serving` (STREAMS=1000, ROUNDS=10, LOAD_MS=3000, EVAL_MS=2000).
// On the embedded defaults, as `npm start` wires it: a temp DATA_DIR, its own Temporal dev server (or
// TEMPORAL_ADDRESS), one in-process worker, the API by buildApp on a free port. Through GraphQL it makes
// a project with 100 flags — segment rules, percentage rules, dynamic configs, and two releases in
// progress with a rolled-out segment phase — and an SDK key for production. Then:
//
//   evalsPerSec           the SDK (createClient, its configuration from GET /sdk/v1/config) evaluating
//                         those 100 flags for 1,000 units, in this process;
//   flagdCoreEvalsPerSec  @openfeature/flagd-core (OpenFeature's reference evaluator) on the same flags,
//                         translated to flagd's JSON Logic, for the same units, in this process
//                         (flagdAgreement: the share of answers no percentage decides on which the two
//                         agree — flagd buckets percentages with its own hash);
//   configRps304/200      GET /sdk/v1/config with 50 keep-alive clients (in a worker thread), with a
//                         current If-None-Match (304) and without (200, gzip as the SDK asks);
//   propagationP50/P99Ms  from a release action's mutation answer (approve a us-west phase, then abort)
//                         until each of STREAMS streaming SDK clients (in a worker thread) evaluates the
//                         new value for a us-west unit; 0 when a client had it before the answer.
// The last line is one JSON object with the numbers.

import { Worker } from "node:worker_threads";
import { FlagdCore } from "@openfeature/flagd-core";
import { createClient } from "../sdk/index.ts";
import type { Definition } from "../services/core/model.ts";
import type { ConfigDocument, ConfigFeature } from "../services/serving/config-document.ts";
import { startBenchStack } from "./stack.ts";

const STREAMS = Number(process.env.STREAMS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const LOAD_MS = Number(process.env.LOAD_MS ?? 3000);
const EVAL_MS = Number(process.env.EVAL_MS ?? 2000);
const CONCURRENCY = 50;
const UNITS = 1000;
const TASK_QUEUE = "bench-serving";

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
const now = (): number => performance.timeOrigin + performance.now();

/** fetch, tried twice: a keep-alive socket the server closed while this process was busy evaluating fails once. */
async function fetchTwice(input: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch {
    return fetch(input, init);
  }
}

// ---- the flags ---------------------------------------------------------------------------------------

const SEGMENTS = [
  { key: "us-west", attribute: "region", operator: "IN", values: ["us-west"] },
  { key: "us-east", attribute: "region", operator: "IN", values: ["us-east"] },
  { key: "paying", attribute: "plan", operator: "IN", values: ["pro", "enterprise"] },
  { key: "not-eu", attribute: "country", operator: "NOT_IN", values: ["de", "fr", "es", "it"] },
];
const REGIONS = ["us-west", "us-east", "eu-central", "ap-south"];
const PLANS = ["free", "pro", "enterprise"];
const COUNTRIES = ["us", "de", "fr", "jp", "br"];

/** Flag i's definition in production: every kind of rule the product has, in a repeatable mix. */
function definitionOf(i: number, kind: "GATE" | "DYNAMIC_CONFIG"): Record<string, unknown> {
  const segment = (k: number) => SEGMENTS[(i + k) % SEGMENTS.length]?.key as string;
  const value = (v: string) => (kind === "GATE" ? null : { variant: v, limit: i });
  switch (i % 4) {
    case 0: // a segment rule
      return {
        enabled: false,
        value: value("default"),
        rules: [{ segment: segment(0), enabled: true, value: value("rule") }],
      };
    case 1: // a percentage rule
      return {
        enabled: false,
        value: value("default"),
        rules: [{ segment: segment(1), enabled: true, value: value("split"), rolloutPercentage: 10 + ((i * 7) % 80) }],
      };
    case 2: // two rules, the first a percentage
      return {
        enabled: true,
        value: value("default"),
        rules: [
          { segment: segment(2), enabled: true, value: value("a"), rolloutPercentage: 50 },
          { segment: segment(3), enabled: false, value: value("b") },
        ],
      };
    default: // no rule
      return { enabled: i % 8 === 3, value: value("default"), rules: [] };
  }
}

// ---- flagd's expression of the same flags ---------------------------------------------------------------

type JsonLogic = unknown;

function translateToFlagd(doc: ConfigDocument): string {
  const segments = new Map(doc.segments.map((s) => [s.key, s]));
  const condition = (key: string): JsonLogic => {
    const segment = segments.get(key);
    if (segment === undefined) return false;
    const inList = { in: [{ var: segment.attribute }, segment.values] };
    return segment.operator === "IN" ? inList : { "!": inList };
  };
  const flags: Record<string, unknown> = {};
  for (const feature of doc.features) {
    const variants: Record<string, unknown> = {};
    const variantOf = (enabled: boolean, value: unknown): string => {
      const served = feature.kind === "GATE" ? enabled : enabled ? value : null;
      const name = JSON.stringify(served);
      variants[name] = served;
      return name;
    };
    const logic = (definition: Definition): JsonLogic => {
      const branches: JsonLogic[] = [];
      for (const rule of definition.rules) {
        const on = variantOf(rule.enabled, rule.value ?? definition.value);
        const off = variantOf(false, definition.value);
        const outcome =
          rule.rolloutPercentage >= 100
            ? on
            : {
                fractional: [
                  { cat: [{ var: "$flagd.flagKey" }, ":", rule.segment, ":", { var: "targetingKey" }] },
                  [on, Math.round(rule.rolloutPercentage * 100)],
                  [off, 10_000 - Math.round(rule.rolloutPercentage * 100)],
                ],
              };
        branches.push(condition(rule.segment), outcome);
      }
      const fallback = variantOf(definition.enabled, definition.value);
      return branches.length === 0 ? fallback : { if: [...branches, fallback] };
    };
    const release = feature.release;
    let targeting: JsonLogic = logic(feature.definition);
    if (release !== null && release.status === "IN_PROGRESS" && release.rolledOut.length > 0) {
      const branches: JsonLogic[] = [];
      for (const phase of [...release.rolledOut].sort((a, b) => b.phaseIndex - a.phaseIndex)) {
        const covers = phase.segments.some((s) => s === null)
          ? true
          : { or: phase.segments.map((s) => condition(s as string)) };
        branches.push(covers, logic(phase.definition));
      }
      targeting = { if: [...branches, targeting] };
    }
    const defaultVariant = variantOf(feature.definition.enabled, feature.definition.value);
    flags[feature.key] = { state: "ENABLED", variants, defaultVariant, targeting };
  }
  return JSON.stringify({ flags });
}

// ---- main ----------------------------------------------------------------------------------------------

function runWorker<T>(
  data: unknown,
  onMessage?: (message: Record<string, unknown>, worker: Worker) => void,
): { worker: Worker; done: Promise<T> } {
  const worker = new Worker(new URL("./serving-worker.ts", import.meta.url), { workerData: data });
  const done = new Promise<T>((resolve, reject) => {
    worker.on("message", (message: Record<string, unknown>) => {
      if (message.kind === "error") reject(new Error(String(message.message)));
      else if (message.kind === "load" || message.kind === "closed") resolve(message as T);
      else onMessage?.(message, worker);
    });
    worker.on("error", reject);
  });
  return { worker, done };
}

async function main(): Promise<void> {
  const stack = await startBenchStack("serving", TASK_QUEUE);
  const { url, baseUrl, token, address, dataDir } = stack;
  say(`API at ${url}, Temporal at ${address}, data in ${dataDir}`);

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetchTwice(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    if (body.errors?.length || body.data === undefined) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const action = async (name: string, id: string, phaseIndex?: number): Promise<void> => {
    const args = phaseIndex === undefined ? "id: $id" : `id: $id, phaseIndex: ${phaseIndex}`;
    await gql(`mutation($id: ID!) { ${name}(${args}) { id status } }`, { id });
  };

  // The project: 100 flags (two of them mid-release), a propagation flag, a production SDK key.
  const { createProject } = await gql<{ createProject: { id: string } }>(
    `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`,
    { input: { name: "Bench", environments: ["staging", "production"], segments: SEGMENTS } },
  );
  const projectId = createProject.id;
  const { createPipeline } = await gql<{ createPipeline: { id: string } }>(
    `mutation($p: ID!) { createPipeline(input: { projectId: $p, name: "regions", phases: [
      { name: "us-west", requiresApproval: true, approvalsRequired: 1, targets: [{ environment: "production", segment: "us-west" }] },
      { name: "production", requiresApproval: true, approvalsRequired: 1, targets: [{ environment: "production" }] }
    ] }) { id } }`,
    { p: projectId },
  );
  const pipelineId = createPipeline.id;
  await gql(`mutation($id: ID!) { publishPipeline(id: $id) { id } }`, { id: pipelineId });
  const createFeature = async (
    key: string,
    kind: string,
    definition: Record<string, unknown>,
    withPipeline: boolean,
  ) => {
    const data = await gql<{ createFeature: { id: string } }>(
      `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`,
      {
        input: {
          projectId,
          key,
          kind,
          ...(withPipeline && { pipelineId }),
          environments: [{ environment: "production", definition }],
        },
      },
    );
    return data.createFeature.id;
  };
  const releaseOf = async (featureId: string, definition: Record<string, unknown>): Promise<string> => {
    const data = await gql<{ updateFeature: { id: string } }>(
      `mutation($id: ID!, $input: UpdateFeatureInput!) { updateFeature(id: $id, input: $input) { ... on Release { id } } }`,
      { id: featureId, input: { environments: [{ environment: "production", definition }] } },
    );
    return data.updateFeature.id;
  };
  const keys: string[] = [];
  for (let i = 0; i < 100; i++) {
    const kind = i % 3 === 2 ? "DYNAMIC_CONFIG" : "GATE";
    const key = `flag-${i}`;
    keys.push(key);
    const released = i === 10 || i === 11;
    const featureId = await createFeature(key, kind, definitionOf(i, kind), released);
    if (released) {
      // Mid-release: the change has rolled out to us-west, production as a whole awaits approval.
      const releaseId = await releaseOf(featureId, definitionOf(i + 1, kind));
      await action("approveRelease", releaseId, 0);
    }
  }
  const propagationId = await createFeature("propagation", "GATE", { enabled: false }, true);
  const { createSdkKey } = await gql<{ createSdkKey: { secret: string } }>(
    `mutation($p: ID!) { createSdkKey(projectId: $p, environment: "production", name: "bench") { secret } }`,
    { p: projectId },
  );
  const sdkKey = createSdkKey.secret;
  say("100 flags (2 mid-release) and an SDK key are ready");

  // ---- in-process evaluations: the SDK vs flagd-core ----------------------------------------------------
  const sdk = createClient({ baseUrl, sdkKey, streaming: false, pollIntervalMs: 0 });
  await sdk.ready();
  const doc = (await (
    await fetch(`${baseUrl}/sdk/v1/config`, { headers: { authorization: `Bearer ${sdkKey}` } })
  ).json()) as ConfigDocument;
  const features = doc.features.filter((f: ConfigFeature) => f.key !== "propagation");
  const released = features.filter((f) => f.release?.status === "IN_PROGRESS" && f.release.rolledOut.length > 0).length;
  const flagd = new FlagdCore();
  flagd.setConfigurations(translateToFlagd({ ...doc, features }));
  const units = Array.from({ length: UNITS }, (_, i) => {
    const attributes = {
      region: REGIONS[i % REGIONS.length] as string,
      plan: PLANS[(i * 7) % PLANS.length] as string,
      country: COUNTRIES[(i * 13) % COUNTRIES.length] as string,
    };
    return { unit: { id: `user-${i}`, attributes }, context: { targetingKey: `user-${i}`, ...attributes } };
  });
  const kinds = features.map((f) => f.kind);
  const flagdLogger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
  let sink = 0;
  const timeEvals = (evaluateAll: () => void): number => {
    const started = performance.now();
    let passes = 0;
    while (performance.now() - started < EVAL_MS) {
      evaluateAll();
      passes++;
    }
    return (passes * features.length * units.length) / ((performance.now() - started) / 1000);
  };
  const ours = (): void => {
    for (const { unit } of units) {
      for (const key of keys) if (sdk.evaluate(key, unit).enabled) sink++;
    }
  };
  const theirs = (): void => {
    for (const { context } of units) {
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k] as string;
        const answer =
          kinds[k] === "GATE"
            ? flagd.resolveBooleanEvaluation(key, false, context, flagdLogger)
            : flagd.resolveObjectEvaluation(key, {}, context, flagdLogger);
        if (answer.value) sink++;
      }
    }
  };
  // The translation is faithful where no percentage decides (flagd buckets with its own hash): the share
  // of (flag, unit) answers on which the two agree.
  let agree = 0;
  let compared = 0;
  for (const { unit, context } of units) {
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as string;
      const mine = sdk.evaluate(key, unit);
      if (mine.rolloutPercentage !== null && mine.rolloutPercentage < 100) continue;
      compared++;
      const served = kinds[k] === "GATE" ? mine.enabled : mine.enabled ? mine.value : null;
      const theirs =
        kinds[k] === "GATE"
          ? flagd.resolveBooleanEvaluation(key, false, context, flagdLogger).value
          : flagd.resolveObjectEvaluation(key, {}, context, flagdLogger).value;
      if (JSON.stringify(served) === JSON.stringify(theirs)) agree++;
    }
  }
  const flagdAgreement = agree / compared;
  // Warm both up, then alternate, keeping each one's best (the machine is shared).
  ours();
  theirs();
  let evalsPerSec = 0;
  let flagdCoreEvalsPerSec = 0;
  for (let i = 0; i < 2; i++) {
    evalsPerSec = Math.max(evalsPerSec, timeEvals(ours));
    flagdCoreEvalsPerSec = Math.max(flagdCoreEvalsPerSec, timeEvals(theirs));
  }
  say(
    `in-process evaluations of ${features.length} flags (${released} mid-release) × ${UNITS} units: SDK ${Math.round(evalsPerSec)}/s, flagd-core ${Math.round(flagdCoreEvalsPerSec)}/s (they agree on ${round(flagdAgreement * 100, 1)}% of the ${compared} answers no percentage decides; sink ${sink % 10})`,
  );
  await sdk.close();

  // ---- the config endpoint under 50 keep-alive clients -----------------------------------------------------
  const etagResponse = await fetchTwice(`${baseUrl}/sdk/v1/config`, { headers: { authorization: `Bearer ${sdkKey}` } });
  const etag = etagResponse.headers.get("etag") ?? "";
  await etagResponse.arrayBuffer();
  const loadRun = async (headers: Record<string, string>, expectStatus: number) => {
    const { done } = runWorker<{ requests: number; seconds: number; wrong: number }>({
      kind: "load",
      baseUrl,
      sdkKey,
      concurrency: CONCURRENCY,
      durationMs: LOAD_MS,
      headers,
      expectStatus,
    });
    const result = await done;
    if (result.wrong > 0) throw new Error(`${result.wrong} config requests did not answer ${expectStatus}`);
    return result.requests / result.seconds;
  };
  const configRps304 = await loadRun({ "if-none-match": etag }, 304);
  const configRps200 = await loadRun({ "accept-encoding": "gzip" }, 200);
  say(
    `GET /sdk/v1/config, ${CONCURRENCY} clients: ${Math.round(configRps304)} req/s on 304, ${Math.round(configRps200)} req/s on 200 (gzip)`,
  );

  // ---- propagation to STREAMS streaming SDK clients ------------------------------------------------------
  let resolveReady: (connected: number) => void = () => {};
  const connected = new Promise<number>((resolve) => {
    resolveReady = resolve;
  });
  const roundWaiters = new Map<number, (times: number[]) => void>();
  const streams = runWorker<unknown>(
    {
      kind: "streams",
      baseUrl,
      sdkKey,
      count: STREAMS,
      featureKey: "propagation",
      unit: { id: "u-west", attributes: { region: "us-west" } },
    },
    (message) => {
      if (message.kind === "ready") resolveReady(message.connected as number);
      if (message.kind === "round") roundWaiters.get(message.id as number)?.(message.times as number[]);
    },
  );
  const streaming = await connected;
  say(`${streaming} SDK clients streaming (the API holds ${stack.app.sdk.openStreams} streams)`);
  const latencies: number[] = [];
  const fromRequest: number[] = [];
  let early = 0;
  let roundId = 0;
  const measure = async (mutate: () => Promise<void>, expected: boolean): Promise<void> => {
    const id = ++roundId;
    const arrived = new Promise<number[]>((resolve, reject) => {
      roundWaiters.set(id, resolve);
      setTimeout(() => reject(new Error(`round ${id}: not every client saw the change within 60 s`)), 60_000).unref();
    });
    const sent = now();
    await mutate();
    const answered = now();
    streams.worker.postMessage({ kind: "round", id, expected });
    for (const time of await arrived) {
      if (time < answered) early++;
      latencies.push(Math.max(0, time - answered));
      fromRequest.push(time - sent);
    }
  };
  for (let r = 0; r < ROUNDS / 2; r++) {
    const releaseId = await releaseOf(propagationId, { enabled: true });
    await measure(() => action("approveRelease", releaseId, 0), true);
    await measure(() => action("abortRelease", releaseId), false);
  }
  latencies.sort((a, b) => a - b);
  fromRequest.sort((a, b) => a - b);
  const propagationP50Ms = round(percentile(latencies, 50));
  const propagationP99Ms = round(percentile(latencies, 99));
  say(
    `propagation to ${STREAMS} streams over ${roundId} release actions: p50 ${propagationP50Ms} ms, p99 ${propagationP99Ms} ms after the answer (${early} of ${latencies.length} had it before the answer); from the request p50 ${round(percentile(fromRequest, 50))} ms, p99 ${round(percentile(fromRequest, 99))} ms`,
  );
  streams.worker.postMessage({ kind: "close" });
  await streams.done;
  await streams.worker.terminate();

  await stack.close();

  say(
    JSON.stringify({
      flags: features.length,
      units: UNITS,
      evalsPerSec: Math.round(evalsPerSec),
      flagdCoreEvalsPerSec: Math.round(flagdCoreEvalsPerSec),
      ratioVsFlagd: round(evalsPerSec / flagdCoreEvalsPerSec),
      flagdAgreement: round(flagdAgreement, 3),
      configClients: CONCURRENCY,
      configRps304: Math.round(configRps304),
      configRps200: Math.round(configRps200),
      streams: STREAMS,
      propagationRounds: roundId,
      propagationP50Ms,
      propagationP99Ms,
      propagationFromRequestP99Ms: round(percentile(fromRequest, 99)),
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:serving failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

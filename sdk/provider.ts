// The OpenFeature server provider over the SDK client:
//
//   await OpenFeature.setProviderAndWait(new ReleasePipelinesProvider({ baseUrl, sdkKey }));
//   const flags = OpenFeature.getClient();
//   await flags.getBooleanValue("new-checkout", false, { targetingKey: user.id, region: "us-west" });
//
// Gates resolve as booleans (`enabled`); dynamic configs as string, number, boolean or object by their
// value's type (a disabled dynamic config answers the caller's default with reason DISABLED). Reasons:
// a rule or a release phase that targets the unit → TARGETING_MATCH (SPLIT when a rollout percentage
// below 100 decided), otherwise DEFAULT; errors → ERROR with FLAG_NOT_FOUND, TYPE_MISMATCH,
// PROVIDER_NOT_READY or GENERAL. flagMetadata: releaseId, phaseIndex (when a phase served the unit) and
// configVersion. A configuration change emits PROVIDER_CONFIGURATION_CHANGED naming the changed flags.

import {
  type EvaluationContext,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
} from "@openfeature/server-sdk";
import { type ClientOptions, createClient, type ReleasePipelinesClient } from "./client.ts";
import type { SdkEvaluation } from "./evaluator.ts";

type FlagType = "boolean" | "string" | "number" | "object";

export type ReleasePipelinesProviderOptions = ClientOptions | { client: ReleasePipelinesClient };

/** The unit of an OpenFeature context: `targetingKey` is its id, every other entry an attribute. */
function unitOf(context: EvaluationContext): { id: string; attributes: Record<string, unknown> } {
  const { targetingKey, ...attributes } = context;
  return { id: typeof targetingKey === "string" ? targetingKey : "", attributes };
}

const typeOfValue = (value: unknown): FlagType | null => {
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "object" && value !== null) return "object";
  return null;
};

function metadataOf(evaluation: SdkEvaluation): Record<string, string | number | boolean> {
  const metadata: Record<string, string | number | boolean> = {};
  if (evaluation.configVersion !== null) metadata.configVersion = evaluation.configVersion;
  if (evaluation.releaseId !== null) metadata.releaseId = evaluation.releaseId;
  if (evaluation.phaseIndex !== null) metadata.phaseIndex = evaluation.phaseIndex;
  return metadata;
}

function reasonOf(evaluation: SdkEvaluation): string {
  if (evaluation.reason === "DEFAULT") return "DEFAULT";
  const split = evaluation.rolloutPercentage !== null && evaluation.rolloutPercentage < 100;
  return split ? "SPLIT" : "TARGETING_MATCH";
}

export class ReleasePipelinesProvider implements Provider {
  readonly metadata = { name: "release-pipelines" } as const;
  readonly runsOn = "server" as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly client: ReleasePipelinesClient;
  readonly #offs: (() => void)[] = [];
  #initialized = false;

  constructor(options: ReleasePipelinesProviderOptions) {
    this.client = "client" in options ? options.client : createClient(options);
    this.#offs.push(
      this.client.on("change", (change) =>
        this.events.emit(ProviderEvents.ConfigurationChanged, {
          flagsChanged: change.changedFlags,
          metadata: { configVersion: change.version },
        }),
      ),
      this.client.on("stale", (reason) => this.events.emit(ProviderEvents.Stale, { message: reason })),
      this.client.on("ready", () => {
        // The first READY is initialize()'s; later ones end a STALE spell, or an initialize() that timed out.
        if (this.#initialized) this.events.emit(ProviderEvents.Ready);
      }),
      this.client.on("error", (error) => this.events.emit(ProviderEvents.Error, { message: error.message })),
    );
  }

  async initialize(): Promise<void> {
    try {
      await this.client.ready();
    } finally {
      this.#initialized = true;
    }
  }

  async onClose(): Promise<void> {
    for (const off of this.#offs.splice(0)) off();
    await this.client.close();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext) {
    return Promise.resolve(this.#resolve(flagKey, "boolean", defaultValue, context));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext) {
    return Promise.resolve(this.#resolve(flagKey, "string", defaultValue, context));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext) {
    return Promise.resolve(this.#resolve(flagKey, "number", defaultValue, context));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext) {
    return Promise.resolve(this.#resolve(flagKey, "object", defaultValue, context));
  }

  #resolve<T>(flagKey: string, type: FlagType, defaultValue: T, context: EvaluationContext): ResolutionDetails<T> {
    const evaluation = this.client.evaluate(flagKey, unitOf(context));
    const flagMetadata = metadataOf(evaluation);
    const error = (errorCode: string, errorMessage: string): ResolutionDetails<T> =>
      ({ value: defaultValue, reason: "ERROR", errorCode, errorMessage, flagMetadata }) as ResolutionDetails<T>;
    if (evaluation.errorCode !== undefined) {
      return error(evaluation.errorCode, evaluation.errorMessage ?? evaluation.errorCode);
    }
    if (evaluation.kind === "GATE") {
      if (type !== "boolean") return error("TYPE_MISMATCH", `${flagKey} is a gate: resolve it as a boolean`);
      return {
        value: evaluation.enabled as T,
        variant: evaluation.enabled ? "on" : "off",
        reason: reasonOf(evaluation),
        flagMetadata,
      };
    }
    if (!evaluation.enabled) return { value: defaultValue, reason: "DISABLED", flagMetadata };
    const actual = typeOfValue(evaluation.value);
    if (actual !== type) {
      return error(
        "TYPE_MISMATCH",
        `${flagKey} is a dynamic config whose value is ${actual === null ? "null" : `a ${actual}`}, not a ${type}`,
      );
    }
    return { value: evaluation.value as T, reason: reasonOf(evaluation), flagMetadata };
  }
}

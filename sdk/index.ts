// The server SDK of release pipelines: `createClient` (in-process evaluation over a live configuration)
// and `ReleasePipelinesProvider` (the OpenFeature server provider over it).

export {
  type ChangeEvent,
  type ClientOptions,
  type ClientStatus,
  createClient,
  type ReleasePipelinesClient,
  SdkKeyError,
} from "./client.ts";
export {
  type ConfigDocument,
  type ConfigFeature,
  type ConfigPatch,
  PreparedConfig,
  type SdkErrorCode,
  type SdkEvaluation,
  type Unit,
} from "./evaluator.ts";
export { ReleasePipelinesProvider, type ReleasePipelinesProviderOptions } from "./provider.ts";

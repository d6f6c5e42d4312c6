// Moved to services/core/upcasters.ts (the command handler applies it by default); kept for old imports.

export {
  NO_UPCASTERS,
  UPCASTERS,
  type Upcasters,
  upcastPhase,
  upcastPipelineCreated,
  upcastPipelineUpdated,
  upcastReleaseStarted,
} from "../core/upcasters.ts";

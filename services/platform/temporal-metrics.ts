// Temporal-side metrics:
//   - the Update round trip (rp_temporal_update_duration_seconds): a client interceptor times each
//     Update as the API sends it, until the server answers with its outcome (the API waits for
//     completion, so this is the action's whole trip through the workflow);
//   - reconcile repairs (rp_reconcile_repairs_total): a gRPC interceptor on reconcile's own connection
//     reads `started` from each StartWorkflowExecution answer — true only when no run was going and
//     reconcile started one (USE_EXISTING answers false for a running workflow) — and counts failures.

import { createRequire } from "node:module";
import type { Interceptor, StatusObject } from "@grpc/grpc-js";
import type { WorkflowClientInterceptor } from "@temporalio/client";
import protos from "@temporalio/proto";
import { type Metrics, secondsSince } from "./metrics.ts";

export function updateMetricsInterceptor(metrics: Metrics): WorkflowClientInterceptor {
  return {
    async startUpdate(input, next) {
      const started = process.hrtime.bigint();
      let outcome = "error";
      try {
        const output = await next(input);
        outcome =
          output.outcome === undefined || output.outcome === null
            ? "accepted"
            : output.outcome.failure
              ? "failure"
              : "ok";
        return output;
      } finally {
        metrics.temporalUpdateDuration.observe({ update: input.updateName, outcome }, secondsSince(started));
      }
    },
  };
}

const START_WORKFLOW = "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";
/** gRPC status ALREADY_EXISTS: the workflow already completed (reuse policy): nothing to repair. */
const ALREADY_EXISTS = 6;

/** For reconcile's connection only: every workflow start there is a repair attempt. */
export function reconcileRepairsInterceptor(metrics: Metrics): Interceptor {
  return (options, nextCall) => {
    const InterceptingCall = interceptingCallClass();
    if (options.method_definition.path !== START_WORKFLOW) return new InterceptingCall(nextCall(options));
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        next(metadata, {
          onReceiveMessage(message: unknown, nextMessage: (message: unknown) => void) {
            try {
              const bytes = message instanceof Uint8Array ? message : null;
              if (
                bytes !== null &&
                protos.temporal.api.workflowservice.v1.StartWorkflowExecutionResponse.decode(bytes).started
              ) {
                metrics.reconcileRepairs.inc({ outcome: "started" });
              }
            } catch {
              // Not ours to fail the call over.
            }
            nextMessage(message);
          },
          onReceiveStatus(status: StatusObject, nextStatus: (status: StatusObject) => void) {
            if (status.code !== 0 && status.code !== ALREADY_EXISTS)
              metrics.reconcileRepairs.inc({ outcome: "failed" });
            nextStatus(status);
          },
        });
      },
    });
  };
}

type InterceptingCallCtor = typeof import("@grpc/grpc-js").InterceptingCall;
let interceptingCall: InterceptingCallCtor | null = null;
/** The grpc-js that @temporalio/client itself loads (not a dependency of ours: its copy, whatever version). */
function interceptingCallClass(): InterceptingCallCtor {
  if (interceptingCall === null) {
    const fromClient = createRequire(createRequire(import.meta.url).resolve("@temporalio/client"));
    interceptingCall = (fromClient("@grpc/grpc-js") as typeof import("@grpc/grpc-js")).InterceptingCall;
  }
  return interceptingCall;
}

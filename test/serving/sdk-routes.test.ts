// The SDK routes over read models fed directly (no server, no Temporal): a key whose environment is no
// longer in its project answers 404 NOT_FOUND (the key itself is valid), and a stream's first frames.

import { describe, expect, it } from "vitest";
import { createSdkRoutes } from "../../services/api/sdk-routes.ts";
import { hashSecret } from "../../services/core/ids.ts";
import { createLogger } from "../../services/platform/logger.ts";
import { ReadModels } from "../../services/projections/read-models.ts";

const at = "2026-11-29T10:00:00.000Z";
const metadata = {
  actor: "admin",
  occurredAt: at,
  correlationId: "c",
  causationId: null,
  schemaVersion: 1,
  projectId: "p1",
};

function readModelsWith(keyEnvironment: string): ReadModels {
  const readModels = new ReadModels();
  let position = 0;
  const apply = (stream: string, type: string, data: unknown): void => {
    position++;
    readModels.apply({
      id: `e${position}`,
      stream,
      revision: 0n,
      position: String(position).padStart(20, "0"),
      type,
      data,
      metadata,
      recordedAt: at,
    });
  };
  apply("project-p1", "ProjectCreated", { projectId: "p1", name: "P", environments: ["production"], segments: [], at });
  // As if the environment had been removed since the key was made (projects may lose environments).
  apply("sdkkey-k1", "SdkKeyCreated", {
    keyId: "k1",
    projectId: "p1",
    environment: keyEnvironment,
    name: "app",
    secretHash: hashSecret("rp_sdk_secret"),
    at,
    by: "admin",
  });
  return readModels;
}

const routesOver = (readModels: ReadModels) =>
  createSdkRoutes({
    readModels,
    runner: { onEvent: () => () => {} },
    logger: createLogger("test", { level: "silent" }),
  });

const get = (path: string, headers: Record<string, string> = {}) =>
  new Request(`http://localhost${path}`, { headers: { authorization: "Bearer rp_sdk_secret", ...headers } });

describe("the SDK routes", () => {
  it("answer 404 NOT_FOUND for a key whose environment its project no longer has", async () => {
    const routes = routesOver(readModelsWith("staging"));
    for (const path of ["/sdk/v1/config", "/sdk/v1/stream"]) {
      const response = routes.fetch(get(path));
      expect(response.status).toBe(404);
      const body = await response.json();
      expect(body.errors[0].extensions.code).toBe("NOT_FOUND");
      expect(body.errors[0].message).toContain("staging");
    }
    routes.closeAll();
  });

  it("stream the document first, with a retry hint, to a key of an existing environment", async () => {
    const routes = routesOver(readModelsWith("production"));
    const response = routes.fetch(get("/sdk/v1/stream"));
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!text.includes("event: put")) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/^retry: 1000\n\nid: [0-9a-f]{16}\nevent: put\ndata: \{"schemaVersion":2,/);
    expect(routes.openStreams).toBe(1);
    await reader.cancel();
    expect(routes.openStreams).toBe(0);
    routes.closeAll();
  });
});

// The SDK's pieces on their own: the SSE parser, the OpenFeature provider's mapping (types, reasons,
// metadata, errors) over a configuration document, and the SDK's import graph (it must not pull in the
// server: it runs inside applications).

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join, relative, resolve } from "node:path";
import { ProviderEvents } from "@openfeature/server-sdk";
import { describe, expect, it } from "vitest";
import { isConfigDocument } from "../../sdk/evaluator.ts";
import {
  type ConfigDocument,
  createClient,
  PreparedConfig,
  type ReleasePipelinesClient,
  ReleasePipelinesProvider,
} from "../../sdk/index.ts";
import { createSseParser, type SseEvent } from "../../sdk/sse.ts";
import type { Definition } from "../../services/core/model.ts";

describe("the SSE parser", () => {
  it("splits events across chunks and line endings, joins data lines, keeps the last id and reports comments", () => {
    const events: SseEvent[] = [];
    const comments: string[] = [];
    const parser = createSseParser(
      (event) => events.push(event),
      (comment) => comments.push(comment),
    );
    for (const chunk of [
      "retry: 1000\n\nid: v1\nev",
      'ent: put\ndata: {"a":\ndata: 1}\r\n\r',
      "\n: heartbeat\n\n",
      "data: x\n\n",
    ]) {
      parser.push(chunk);
    }
    expect(events).toEqual([
      { event: "put", data: '{"a":\n1}', id: "v1" },
      { event: "message", data: "x", id: "v1" },
    ]);
    expect(comments).toEqual(["heartbeat"]);
  });
});

const definition = (enabled: boolean, value: unknown = null, rules: Definition["rules"] = []): Definition => ({
  enabled,
  value,
  rules,
});

const DOC: ConfigDocument = {
  schemaVersion: 1,
  projectId: "p",
  environment: "production",
  version: "00000000000000aa",
  segments: [{ key: "beta", attribute: "plan", operator: "IN", values: ["beta"] }],
  features: [
    { key: "gate", kind: "GATE", definition: definition(true), release: null },
    {
      key: "split-gate",
      kind: "GATE",
      definition: definition(false, null, [{ segment: "beta", enabled: true, value: null, rolloutPercentage: 100 }]),
      release: {
        id: "f.1",
        status: "IN_PROGRESS",
        rolledOut: [
          {
            phaseIndex: 0,
            segments: ["beta"],
            definition: definition(false, null, [
              { segment: "beta", enabled: true, value: null, rolloutPercentage: 50 },
            ]),
          },
        ],
        outcome: null,
      },
    },
    { key: "banner", kind: "DYNAMIC_CONFIG", definition: definition(true, "hello"), release: null },
    { key: "limit", kind: "DYNAMIC_CONFIG", definition: definition(true, 42), release: null },
    { key: "theme", kind: "DYNAMIC_CONFIG", definition: definition(true, { color: "red" }), release: null },
    { key: "off-config", kind: "DYNAMIC_CONFIG", definition: definition(false, "hidden"), release: null },
  ],
};

describe("PreparedConfig and schema versions", () => {
  const ramping: ConfigDocument = {
    ...DOC,
    schemaVersion: 2,
    features: [
      {
        key: "ramped",
        kind: "GATE",
        definition: definition(false),
        release: {
          id: "f.7",
          status: "IN_PROGRESS",
          rolledOut: [{ phaseIndex: 1, segments: [null], definition: definition(true), percentage: 30 }],
          outcome: null,
        },
      },
    ],
  };

  it("reads a schemaVersion 2 document's ramp: about 30% of units in, the reason naming the percentage", () => {
    const config = PreparedConfig.fromDocument(ramping);
    const answers = Array.from({ length: 10_000 }, (_, i) => config.evaluate("ramped", { id: `u${i}` }));
    const inside = answers.filter((a) => a.enabled);
    expect(Math.abs(inside.length / 100 - 30)).toBeLessThanOrEqual(2);
    expect(inside[0]).toMatchObject({ reason: "RELEASE:f.7:PHASE:1:RAMP:30", phaseIndex: 1, rolloutPercentage: 30 });
    expect(answers.find((a) => !a.enabled)).toMatchObject({ reason: "DEFAULT", phaseIndex: null });
  });

  it("still reads schemaVersion 1 documents and refuses a version it does not know", () => {
    expect(isConfigDocument({ ...DOC, schemaVersion: 1 })).toBe(true);
    expect(isConfigDocument(ramping)).toBe(true);
    expect(isConfigDocument({ ...ramping, schemaVersion: 3 })).toBe(false);
  });
});

function providerOver(doc: ConfigDocument): ReleasePipelinesProvider {
  const config = PreparedConfig.fromDocument(doc);
  const client = {
    evaluate: (key: string, unit: { id: string; attributes?: Record<string, unknown> | null }) =>
      config.evaluate(key, unit),
    on: () => () => {},
    ready: async () => {},
    close: async () => {},
  } as unknown as ReleasePipelinesClient;
  return new ReleasePipelinesProvider({ client });
}

describe("ReleasePipelinesProvider", () => {
  const provider = providerOver(DOC);

  it("resolves gates as booleans and dynamic configs by their value's type", async () => {
    expect(await provider.resolveBooleanEvaluation("gate", false, { targetingKey: "u" })).toMatchObject({
      value: true,
      reason: "DEFAULT",
      flagMetadata: { configVersion: "00000000000000aa" },
    });
    expect((await provider.resolveStringEvaluation("banner", "x", {})).value).toBe("hello");
    expect((await provider.resolveNumberEvaluation("limit", 0, {})).value).toBe(42);
    expect((await provider.resolveObjectEvaluation("theme", {}, {})).value).toEqual({ color: "red" });
    expect(await provider.resolveStringEvaluation("off-config", "fallback", {})).toMatchObject({
      value: "fallback",
      reason: "DISABLED",
    });
  });

  it("says SPLIT when a rollout percentage decided, with the release and phase in the metadata", async () => {
    // Units of the beta segment are served by the release's phase 0, whose beta rule rolls out to 50%.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        provider.resolveBooleanEvaluation("split-gate", false, { targetingKey: `u${i}`, plan: "beta" }),
      ),
    );
    expect(new Set(answers.map((a) => a.reason))).toEqual(new Set(["SPLIT"]));
    expect(new Set(answers.map((a) => a.value))).toEqual(new Set([true, false]));
    expect(answers[0]?.flagMetadata).toMatchObject({ releaseId: "f.1", phaseIndex: 0 });
    const outside = await provider.resolveBooleanEvaluation("split-gate", true, { targetingKey: "u", plan: "free" });
    expect(outside).toMatchObject({ value: false, reason: "DEFAULT", flagMetadata: { releaseId: "f.1" } });
  });

  it("answers ERROR with FLAG_NOT_FOUND or TYPE_MISMATCH and the caller's default", async () => {
    expect(await provider.resolveBooleanEvaluation("nope", true, {})).toMatchObject({
      value: true,
      reason: "ERROR",
      errorCode: "FLAG_NOT_FOUND",
    });
    expect(await provider.resolveNumberEvaluation("banner", 7, {})).toMatchObject({
      value: 7,
      reason: "ERROR",
      errorCode: "TYPE_MISMATCH",
    });
    expect(await provider.resolveStringEvaluation("gate", "d", {})).toMatchObject({ errorCode: "TYPE_MISMATCH" });
  });
});

describe("the SDK's imports", () => {
  it("reach only the SDK, the serving and core modules and @openfeature: never the server", () => {
    const root = resolve(import.meta.dirname, "../..");
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, "utf8");
      for (const match of source.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gm)) {
        if (match[1]) continue; // type-only: erased when Node strips the types
        const specifier = match[2] as string;
        if (specifier.startsWith(".")) visit(join(dirname(file), specifier));
        else packages.add(specifier);
      }
    };
    visit(join(root, "sdk/index.ts"));
    const files = [...seen].map((file) => relative(root, file)).sort();
    for (const file of files) expect(file).toMatch(/^(sdk\/|services\/serving\/|services\/core\/)/);
    expect([...packages].sort()).toEqual(["@openfeature/server-sdk"]);
    expect(files).toContain("services/serving/evaluate.ts");
  });
});

describe("ReleasePipelinesProvider's readiness", () => {
  it("becomes READY when a configuration arrives after initialize() gave up waiting", async () => {
    const listeners = new Map<string, () => void>();
    let ready = false;
    const client = {
      on: (event: string, listener: () => void) => {
        listeners.set(event, listener);
        return () => {};
      },
      ready: async () => {
        if (!ready) throw new Error("no configuration within 15000 ms");
      },
      close: async () => {},
    } as unknown as ReleasePipelinesClient;
    const provider = new ReleasePipelinesProvider({ client });
    const events: string[] = [];
    provider.events.addHandler(ProviderEvents.Ready, () => events.push("ready"));
    await expect(provider.initialize()).rejects.toThrow("no configuration");
    ready = true;
    listeners.get("ready")?.();
    expect(events).toEqual(["ready"]);
  });
});

describe("the SDK client's stream", () => {
  it("drops a stream that goes silent (no event, no heartbeat) and reconnects from its version", async () => {
    const lastEventIds: (string | undefined)[] = [];
    let reconnected: () => void = () => {};
    const twice = new Promise<void>((resolve) => {
      reconnected = resolve;
    });
    const server = createServer((req, res) => {
      lastEventIds.push(req.headers["last-event-id"] as string | undefined);
      res.writeHead(200, { "content-type": "text/event-stream" });
      // The document, then silence: a proxy that keeps the connection but stopped forwarding.
      res.write(`id: ${DOC.version}\nevent: put\ndata: ${JSON.stringify(DOC)}\n\n`);
      if (lastEventIds.length === 2) reconnected();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const client = createClient({
      baseUrl: `http://127.0.0.1:${port}`,
      sdkKey: "rp_sdk_test",
      streamTimeoutMs: 300,
      initialBackoffMs: 10,
      maxBackoffMs: 20,
      logger: { warn: () => {} },
    });
    try {
      await client.ready();
      await twice;
      expect(lastEventIds).toEqual([undefined, DOC.version]);
      expect(client.evaluate("gate", { id: "u" }).enabled).toBe(true);
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

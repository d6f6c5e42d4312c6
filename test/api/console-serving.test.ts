// The API serves the built console at `/` and its client routes, its assets under /assets/, and GraphiQL
// at /graphql — all from this origin, nothing from a CDN (the browser side is test/console/).

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONSOLE_DIR } from "../../services/api/console.ts";
import { startTestApi, type TestApi } from "./harness.ts";

let api: TestApi;
let base: string;

beforeAll(async () => {
  api = await startTestApi({ worker: false });
  base = new URL(api.url).origin;
}, 120_000);

afterAll(async () => {
  await api?.close();
});

/** Every http(s) URL in a src/href attribute: what a browser would fetch from elsewhere. */
const externalUrls = (html: string): string[] =>
  [...html.matchAll(/(?:src|href)\s*=\s*["'](https?:\/\/[^"']+)/g)].map((m) => m[1] ?? "");

describe("the console at /", () => {
  it("answers index.html for / and every client route, with a same-origin-only CSP", async () => {
    for (const path of [
      "/",
      "/projects/p1",
      "/projects/p1/audit",
      "/features/f1",
      "/releases/f1.2",
      "/pipelines/x",
      "/audit",
      "/tokens",
    ]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
      const html = await response.text();
      expect(html).toContain('<div id="app"></div>');
      expect(externalUrls(html)).toEqual([]);
    }
  });

  it("serves the hashed assets as immutable files, and nothing outside the build", async () => {
    const html = await (await fetch(`${base}/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(readdirSync(join(DEFAULT_CONSOLE_DIR, "assets"))).toContain(script?.replace("/assets/", ""));
    const asset = await fetch(`${base}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    for (const path of [
      "/assets/nope.js",
      "/assets/%2e%2e/index.html",
      "/assets/..%2f..%2fpackage.json",
      "/nope",
      "/package.json",
    ]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(404);
      expect((await response.json()).errors[0].extensions.code).toBe("NOT_FOUND");
    }
    // Only GET and HEAD.
    expect((await fetch(`${base}/features/f1`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${base}/features/f1`, { method: "HEAD" })).status).toBe(200);
  });

  it("says how to build the console when it is not built", async () => {
    const empty = mkdtempSync(join(tmpdir(), "no-console-"));
    const bare = await startTestApi({ worker: false, options: { consoleDir: empty } });
    try {
      const response = await fetch(`${new URL(bare.url).origin}/releases/x.1`);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain("npm run bootstrap");
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("GraphiQL at /graphql", () => {
  it("is served with its scripts inline: it loads nothing from a CDN", async () => {
    const response = await fetch(api.url, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("renderYogaGraphiQL");
    expect(externalUrls(html)).toEqual([]);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs/);
  });
});

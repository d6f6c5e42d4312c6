// The layout's rules (decision 0012, README "Code layout"): the GraphQL schema sits on top of services/,
// so only the API's composition root imports it; and no two folders import each other, directly or
// around a loop (a slice never imports the projections or the workflows: it takes them as ports).

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".spec.ts") ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/gm;

/** Every relative import of the production code, as [from, to] repository paths. */
const edges: [string, string][] = ["services", "workflows", "schema"]
  .flatMap(sources)
  .flatMap((file) =>
    [...readFileSync(join(ROOT, file), "utf8").matchAll(IMPORT)].map((match): [string, string] => [
      file,
      relative(ROOT, resolve(ROOT, dirname(file), match[1] as string)),
    ]),
  );

/** services/<slice>/… → services/<slice>; workflows/… → workflows; schema/… → schema. */
const folderOf = (path: string): string => {
  const parts = path.split("/");
  return parts[0] === "services" ? `services/${parts[1]}` : (parts[0] as string);
};

describe("the code layout", () => {
  it("reads the imports it checks", () => {
    expect(edges.length).toBeGreaterThan(200);
  });

  it("no file under services/ imports schema/ but the API's composition root", () => {
    const offenders = edges.filter(([from, to]) => from.startsWith("services/") && to.startsWith("schema/"));
    expect([...new Set(offenders.map(([from]) => from))]).toEqual(["services/api/app.ts"]);
  });

  it("no import cycle between folders", () => {
    const graph = new Map<string, Set<string>>();
    for (const [from, to] of edges) {
      const a = folderOf(from);
      const b = folderOf(to);
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)?.add(b);
    }
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (node: string, path: string[]): void => {
      if (state.get(node) === "done") return;
      if (state.get(node) === "open") {
        cycles.push([...path.slice(path.indexOf(node)), node].join(" → "));
        return;
      }
      state.set(node, "open");
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, "done");
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });
});

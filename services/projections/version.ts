// A projection's version: a number people bump, and a fingerprint of the code that decides what its rows
// hold — the module that writes them and every module it imports, transitively (the evolves, upcasters,
// helpers). Both go into the projection's file name, so a build whose code could store different rows for
// the same log builds a new file from the log instead of reading rows of another shape. A change that
// cannot alter the rows (a comment, a decide branch) rebuilds too: a rebuild costs seconds per million
// events in the background of a rolling deploy, and a projection that silently mixes two shapes costs far
// more to find. See docs/decisions/0042.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const RELATIVE_IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"(\.{1,2}\/[^"]+)"/g;

/** The files `entry` imports by relative path, transitively, itself included, sorted. */
export function moduleClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(RELATIVE_IMPORT)) visit(resolve(dirname(file), match[1] as string));
  };
  visit(entry);
  return [...seen].sort();
}

/** 12 hex digits of SHA-256 over the closure's sources (paths relative to the entry's folder, and texts). */
export function codeFingerprint(entry: string | URL): string {
  const file = typeof entry === "string" ? entry : fileURLToPath(entry);
  const root = dirname(file);
  const hash = createHash("sha256");
  for (const path of moduleClosure(file)) {
    hash.update(`${relative(root, path)}\u0000`);
    hash.update(readFileSync(path));
    hash.update("\u0000");
  }
  return hash.digest("hex").slice(0, 12);
}

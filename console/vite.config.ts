// Builds the console (Preact + TypeScript) into console/dist, which the API serves at `/`.
// Run by infra/bootstrap.sh when the console's sources change (infra/build-console.ts).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  logLevel: "warn",
  // Preact's automatic JSX runtime (React's API without React).
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Every asset is a file next to index.html: no inlined data URLs, no CDN (the console works offline).
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});

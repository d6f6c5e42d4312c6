import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["services/**/*.spec.ts", "workflows/**/*.spec.ts", "schema/**/*.spec.ts", "test/**/*.test.ts"],
    // Forks, not threads: Temporal's native bridge and workers are happiest one per process.
    pool: "forks",
    // One Temporal dev server for the whole run; test files reach it with inject("temporalAddress").
    globalSetup: ["test/setup/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});

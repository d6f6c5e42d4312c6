import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["services/**/*.spec.ts", "workflows/**/*.spec.ts", "schema/**/*.spec.ts", "test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});

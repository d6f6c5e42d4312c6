import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module). Node, which loads Yoga and Pothos, takes the CJS
    // build; Vite would hand test files the ESM one: two graphql instances ("Cannot use GraphQLSchema
    // from another module or realm"). Pin tests to the build Node uses.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
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

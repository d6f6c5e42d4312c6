// Run by infra/bootstrap.sh after `npm ci`: npm may hold back packages' install scripts, so prove
// that every native or post-installed piece the project relies on actually loads under this Node.
const checks: Array<[string, () => Promise<unknown>]> = [
  ["@temporalio/core-bridge (Temporal worker and test servers)", () => import("@temporalio/core-bridge")],
  ["@swc/core (Temporal workflow bundler)", () => import("@swc/core").then((m) => m.transformSync("let a = 1", {}))],
  ["node:sqlite (embedded event store)", () => import("node:sqlite")],
];
let failed = false;
for (const [name, load] of checks) {
  try {
    await load();
  } catch (error) {
    failed = true;
    console.error(`[bootstrap] ${name} does not load: ${(error as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);

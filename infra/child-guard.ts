// Preloaded (`node --import`) into every Node child of the supervisor (infra/start.ts). The
// supervisor talks to its children over an IPC channel; when that channel closes the supervisor is
// gone (even if it was SIGKILLed and could not stop anyone), so the child stops itself the same way
// the supervisor would have stopped it: with SIGTERM, so its own graceful shutdown runs. Processes
// that were not started with an IPC channel (e.g. `npm run api`) are unaffected.
const FORCED_EXIT_AFTER_MS = 15_000;

if (process.channel !== undefined) {
  process.once("disconnect", () => {
    setTimeout(() => process.exit(1), FORCED_EXIT_AFTER_MS).unref();
    process.kill(process.pid, "SIGTERM");
  });
  // The channel alone must not keep the child alive: a child that finished its work may exit.
  process.channel.unref();
}

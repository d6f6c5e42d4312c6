// `npm run bench:chaos`: 100 concurrent releases (short bakes, an approval each sent by a retrying client
// with an Idempotency-Key) while the API, the worker and the Temporal dev server are each killed with
// SIGKILL at random moments, three times, and restarted by the supervisor. Prints one JSON line:
// {"releases":100,"kills":N,"lost":0,"duplicated":0,"stuck":0,"wrongFinalState":0,...}
// CHAOS_RELEASES and CHAOS_ROUNDS change the size. See bench/chaos-harness.ts for what is checked.
import { runChaos, type Victim } from "./chaos-harness.ts";

const releases = Number(process.env.CHAOS_RELEASES ?? 100);
const rounds = Number(process.env.CHAOS_ROUNDS ?? 3);
const kills: Victim[] = [];
for (let round = 0; round < rounds; round++) {
  // Each round kills each process once, in a random order.
  const order: Victim[] = ["api", "worker", "temporal"];
  order.sort(() => Math.random() - 0.5);
  kills.push(...order);
}
const result = await runChaos({
  releases,
  kills,
  bakeSeconds: 5,
  killEveryMs: [3_000, 8_000],
  log: (message) => process.stderr.write(`${new Date().toISOString()} ${message}\n`),
});
const { problems, ...summary } = result;
for (const problem of problems.slice(0, 20)) process.stderr.write(`problem: ${problem}\n`);
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(summary.lost + summary.duplicated + summary.stuck + summary.wrongFinalState === 0 ? 0 : 1);

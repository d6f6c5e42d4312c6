// `npm run replay`: drops and rebuilds every projection from the log (the store chosen by DATA_DIR /
// EVENTSTORE_CONNECTION_STRING, as the API does), verifies the result against a second, independent fold,
// and prints counts per entity kind, events/s and the state's digest. Exit code 1 when verification fails.
//
//   npm run replay
//   AUDIT_INDEX_PATH=./.data/audit.sqlite npm run replay   # rebuild a file-backed audit index too

import { createEventStore } from "../event-store/create-event-store.ts";
import { loadConfigOrExit } from "../platform/config.ts";
import { replay } from "./replay.ts";

async function main(): Promise<number> {
  const config = loadConfigOrExit();
  const store = await createEventStore({
    dataDir: config.dataDir,
    connectionString: config.eventStoreConnectionString ?? "",
  });
  try {
    const auditPath = process.env.AUDIT_INDEX_PATH?.trim();
    const { audit, report } = await replay({ store, ...(auditPath ? { auditPath } : {}) });
    audit.close();
    const { counts } = report;
    const lines = [
      `source:    ${config.eventStoreConnectionString ? "EventStoreDB" : `embedded store in ${config.dataDir}`}`,
      `events:    ${report.events} in ${report.seconds.toFixed(2)} s (${report.eventsPerSec} events/s)`,
      `projects:  ${counts.projects}`,
      `tokens:    ${counts.tokens}`,
      `pipelines: ${counts.pipelines}`,
      `features:  ${counts.features}`,
      `releases:  ${counts.releases} (${counts.releasesInProgress} in progress, ${counts.releasesAwaitingApproval} awaiting approval)`,
      `audit:     ${report.auditEvents} events indexed${auditPath ? ` in ${auditPath}` : ""}`,
      `digest:    ${report.digest}`,
      `verified:  ${report.verifyDigest === report.digest ? "a second fold of the log gives the same digest" : `MISMATCH (${report.verifyDigest})`}`,
      `problems:  ${report.problems}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    process.stdout.write(`${JSON.stringify({ ...report, ok: report.ok })}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

process.exitCode = await main();

// `npm run replay`: drops and rebuilds every projection from the log (the store chosen by DATA_DIR /
// EVENTSTORE_CONNECTION_STRING, as the API does) into a free projection slot under PROJECTIONS_DIR (as an
// API process takes one: services/projections/slots.ts), verifies the result against a second,
// independent fold, and prints counts per entity kind, events/s and the state's digest. Exit code 1 when
// verification fails. Run beside a serving API of the previous build, it prepares a slot for the next one:
// the new build's processes then start from it instead of rebuilding (docs/decisions/0042).
//
//   npm run replay

import { auditIndexFile } from "../audit/audit-index.ts";
import { createEventStore } from "../event-store/create-event-store.ts";
import { loadConfigOrExit } from "../platform/config.ts";
import { replay } from "./replay.ts";
import { openProjectionSlot } from "./slots.ts";

async function main(): Promise<number> {
  const config = loadConfigOrExit();
  const store = await createEventStore({
    dataDir: config.dataDir,
    connectionString: config.eventStoreConnectionString ?? "",
  });
  const slot = openProjectionSlot({ root: config.projectionsDir });
  try {
    const auditPath = auditIndexFile(slot.dir);
    const { audit, report } = await replay({ store, readModels: slot.readModels, auditPath });
    audit.close();
    await audit.whenClosed;
    slot.removeStale([auditPath]);
    const { counts } = report;
    const lines = [
      `source:    ${config.eventStoreConnectionString ? "EventStoreDB" : `embedded store in ${config.dataDir}`}`,
      `events:    ${report.events} in ${report.seconds.toFixed(2)} s (${report.eventsPerSec} events/s)`,
      `projects:  ${counts.projects}`,
      `tokens:    ${counts.tokens}`,
      `pipelines: ${counts.pipelines}`,
      `features:  ${counts.features}`,
      `releases:  ${counts.releases} (${counts.releasesInProgress} in progress, ${counts.releasesAwaitingApproval} awaiting approval)`,
      `slot:      ${slot.dir}`,
      `audit:     ${report.auditEvents} events indexed`,
      `digest:    ${report.digest}`,
      `verified:  ${report.verifyDigest === report.digest ? "a second fold of the log gives the same digest" : `MISMATCH (${report.verifyDigest})`}`,
      `problems:  ${report.problems}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    process.stdout.write(`${JSON.stringify({ ...report, ok: report.ok })}\n`);
    return report.ok ? 0 : 1;
  } finally {
    slot.close();
    await store.close();
  }
}

process.exitCode = await main();

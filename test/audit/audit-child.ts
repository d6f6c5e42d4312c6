// A child process for the kill -9 test (persisted.test.ts): builds a file-backed audit index from a
// store's log — resuming after the index's last row, as the runner does — in small batches, and prints
// "committed <count>" each time the worker has indexed and committed what was added, "done <count>" at
// the end.
//
//   node test/audit/audit-child.ts <events.sqlite> <audit.sqlite>

import { createAuditIndex } from "../../services/audit/audit-index.ts";
import { createSqliteEventStore } from "../../services/event-store/sqlite/sqlite-event-store.ts";
import { TEST_LAYOUT, TEST_LOCAL_NAMES } from "./layout.ts";

const [storePath, auditPath] = process.argv.slice(2) as [string, string];
const store = createSqliteEventStore({ path: storePath });
const audit = createAuditIndex({
  store,
  path: auditPath,
  layout: TEST_LAYOUT,
  localNamesMax: TEST_LOCAL_NAMES,
  batchSize: 16,
});
await audit.opened;
let after = audit.lastPosition ?? undefined;
let pages = 0;
for (;;) {
  const page = await store.readAll({ ...(after === undefined ? {} : { after }), maxCount: 50 });
  if (page.length === 0) break;
  for (const event of page) audit.add(event);
  after = page[page.length - 1]?.position;
  if (++pages % 4 === 0) {
    await audit.sync();
    process.stdout.write(`committed ${audit.count}\n`);
  }
}
await audit.sync();
process.stdout.write(`done ${audit.count}\n`);
audit.close();
await audit.whenClosed;
await store.close();

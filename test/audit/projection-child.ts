// A projection process for the crash tests (persisted-projections.test.ts): catches the read models in
// `argv[3]` up on the store in `argv[2]`, committing every `argv[4]` events, and prints one line per commit
// ("committed <events> <position>"), so the parent can kill it -9 between two commits, mid-batch.

import { createSqliteEventStore } from "../../services/event-store/sqlite/sqlite-event-store.ts";
import { ReadModels } from "../../services/projections/read-models.ts";
import { startProjections } from "../../services/projections/runner.ts";

const [storePath, readModelsPath, every] = process.argv.slice(2) as [string, string, string];
const store = createSqliteEventStore({ path: storePath });
// Slowed down, so that the parent's kill lands while events are applied but not committed yet.
const readPage = store.readAllStored.bind(store);
store.readAllStored = async (options) => {
  await new Promise((resolve) => setTimeout(resolve, 15));
  return readPage(options);
};
const readModels = new ReadModels({ path: readModelsPath, cacheEntries: 100 });
const commit = readModels.commit.bind(readModels);
readModels.commit = () => {
  commit();
  process.stdout.write(`committed ${readModels.eventCount} ${readModels.checkpoint}\n`);
};
const runner = startProjections({ store, readModels, commitEvery: Number(every) });
await runner.ready;
process.stdout.write("ready\n");
await runner.close();
readModels.close();
await store.close();

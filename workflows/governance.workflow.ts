// A freeze with an end (`freezeProject(until:)`) ends by itself: this workflow (id
// `freeze-end-<projectId>-<since>`, one per freeze) sleeps until `until`, then stores ProjectUnfrozen
// (expired, by "system") unless the freeze was lifted or replaced meanwhile — so the end is an event
// and a webhook event like any other. Release workflows do not wait for it: they compare `until` with
// their own clock. Started by the worker's governance follower (workflows/governance-follower.ts).

import { proxyActivities, sleep } from "@temporalio/workflow";
import type { GovernanceActivities } from "./governance-activities.ts";

const { endFreeze } = proxyActivities<GovernanceActivities>({
  startToCloseTimeout: "10 seconds",
  retry: { initialInterval: "1 second", backoffCoefficient: 2, maximumInterval: "1 minute" },
});

export interface FreezeEndInput {
  projectId: string;
  /** The freeze's start: identifies it (a later freeze is another one). */
  since: string;
  until: string;
}

export async function freezeEndWorkflow(input: FreezeEndInput): Promise<boolean> {
  const wait = Date.parse(input.until) - Date.now();
  if (wait > 0) await sleep(wait);
  return endFreeze({ projectId: input.projectId, since: input.since, now: new Date(Date.now()).toISOString() });
}

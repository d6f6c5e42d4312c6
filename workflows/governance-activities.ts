// The freeze-end workflow's I/O: the project decider's EndFreeze on the project's stream.

import { streams } from "../services/core/streams.ts";
import { handleCommand } from "../services/event-store/command-handler.ts";
import type { EventStore } from "../services/event-store/port.ts";
import { projectDecider } from "../services/project/project.ts";
import { toActivityFailure } from "./activities.ts";

export interface GovernanceActivities {
  /** Ends the freeze that began at `since` if its `until` passed by `now`; whether an event was stored. */
  endFreeze(input: { projectId: string; since: string; now: string }): Promise<boolean>;
}

export function createGovernanceActivities({ store }: { store: EventStore }): GovernanceActivities {
  return {
    async endFreeze({ projectId, since, now }) {
      try {
        const result = await handleCommand(store, projectDecider, {
          stream: streams.project(projectId),
          command: { type: "EndFreeze", data: { projectId, since }, actor: { name: "system", role: "ADMIN" }, now },
          metadata: { actor: "system", occurredAt: now, correlationId: projectId, causationId: null, projectId },
        });
        return result.appended.length > 0;
      } catch (error) {
        throw toActivityFailure(error);
      }
    },
  };
}

// Who may act on a release through a Temporal Signal. A signal arrives from anyone who can reach the
// Temporal frontend (the CLI, a chat bot), with the actor written in its payload: the name must be an
// existing, unrevoked, unexpired API token, seen by the project of the release, and the role that counts
// is the token's, not the payload's. The name is the token's own spelling (matched case-insensitively,
// NFKC), so "Amy" and "amy" are one approver and a made-up "anyone" is no one.
//
// Read from the token streams (the same events the API's read model is built from): one catch-up read
// per lookup, continuing from where the previous lookup stopped, so a token created or revoked a moment
// ago is seen and a lookup costs only the events since the last one.

import type { Actor, Role } from "../services/core/model.ts";
import { streams } from "../services/core/streams.ts";
import type { EventStore } from "../services/event-store/port.ts";

/** NFKC, trimmed, case-folded (upper then lower), NFKC again: two names are one person iff equal. */
export function normalizeActorName(name: string): string {
  return name.normalize("NFKC").trim().toUpperCase().toLowerCase().normalize("NFKC");
}

interface TokenEntry {
  name: string;
  role: Role;
  projectId: string | null;
  revoked: boolean;
  expiresAt: string | null;
}

export type ResolvedActor = { ok: true; actor: Actor } | { ok: false; code: "FORBIDDEN"; message: string };

export interface TokenDirectory {
  /** The token an action's actor names, checked for the release's project at `at`. */
  resolve(name: string, projectId: string, at: string): Promise<ResolvedActor>;
}

export function createTokenDirectory(store: EventStore): TokenDirectory {
  const byId = new Map<string, TokenEntry>();
  const idByName = new Map<string, string>();
  let position: string | undefined;
  let queue: Promise<void> = Promise.resolve();

  const apply = (type: string, data: Record<string, unknown>): void => {
    const tokenId = String(data.tokenId);
    if (type === "ApiTokenCreated") {
      const entry: TokenEntry = {
        name: String(data.name),
        role: data.role as Role,
        projectId: typeof data.projectId === "string" ? data.projectId : null,
        revoked: false,
        expiresAt: typeof data.expiresAt === "string" ? data.expiresAt : null,
      };
      byId.set(tokenId, entry);
      idByName.set(normalizeActorName(entry.name), tokenId);
    } else if (type === "ApiTokenRevoked") {
      const entry = byId.get(tokenId);
      if (entry) entry.revoked = true;
    }
  };

  const catchUp = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let settled = false;
      const subscription = store.subscribeToAll({
        ...(position !== undefined && { after: position }),
        filter: { streamPrefixes: [streams.token("")], eventTypes: ["ApiTokenCreated", "ApiTokenRevoked"] },
        onEvent: (event) => {
          apply(event.type, event.data as Record<string, unknown>);
          position = event.position;
        },
        onCaughtUp: () => {
          if (settled) return;
          settled = true;
          subscription.close().then(resolve, reject);
        },
        onError: (error) => {
          if (settled) return;
          settled = true;
          reject(error);
        },
      });
    });

  return {
    async resolve(name, projectId, at) {
      // One catch-up at a time: each continues from the position the previous one reached.
      const read = queue.then(catchUp);
      queue = read.catch(() => undefined);
      await read;
      const refused = (why: string): ResolvedActor => ({
        ok: false,
        code: "FORBIDDEN",
        message: `actor "${name}" ${why}: a signal must name an existing API token with the role the action needs`,
      });
      const id = idByName.get(normalizeActorName(name));
      const token = id === undefined ? undefined : byId.get(id);
      if (token === undefined) return refused("is not an API token");
      if (token.revoked) return refused("is a revoked API token");
      if (token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.parse(at)) {
        return refused("is an expired API token");
      }
      // Another project's token: refused like a name that does not exist (no hint that it does).
      if (token.projectId !== null && token.projectId !== projectId) return refused("is not an API token");
      return { ok: true, actor: { name: token.name, role: token.role } };
    },
  };
}

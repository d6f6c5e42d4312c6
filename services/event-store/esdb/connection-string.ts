// EventStoreDB / KurrentDB connection strings, as EVENTSTORE_CONNECTION_STRING takes them:
//
//   single node, no TLS (local, Compose):  esdb://localhost:2113?tls=false
//   cluster, TLS with a private CA:        esdb://admin:changeit@node1:2113,node2:2113,node3:2113?tls=true&tlsCAFile=/etc/esdb/ca.crt&nodePreference=leader
//   cluster found through DNS (gossip):    esdb+discover://admin:changeit@cluster.internal:2113?tls=true&nodePreference=leader
//   client certificate instead of a user:  esdb://node1:2113,node2:2113,node3:2113?tls=true&tlsCAFile=/etc/esdb/ca.crt&userCertFile=/etc/esdb/user.crt&userKeyFile=/etc/esdb/user.key
//   KurrentDB's own scheme:                kurrentdb://… and kurrentdb+discover://… (same format)
//
// The client (@eventstore/db-client) parses the string when the store is created — a typo, an unknown
// option or a CA file that cannot be read stops the process at start — and connects on first use.
// KurrentDB (EventStoreDB's new name) speaks the same protocol; its documentation writes `kurrentdb://`,
// which this client predates, so those schemes are rewritten to the equivalent `esdb` ones.

import { EventStoreDBClient } from "@eventstore/db-client";
import { validation } from "../../core/errors.ts";

const SCHEMES: Record<string, string> = {
  "kurrentdb://": "esdb://",
  "kurrentdb+discover://": "esdb+discover://",
  "kurrent://": "esdb://",
  "kurrent+discover://": "esdb+discover://",
};

/** The string the client understands: `kurrentdb[+discover]://` → `esdb[+discover]://`, trimmed. */
export function normalizeConnectionString(connectionString: string): string {
  const trimmed = connectionString.trim();
  for (const [from, to] of Object.entries(SCHEMES)) {
    if (trimmed.toLowerCase().startsWith(from)) return to + trimmed.slice(from.length);
  }
  return trimmed;
}

/** Hides the password: esdb://admin:secret@host → esdb://admin:***@host. */
export function redactConnectionString(connectionString: string): string {
  return connectionString.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

/**
 * The real client for a connection string (lazy: nothing connects yet). A string the client refuses is
 * a VALIDATION error naming EVENTSTORE_CONNECTION_STRING and the client's reason, password hidden.
 */
export function clientFromConnectionString(connectionString: string): EventStoreDBClient {
  const normalized = normalizeConnectionString(connectionString);
  try {
    return EventStoreDBClient.connectionString(normalized);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw validation(
      "EVENTSTORE_CONNECTION_STRING",
      `EventStoreDB connection string refused: ${redactConnectionString(reason.split(normalized).join(redactConnectionString(normalized)))}`,
    );
  }
}

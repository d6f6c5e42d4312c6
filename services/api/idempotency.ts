// Idempotency-Key, as payment APIs use it: a key names ONE request. A retry of that request (same
// operation, same arguments) is applied once and answered the same; the same key sent with a different
// request (another action, another release, another reason) is refused with CONFLICT instead of being
// answered as the first one — the client has a bug, and guessing which request it meant is worse.
//
// Keys are scoped to the token (two clients may pick the same key) and remembered for 24 hours, in this
// API process (bounded: the oldest are forgotten first). After a restart a reused key is still never
// applied twice — the Temporal Update id derives from the token, the release and the key alone — but a
// mismatch is then answered as the first request rather than refused (docs/decisions/0035). Used by the
// release slice's actions (services/release/commands.ts), wired in services/api/commands.ts.

import { createHash } from "node:crypto";
import { DomainError } from "../core/errors.ts";
import type { IdempotencyGuard } from "../release/commands.ts";

export interface IdempotencyGuardOptions {
  /** How long a key is remembered (default 24 h). */
  ttlMs?: number;
  /** How many keys are remembered at most (default 100 000; the oldest go first). */
  maxKeys?: number;
  now?: () => number;
}

const fingerprint = (request: { operation: string; arguments: Record<string, unknown> }): string =>
  createHash("sha256")
    .update(
      JSON.stringify([
        request.operation,
        Object.entries(request.arguments)
          .filter(([, value]) => value !== undefined && value !== null)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      ]),
    )
    .digest("hex");

export function createIdempotencyGuard(options: IdempotencyGuardOptions = {}): IdempotencyGuard {
  const ttlMs = options.ttlMs ?? 24 * 3_600_000;
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? Date.now;
  // Insertion order is age order: the first entries are the oldest.
  const seen = new Map<string, { fingerprint: string; operation: string; at: number }>();

  return {
    claim(tokenId, key, request) {
      const at = now();
      for (const [scope, entry] of seen) {
        if (seen.size <= maxKeys && at - entry.at < ttlMs) break;
        seen.delete(scope);
      }
      const scope = `${tokenId}\u0000${key}`;
      const print = fingerprint(request);
      const earlier = seen.get(scope);
      if (earlier === undefined || at - earlier.at >= ttlMs) {
        seen.delete(scope);
        seen.set(scope, { fingerprint: print, operation: request.operation, at });
        return;
      }
      if (earlier.fingerprint !== print) {
        throw new DomainError(
          "CONFLICT",
          `Idempotency-Key "${key}" was already used for a different request (${earlier.operation}); a retry must repeat the same request, and a new request needs a new key`,
          "Idempotency-Key",
        );
      }
    },
  };
}

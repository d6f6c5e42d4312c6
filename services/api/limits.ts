// Request limits: per-token rate limiting (a steady rate plus a burst allowance) and the body size cap.
// Depth, cost and token-count limits are graphql-armor plugins wired in app.ts.

import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { DomainError } from "../core/errors.ts";

export interface RateLimitOptions {
  /** Sustained requests per second per token (default 50). */
  perSecond: number;
  /** Requests a token may make at once before the steady rate applies (default 100, >= perSecond). */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 50, burst: 100 };
/** Request bodies above this are refused with 413 (1 MB). */
export const DEFAULT_MAX_BODY_BYTES = 1_000_000;

export interface RateLimiter {
  /** Resolves when `key` may make one more request; throws RATE_LIMITED (with retryAfterMs) otherwise. */
  consume(key: string): Promise<void>;
}

export class RateLimitedError extends DomainError {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super("RATE_LIMITED", `Too many requests: retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s.`);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * `perSecond` requests per second, plus up to `burst - perSecond` more drawn from a burst allowance that
 * refills over `burst / perSecond` seconds (rate-limiter-flexible's BurstyRateLimiter).
 */
export function createRateLimiter(options: RateLimitOptions = DEFAULT_RATE_LIMIT): RateLimiter {
  const perSecond = Math.max(1, Math.floor(options.perSecond));
  const extra = Math.max(0, Math.floor(options.burst) - perSecond);
  const steady = new RateLimiterMemory({ keyPrefix: "steady", points: perSecond, duration: 1 });
  const limiter =
    extra > 0
      ? new BurstyRateLimiter(
          steady,
          new RateLimiterMemory({
            keyPrefix: "burst",
            points: extra,
            duration: Math.max(1, Math.ceil(extra / perSecond)),
          }),
        )
      : steady;
  return {
    async consume(key) {
      try {
        await limiter.consume(key, 1);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) throw new RateLimitedError(rejection.msBeforeNext);
        throw rejection;
      }
    },
  };
}

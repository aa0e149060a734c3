import type { Logger, Pool } from "@sovd/platform";
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { AuthConfig } from "./config.js";
import type { RateLimitScope } from "./method-rules.js";

/** A call over its rate limit; the RPC edge answers `resource_exhausted` with a retry hint. */
export class RateLimitedError extends Error {
  override readonly name = "RateLimitedError";
  constructor(
    readonly scope: RateLimitScope,
    /** Whole seconds until the window frees a slot (at least 1). */
    readonly retryAfterSeconds: number,
  ) {
    super(`rate limit exceeded, retry in ${retryAfterSeconds} s`);
  }
}

/** Counts calls per scope and key (a user id, or username + address for logins). */
export interface RateLimits {
  /** Resolves when the call may go ahead; RateLimitedError when the key used up its minute. */
  consume(scope: RateLimitScope, key: string): Promise<void>;
  /** Deletes counters whose window ended long ago (housekeeping). */
  purgeExpired(before: Date): Promise<void>;
}

/** The table of platform/migrations/*_rate-limits.sql. */
export const RATE_LIMIT_TABLE = "rate_limits";

const WINDOW_SECONDS = 60;
const MAX_KEY_LENGTH = 200;

/**
 * Fixed one-minute windows kept in PostgreSQL (rate-limiter-flexible's RateLimiterPostgres,
 * one atomic upsert per call on the shared pool), so the limits hold across gateway
 * instances, as §13's stateless gateways need. If the database cannot be reached, each
 * instance falls back to an in-memory limiter with the same limits (the library's
 * insurance limiter) instead of refusing every call.
 * Time comes from `Date.now()` inside the library; tests move it with fake timers.
 */
export function createRateLimits(opts: { pool: Pool; limits: AuthConfig["rateLimits"]; logger: Logger }): RateLimits {
  const points: Record<RateLimitScope, number> = {
    login: opts.limits.loginPerMin,
    refresh: opts.limits.otherPerMin,
    submit: opts.limits.submitPerMin,
    other: opts.limits.otherPerMin,
  };
  const limiters = new Map<RateLimitScope, RateLimiterAbstract>();
  for (const scope of Object.keys(points) as RateLimitScope[]) {
    const common = { keyPrefix: scope, points: points[scope], duration: WINDOW_SECONDS };
    limiters.set(
      scope,
      new RateLimiterPostgres({
        ...common,
        storeClient: opts.pool,
        storeType: "pool",
        tableName: RATE_LIMIT_TABLE,
        tableCreated: true,
        clearExpiredByTimeout: false,
        insuranceLimiter: new RateLimiterMemory(common),
      }),
    );
  }
  return {
    async consume(scope, key) {
      const limiter = limiters.get(scope)!;
      try {
        await limiter.consume(key.slice(0, MAX_KEY_LENGTH));
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          throw new RateLimitedError(scope, Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
        }
        // Both the store and the insurance failed: do not lock everybody out over a counter.
        opts.logger.error({ err: rejection, scope }, "rate limiter failed; call allowed");
      }
    },
    async purgeExpired(before) {
      await opts.pool.query(`DELETE FROM ${RATE_LIMIT_TABLE} WHERE expire < $1`, [before.getTime()]);
    },
  };
}

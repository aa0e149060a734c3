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
  /** Adds this instance's new calls to the shared counters and learns the others' now (the timer does it every RATE_LIMIT_SYNC_MS). */
  sync(): Promise<void>;
  /** Stops the background sync (after one last flush). */
  close(): Promise<void>;
}

/** The table of platform/migrations/*_rate-limits.sql. */
export const RATE_LIMIT_TABLE = "rate_limits";

const WINDOW_SECONDS = 60;
const WINDOW_MS = WINDOW_SECONDS * 1000;
const MAX_KEY_LENGTH = 200;
/** How often an instance adds its calls to the shared counters and learns the others'. */
export const RATE_LIMIT_SYNC_MS = 250;

/** Scopes counted exactly in the database on every call: few calls, and they guard credentials. */
const EXACT: ReadonlySet<RateLimitScope> = new Set(["login", "refresh"]);

interface Window {
  /** End of the window, epoch ms: a minute after its first call, or the shared window's end once synced. */
  expires: number;
  /** Calls this instance let through in the window. */
  mine: number;
  /** Of those, not yet added to the shared counter. */
  unsynced: number;
  /** Calls other instances let through, as of the last sync. */
  others: number;
}

/**
 * One-minute windows (from a key's first call) shared by every gateway instance through
 * PostgreSQL, so a limit holds behind a load balancer.
 *
 * - `login` and `refresh` are counted exactly: one atomic upsert per call
 *   (rate-limiter-flexible's RateLimiterPostgres), with an in-memory insurance limiter if
 *   the database cannot be reached.
 * - `submit` and `other` are on every authenticated RPC, so they are decided in memory and
 *   synced off the hot path: every RATE_LIMIT_SYNC_MS one statement adds this instance's new
 *   calls to the shared counters of the keys it saw this minute and reads back the totals. Exactness: one instance alone is
 *   exact; with N instances a user can get at most the calls the other N-1 let through in
 *   one sync interval above the limit (each learns the others' counts within 250 ms). If
 *   the database is away, each instance keeps enforcing its own count.
 *
 * Time comes from `Date.now()`; tests move it with fake timers.
 */
export function createRateLimits(opts: { pool: Pool; limits: AuthConfig["rateLimits"]; logger: Logger; syncMs?: number }): RateLimits {
  const points: Record<RateLimitScope, number> = {
    login: opts.limits.loginPerMin,
    refresh: opts.limits.otherPerMin,
    submit: opts.limits.submitPerMin,
    other: opts.limits.otherPerMin,
  };
  const exact = new Map<RateLimitScope, RateLimiterAbstract>();
  for (const scope of EXACT) {
    const common = { keyPrefix: scope, points: points[scope], duration: WINDOW_SECONDS };
    exact.set(
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

  /** In-memory windows of the synced scopes, by `scope:key`. */
  const windows = new Map<string, Window>();
  const windowOf = (id: string, now: number): Window => {
    let w = windows.get(id);
    if (!w || w.expires <= now) windows.set(id, (w = { expires: now + WINDOW_MS, mine: 0, unsynced: 0, others: 0 }));
    return w;
  };

  let syncing: Promise<void> | undefined;
  const sync = async (): Promise<void> => {
    const now = Date.now();
    const batch: { id: string; w: Window; added: number }[] = [];
    for (const [id, w] of windows) {
      // Every live window, also one with nothing new: its instance learns the others' calls.
      if (w.expires <= now) windows.delete(id);
      else batch.push({ id, w, added: w.unsynced });
    }
    if (batch.length === 0) return;
    for (const b of batch) b.w.unsynced = 0;
    try {
      // The same rows as the exact scopes: a live window adds up, an ended one starts again.
      const { rows } = await opts.pool.query<{ key: string; points: number; expire: number }>(
        `INSERT INTO ${RATE_LIMIT_TABLE} AS r (key, points, expire)
         SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[])
         ON CONFLICT (key) DO UPDATE SET
           points = CASE WHEN r.expire > $4 THEN r.points + excluded.points ELSE excluded.points END,
           expire = CASE WHEN r.expire > $4 THEN r.expire ELSE excluded.expire END
         RETURNING key, points, expire`,
        [batch.map((b) => b.id), batch.map((b) => b.added), batch.map((b) => b.w.expires), now],
      );
      const shared = new Map(rows.map((r) => [r.key, r]));
      for (const b of batch) {
        const row = shared.get(b.id);
        if (!row) continue;
        // Adopt the shared window (another instance may have opened it first) and learn the others' calls.
        b.w.expires = row.expire;
        b.w.others = Math.max(0, row.points - (b.w.mine - b.w.unsynced));
      }
    } catch (err) {
      for (const b of batch) b.w.unsynced += b.added;
      opts.logger.warn({ err }, "rate limit counters could not be synced; limits enforced per instance meanwhile");
    }
  };
  const syncOnce = (): Promise<void> =>
    (syncing ??= sync().finally(() => {
      syncing = undefined;
    }));
  const timer = setInterval(() => void syncOnce(), opts.syncMs ?? RATE_LIMIT_SYNC_MS);
  timer.unref();

  return {
    async consume(scope, key) {
      const id = key.slice(0, MAX_KEY_LENGTH);
      const limiter = exact.get(scope);
      if (!limiter) {
        const now = Date.now();
        const w = windowOf(`${scope}:${id}`, now);
        if (w.mine + w.others >= points[scope]) {
          throw new RateLimitedError(scope, Math.max(1, Math.ceil((w.expires - now) / 1000)));
        }
        w.mine++;
        w.unsynced++;
        return;
      }
      try {
        await limiter.consume(id);
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
    async sync() {
      await syncing;
      await syncOnce();
    },
    async close() {
      clearInterval(timer);
      await syncing;
      await sync();
    },
  };
}

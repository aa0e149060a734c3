import type { Interceptor, ServiceImpl } from "@connectrpc/connect";
import type { Logger, Pool, Registry } from "@sovd/platform";
import type { AuthService } from "@sovd/proto";
import { createAccessTokens } from "./access-token.js";
import { createAuthMetrics } from "./auth-metrics.js";
import { createAuthService } from "./auth-service.js";
import { createAuthenticator } from "./authenticator.js";
import type { AuthConfig } from "./config.js";
import { createAuthInterceptor } from "./interceptor.js";
import type { Principal } from "./principal.js";
import { createRateLimits } from "./rate-limits.js";
import { createRefreshTokens } from "./refresh-tokens.js";
import { createStreamTickets } from "./stream-tickets.js";
import { createUserDirectory } from "./user-directory.js";

/** What the gateway needs from auth: one interceptor, AuthService, the WebSocket check. */
export interface Auth {
  /** Goes on every Connect route (connectNodeAdapter `interceptors`). */
  interceptor: Interceptor;
  /** Login, refresh, logout, who-am-i, stream tickets. */
  authService: ServiceImpl<typeof AuthService>;
  /** WebSocket bridge: a JWT (?token=) or a single-use stream ticket (?ticket=) -> Principal; throws InvalidTokenError. */
  authenticateStream(credential: { token?: string; ticket?: string }, commandId: string): Promise<Principal>;
  /** Stops the housekeeping timer. The pool belongs to the caller and stays open. */
  close(): Promise<void>;
}

/** Dependencies of createAuth; `now` lets tests move token and ticket expiry. */
export interface AuthDeps {
  pool: Pool;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
}

const HOUSEKEEPING_INTERVAL_MS = 5 * 60_000;
const HOUR_MS = 3600_000;

/**
 * Builds the gateway's auth (architecture §7 "Gateway HTTP") on the shared pool. Starts
 * nothing but an unref'd housekeeping timer that deletes expired tickets, refresh tokens and
 * rate limit counters.
 */
export function createAuth(config: AuthConfig, deps: AuthDeps): Auth {
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger.child({ component: "auth" });
  if (config.jwtSecretGenerated) {
    logger.warn("JWT_SECRET is not set: using a random secret generated for this development process; sessions end when it restarts");
  }
  const metrics = createAuthMetrics(deps.registry);
  const accessTokens = createAccessTokens({ secret: config.jwtSecret, ttlSeconds: config.accessTokenTtlSeconds, now });
  const users = createUserDirectory({ pool: deps.pool, ttlMs: config.userCacheTtlMs, now });
  const streamTickets = createStreamTickets({ pool: deps.pool, ttlSeconds: config.streamTicketTtlSeconds, now });
  const refreshTokens = createRefreshTokens({ pool: deps.pool, ttlSeconds: config.refreshTokenTtlSeconds, now });
  const rateLimits = createRateLimits({ pool: deps.pool, limits: config.rateLimits, logger });
  const authenticator = createAuthenticator({ accessTokens, users, streamTickets, metrics });

  const housekeeping = setInterval(() => {
    const hourAgo = new Date(now().getTime() - HOUR_MS);
    void (async () => {
      await streamTickets.purgeExpired(hourAgo);
      await rateLimits.purgeExpired(new Date(Date.now() - HOUR_MS));
      await deps.pool.query("DELETE FROM refresh_tokens WHERE expires_at < $1", [new Date(now().getTime() - 24 * HOUR_MS)]);
    })().catch((err: unknown) => logger.warn({ err }, "auth housekeeping failed"));
  }, HOUSEKEEPING_INTERVAL_MS);
  housekeeping.unref();

  return {
    interceptor: createAuthInterceptor({ authenticator, rateLimits, metrics, logger }),
    authService: createAuthService({ pool: deps.pool, logger, metrics, accessTokens, refreshTokens, streamTickets }),
    authenticateStream: (credential, commandId) => authenticator.fromStreamCredential(credential, commandId),
    async close() {
      clearInterval(housekeeping);
      await rateLimits.close();
    },
  };
}

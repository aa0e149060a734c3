import { randomBytes } from "node:crypto";
import { ConfigError, envInt, envOptional, secretEntropyBits, type Env } from "@sovd/platform";

/** Shortest JWT_SECRET accepted: HS256 wants at least 256 bits of key. */
const MIN_JWT_SECRET_LENGTH = 32;

/**
 * Least estimated entropy (secretEntropyBits) of a JWT_SECRET outside development: 32 random
 * hex digits pass, "a" x 32 or a word repeated to length do not.
 */
export const MIN_JWT_SECRET_BITS = 96;

/** Auth settings of one gateway (architecture §4 "Environment variables"), read once at start. */
export interface AuthConfig {
  /** HS256 key of access tokens. Never logged (the logger redacts `jwtSecret`). */
  readonly jwtSecret: string;
  /** True when development generated the secret: tokens die with the process; createAuth warns. */
  readonly jwtSecretGenerated: boolean;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly streamTicketTtlSeconds: number;
  /** How long the interceptor trusts a cached "user exists, is active, has role X" lookup. */
  readonly userCacheTtlMs: number;
  readonly rateLimits: {
    /** Login attempts per minute per username + client address. */
    readonly loginPerMin: number;
    /** SubmitCommand calls per minute per user. */
    readonly submitPerMin: number;
    /** Every other call per minute per user (Refresh: per client address). */
    readonly otherPerMin: number;
  };
}

/**
 * Reads the auth settings. JWT_SECRET is required outside NODE_ENV=development and must be
 * at least 32 characters, and outside development not low-entropy (architecture §4
 * "Environment variables"); development without one gets a random secret (tokens then do not
 * survive a restart, and createAuth logs a warning saying so).
 */
export function loadAuthConfig(env: Env): AuthConfig {
  const secret = envOptional(env, "JWT_SECRET");
  const development = env.NODE_ENV === "development";
  if (secret !== undefined && secret.length < MIN_JWT_SECRET_LENGTH) {
    throw new ConfigError(`JWT_SECRET must be at least ${MIN_JWT_SECRET_LENGTH} characters, got ${secret.length}`);
  }
  if (secret !== undefined && !development && secretEntropyBits(secret) < MIN_JWT_SECRET_BITS) {
    throw new ConfigError(
      `JWT_SECRET is too predictable for NODE_ENV=${env.NODE_ENV ?? "production"} (repeated or few distinct characters); use a random string, e.g. \`openssl rand -base64 48\``,
    );
  }
  if (secret === undefined && !development) {
    throw new ConfigError(
      `JWT_SECRET is required outside NODE_ENV=development (a random string of at least ${MIN_JWT_SECRET_LENGTH} characters, e.g. \`openssl rand -base64 48\`)`,
    );
  }
  const perMin = (name: string, fallback: number) => envInt(env, name, fallback, { min: 1, max: 1_000_000 });
  return Object.freeze({
    jwtSecret: secret ?? randomBytes(48).toString("base64url"),
    jwtSecretGenerated: secret === undefined,
    accessTokenTtlSeconds: envInt(env, "ACCESS_TOKEN_TTL_SECONDS", 900, { min: 10, max: 86_400 }),
    refreshTokenTtlSeconds: envInt(env, "REFRESH_TOKEN_TTL_SECONDS", 7 * 24 * 3600, { min: 60, max: 90 * 24 * 3600 }),
    streamTicketTtlSeconds: envInt(env, "STREAM_TICKET_TTL_SECONDS", 30, { min: 1, max: 3600 }),
    userCacheTtlMs: envInt(env, "AUTH_USER_CACHE_MS", 5_000, { min: 0, max: 300_000 }),
    rateLimits: Object.freeze({
      loginPerMin: perMin("RATE_LIMIT_LOGIN_PER_MIN", 5),
      submitPerMin: perMin("RATE_LIMIT_SUBMIT_PER_MIN", 10),
      otherPerMin: perMin("RATE_LIMIT_OTHER_PER_MIN", 100),
    }),
  });
}

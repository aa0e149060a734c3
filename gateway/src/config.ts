import { fileURLToPath } from "node:url";
import { loadCommandTimeouts, type CommandTimeouts } from "@sovd/domain";
import { ConfigError, envBool, envInt, envLogLevel, envOptional, envUrl, type Env, type LogLevel } from "@sovd/platform";
import { loadAuthConfig, type AuthConfig } from "./auth/index.js";
import type { CommandLimits } from "./commands/submit.js";
import type { DispatchConfig } from "./commands/dispatcher.js";
import type { WsBridgeConfig } from "./ws/index.js";

/** The Vite dev server, the one cross-origin caller development allows by default. */
export const VITE_DEV_ORIGIN = "http://localhost:5173";

/** The built web app of this repository (web/dist). */
const DEFAULT_WEB_DIST_DIR = fileURLToPath(new URL("../../web/dist", import.meta.url));

/**
 * Everything the gateway reads from the environment, validated once at start
 * (architecture §4 "Environment variables").
 */
export interface GatewayConfig {
  readonly port: number;
  readonly host: string;
  readonly nodeEnv: string;
  /** NODE_ENV=development: seed users and vehicles, generated JWT secret, Vite origin allowed. */
  readonly development: boolean;
  readonly auth: AuthConfig;
  /** Origins allowed to call the API from a browser (CORS_ORIGINS). */
  readonly corsOrigins: readonly string[];
  readonly webDistDir: string;
  readonly commandTimeouts: CommandTimeouts;
  readonly dispatch: DispatchConfig;
  readonly breaker: { readonly failureThreshold: number; readonly cooldownMs: number };
  readonly ws: WsBridgeConfig;
  readonly limits: CommandLimits;
  /** Largest request message accepted by the RPC routes. */
  readonly readMaxBytes: number;
  /** Take the client address from X-Forwarded-For / X-Forwarded-Proto (behind a trusted proxy only). */
  readonly trustProxy: boolean;
  /** How long shutdown lets open requests and dispatches finish. */
  readonly shutdownGraceMs: number;
  /** How often this gateway too fails open commands past their deadline (SWEEP_INTERVAL_MS, as the connector). */
  readonly sweepIntervalMs: number;
  /** The first admin outside development (INITIAL_ADMIN_USERNAME + INITIAL_ADMIN_PASSWORD), if both are set. */
  readonly initialAdmin: { readonly username: string; readonly password: string } | undefined;
}

/** What `npm run gateway` (main.ts) reads besides the gateway's own settings: where the database and NATS are, and logging. */
export interface GatewayProcessConfig {
  readonly gateway: GatewayConfig;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
}

function origins(env: Env, development: boolean): string[] {
  const raw = envOptional(env, "CORS_ORIGINS");
  if (raw === undefined) return development ? [VITE_DEV_ORIGIN] : [];
  return raw
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "")
    .map((o) => {
      let url: URL;
      try {
        url = new URL(o);
      } catch {
        throw new ConfigError(`CORS_ORIGINS must be a comma-separated list of origins like https://app.example.com, got "${o}"`);
      }
      if ((url.protocol !== "http:" && url.protocol !== "https:") || url.origin !== o.replace(/\/$/, "")) {
        throw new ConfigError(`CORS_ORIGINS entries must be bare http(s) origins (scheme://host[:port]), got "${o}"`);
      }
      return url.origin;
    });
}

/** Reads and validates the gateway's configuration; ConfigError naming the variable otherwise. */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const nodeEnv = envOptional(env, "NODE_ENV") ?? "production";
  const development = nodeEnv === "development";
  const adminUser = envOptional(env, "INITIAL_ADMIN_USERNAME");
  const adminPassword = envOptional(env, "INITIAL_ADMIN_PASSWORD");
  if ((adminUser === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError("INITIAL_ADMIN_USERNAME and INITIAL_ADMIN_PASSWORD must be set together");
  }
  if (adminPassword !== undefined && adminPassword.length < 12) {
    throw new ConfigError("INITIAL_ADMIN_PASSWORD must be at least 12 characters");
  }
  const maxTimeoutMs = envInt(env, "MAX_TIMEOUT_MS", 600_000, { min: 1000, max: 3_600_000 });
  const shutdownGraceMs = envInt(env, "SHUTDOWN_GRACE_MS", 10_000, { min: 0, max: 120_000 });
  return Object.freeze({
    port: envInt(env, "GATEWAY_PORT", 8080, { min: 0, max: 65_535 }),
    host: envOptional(env, "GATEWAY_HOST") ?? "0.0.0.0",
    nodeEnv,
    development,
    auth: loadAuthConfig(env),
    corsOrigins: Object.freeze(origins(env, development)),
    webDistDir: envOptional(env, "WEB_DIST_DIR") ?? DEFAULT_WEB_DIST_DIR,
    commandTimeouts: loadCommandTimeouts(env),
    sweepIntervalMs: envInt(env, "SWEEP_INTERVAL_MS", 1000, { min: 1, max: 3_600_000 }),
    dispatch: Object.freeze({
      attempts: envInt(env, "DISPATCH_ATTEMPTS", 3, { min: 1, max: 10 }),
      backoffMs: envInt(env, "DISPATCH_BACKOFF_MS", 200, { min: 0, max: 60_000 }),
      requestTimeoutMs: envInt(env, "DISPATCH_REQUEST_TIMEOUT_MS", 2000, { min: 1, max: 60_000 }),
      shutdownGraceMs,
    }),
    breaker: Object.freeze({
      failureThreshold: envInt(env, "BREAKER_FAILURE_THRESHOLD", 5, { min: 1, max: 1000 }),
      cooldownMs: envInt(env, "BREAKER_COOLDOWN_MS", 30_000, { min: 1, max: 3_600_000 }),
    }),
    ws: Object.freeze({
      pingIntervalMs: envInt(env, "WS_PING_INTERVAL_MS", 30_000, { min: 10, max: 600_000 }),
      maxBufferedBytes: envInt(env, "WS_MAX_BUFFERED_BYTES", 1024 * 1024, { min: 1024, max: 256 * 1024 * 1024 }),
    }),
    limits: Object.freeze({
      maxTimeoutMs,
      maxQueueTtlMs: envInt(env, "MAX_QUEUE_TTL_MS", 86_400_000, { min: 1000, max: 7 * 86_400_000 }),
    }),
    readMaxBytes: envInt(env, "GATEWAY_READ_MAX_BYTES", 64 * 1024, { min: 1024, max: 16 * 1024 * 1024 }),
    trustProxy: envBool(env, "TRUST_PROXY", false),
    shutdownGraceMs,
    initialAdmin: adminUser && adminPassword ? Object.freeze({ username: adminUser, password: adminPassword }) : undefined,
  });
}

/**
 * The configuration of the gateway running alone (main.ts), as the connector's
 * loadConnectorProcessConfig: DATABASE_URL and NATS_URL are required there, while the
 * all-in-one and the tests hand startGateway their own pool and bus.
 */
export function loadGatewayProcessConfig(env: Env): GatewayProcessConfig {
  const databaseUrl = envUrl(env, "DATABASE_URL", ["postgres:", "postgresql:"]);
  if (databaseUrl === undefined) throw new ConfigError("DATABASE_URL is required when the gateway runs alone");
  const natsUrl = envUrl(env, "NATS_URL", ["nats:", "tls:", "ws:", "wss:"]);
  if (natsUrl === undefined) throw new ConfigError("NATS_URL is required when the gateway runs alone");
  return Object.freeze({
    gateway: loadGatewayConfig(env),
    databaseUrl,
    natsUrl,
    logLevel: envLogLevel(env),
    logPretty: envBool(env, "LOG_PRETTY", false),
  });
}

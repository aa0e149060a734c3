import { randomUUID } from "node:crypto";
import { DEVELOPMENT_VEHICLE_SECRET } from "@sovd/link";
import { ConfigError, envBool, envInt, envLogLevel, envOptional, envRate, envString, envUrl, secretEntropyBits, type Env, type LogLevel } from "@sovd/platform";

/** Probabilities of the injected faults (architecture §3 "Execute"); all 0 unless set. */
export interface FaultRates {
  readonly timeout: number;
  readonly unreachable: number;
  readonly malformed: number;
}

/** Everything the connector reads from the environment, validated once at start. */
export interface ConnectorConfig {
  /** gRPC port vehicles dial (0 = any free port, for tests). */
  readonly grpcPort: number;
  /** Ops port: `/metrics`, `/health/live`, `/health/ready`. */
  readonly httpPort: number;
  readonly host: string;
  /** Fleet key vehicle tokens are verified with. */
  readonly vehicleTokenSecret: string;
  readonly faultRates: FaultRates;
  /** Seed of the fault RNG; the same seed gives the same draws. */
  readonly faultSeed: number;
  readonly sweepIntervalMs: number;
  /** Heartbeat interval told to vehicles; 3 intervals without a message close the session. */
  readonly heartbeatIntervalMs: number;
  /** An authenticated vehicle stream that sends no Hello within this is closed (DEADLINE_EXCEEDED). */
  readonly helloTimeoutMs: number;
  /** How long close() lets in-flight commands finish before failing them. */
  readonly drainTimeoutMs: number;
  /** Names this process in session claims and logs. */
  readonly connectorId: string;
}

/** What only `main.ts` needs on top: where the infrastructure is and how to log. */
export interface ConnectorProcessConfig {
  readonly connector: ConnectorConfig;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
}

/** FAULT_SEED may be any text (a number reads naturally); it is hashed to a 32-bit seed. */
export function seedFromText(text: string): number {
  if (/^\d+$/.test(text) && Number(text) <= 0xffffffff) return Number(text);
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/**
 * Least estimated entropy (secretEntropyBits) of VEHICLE_TOKEN_SECRET outside development: a
 * random key of 16 characters or more passes, one character repeated does not.
 */
export const MIN_VEHICLE_SECRET_BITS = 40;

/**
 * Reads the connector's variables (architecture §4 "Environment variables").
 * VEHICLE_TOKEN_SECRET is required unless NODE_ENV=development, which falls back to the
 * development fleet key; outside development the published development key and
 * low-entropy keys are refused.
 */
export function loadConnectorConfig(env: Env): ConnectorConfig {
  const development = env.NODE_ENV === "development";
  const secret = envOptional(env, "VEHICLE_TOKEN_SECRET") ?? (development ? DEVELOPMENT_VEHICLE_SECRET : undefined);
  if (secret === undefined) throw new ConfigError("VEHICLE_TOKEN_SECRET is required (unless NODE_ENV=development)");
  if (!development) {
    if (secret.length < 16) throw new ConfigError("VEHICLE_TOKEN_SECRET must be at least 16 characters");
    const nodeEnv = envOptional(env, "NODE_ENV") ?? "production";
    if (secret === DEVELOPMENT_VEHICLE_SECRET) {
      throw new ConfigError(`VEHICLE_TOKEN_SECRET is the published development fleet key, refused with NODE_ENV=${nodeEnv}; set a random key`);
    }
    if (secretEntropyBits(secret) < MIN_VEHICLE_SECRET_BITS) {
      throw new ConfigError(`VEHICLE_TOKEN_SECRET is too predictable for NODE_ENV=${nodeEnv} (repeated or few distinct characters); set a random key`);
    }
  }
  const seedText = envOptional(env, "FAULT_SEED");
  return Object.freeze({
    grpcPort: envInt(env, "CONNECTOR_GRPC_PORT", 50051, { min: 0, max: 65535 }),
    httpPort: envInt(env, "CONNECTOR_HTTP_PORT", 9091, { min: 0, max: 65535 }),
    host: envString(env, "CONNECTOR_HOST", "0.0.0.0"),
    vehicleTokenSecret: secret,
    faultRates: Object.freeze({
      timeout: envRate(env, "FAULT_TIMEOUT_RATE", 0),
      unreachable: envRate(env, "FAULT_UNREACHABLE_RATE", 0),
      malformed: envRate(env, "FAULT_MALFORMED_RATE", 0),
    }),
    faultSeed: seedText === undefined ? Math.floor(Math.random() * 0xffffffff) : seedFromText(seedText),
    sweepIntervalMs: envInt(env, "SWEEP_INTERVAL_MS", 1000, { min: 1, max: 3_600_000 }),
    heartbeatIntervalMs: envInt(env, "HEARTBEAT_INTERVAL_MS", 10_000, { min: 1, max: 3_600_000 }),
    helloTimeoutMs: envInt(env, "VEHICLE_HELLO_TIMEOUT_MS", 10_000, { min: 10, max: 600_000 }),
    drainTimeoutMs: envInt(env, "DRAIN_TIMEOUT_MS", 10_000, { min: 0, max: 3_600_000 }),
    connectorId: envString(env, "CONNECTOR_ID", `connector-${randomUUID().slice(0, 8)}`),
  });
}

/** The connector's config plus DATABASE_URL / NATS_URL (required when it runs alone) and logging. */
export function loadConnectorProcessConfig(env: Env): ConnectorProcessConfig {
  const databaseUrl = envUrl(env, "DATABASE_URL", ["postgres:", "postgresql:"]);
  if (databaseUrl === undefined) throw new ConfigError("DATABASE_URL is required when the connector runs alone");
  const natsUrl = envUrl(env, "NATS_URL", ["nats:", "tls:", "ws:", "wss:"]);
  if (natsUrl === undefined) throw new ConfigError("NATS_URL is required when the connector runs alone");
  return Object.freeze({
    connector: loadConnectorConfig(env),
    databaseUrl,
    natsUrl,
    logLevel: envLogLevel(env),
    logPretty: envBool(env, "LOG_PRETTY", false),
  });
}

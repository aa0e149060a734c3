import { parseArgs } from "node:util";
import { DEVELOPMENT_VEHICLE_SECRET } from "@sovd/link";
import {
  ConfigError,
  envBool,
  envHostPort,
  envInt,
  envLogLevel,
  envOptional,
  envString,
  type Env,
  type LogLevel,
} from "@sovd/platform";
import type { DelayRange } from "./command-runner.js";
import type { BackoffPolicy } from "./backoff.js";

/**
 * Everything a fleet needs to run, validated once at start
 * (architecture §4 "Environment variables").
 */
export interface FleetConfig {
  /** The connector's gRPC address, `host:port` (CONNECTOR_URL). */
  readonly connectorUrl: string;
  /** The fleet key the vehicle tokens are signed with (VEHICLE_TOKEN_SECRET). */
  readonly vehicleTokenSecret: string;
  /** How many vehicles (`--vehicles N`, FLEET_SIZE). */
  readonly vehicles: number;
  /** Index of the first vehicle (`--first-index N`); 0 and 1 are the seeded development vehicles. */
  readonly firstIndex: number;
  /** Spacing between two chunks of one answer (SIM_CHUNK_INTERVAL_MS). */
  readonly chunkIntervalMs: number;
  /** Network delay before each answer's first chunk (SIM_NETWORK_DELAY_MS, "min-max"). */
  readonly networkDelayMs: DelayRange;
  /** Reconnect backoff (SIM_RECONNECT_INITIAL_MS, SIM_RECONNECT_MAX_MS). */
  readonly reconnect: BackoffPolicy;
  /** A link that got no Welcome this long after dialling is dropped and retried (SIM_HELLO_TIMEOUT_MS). */
  readonly helloTimeoutMs: number;
  /** Pause between two vehicles' first connects, so a big fleet does not dial all at once (SIM_CONNECT_STAGGER_MS). */
  readonly connectStaggerMs: number;
  /** Vehicles sharing one gRPC channel (one HTTP/2 connection) (SIM_VEHICLES_PER_CHANNEL). */
  readonly vehiclesPerChannel: number;
  /** Reported in Hello (SIM_SOFTWARE_VERSION). */
  readonly softwareVersion: string;
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
}

/** The highest fleet index fleetIdentity accepts. */
const MAX_INDEX = 999_999_999;

/** "500-1500" -> {min: 500, max: 1500}; "0" -> {min: 0, max: 0}. */
export function parseDelayRange(name: string, raw: string): DelayRange {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(raw);
  if (!m) throw new ConfigError(`${name} must be "min-max" in milliseconds (e.g. 500-1500), got "${raw}"`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (max < min) throw new ConfigError(`${name} must have min <= max, got "${raw}"`);
  return { min, max };
}

function argInt(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/**
 * Reads the fleet's configuration from the environment and the command line
 * (`npm run fleet -- --vehicles 50 --first-index 0`). Command-line flags win over the
 * environment. Throws ConfigError naming the bad variable or flag.
 */
export function loadFleetConfig(env: Env, argv: readonly string[] = []): FleetConfig {
  let flags: { vehicles?: string; "first-index"?: string; connector?: string };
  try {
    flags = parseArgs({
      args: [...argv],
      options: { vehicles: { type: "string" }, "first-index": { type: "string" }, connector: { type: "string" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(`bad command line: ${(err as Error).message} (usage: --vehicles N [--first-index N] [--connector host:port])`);
  }

  const development = envOptional(env, "NODE_ENV") === "development";
  const vehicleTokenSecret = development
    ? envString(env, "VEHICLE_TOKEN_SECRET", DEVELOPMENT_VEHICLE_SECRET)
    : envString(env, "VEHICLE_TOKEN_SECRET");

  const vehicles = argInt("--vehicles", flags.vehicles, envInt(env, "FLEET_SIZE", 5, { min: 0, max: 100_000 }), 0, 100_000);
  const firstIndex = argInt("--first-index", flags["first-index"], 0, 0, MAX_INDEX);
  if (firstIndex + Math.max(vehicles, 1) - 1 > MAX_INDEX) throw new ConfigError(`--first-index + --vehicles must stay below ${MAX_INDEX + 1}`);

  const connectorUrl =
    flags.connector === undefined ? envHostPort(env, "CONNECTOR_URL", "127.0.0.1:50051") : envHostPort({ "--connector": flags.connector }, "--connector", "");

  const reconnect = {
    initialMs: envInt(env, "SIM_RECONNECT_INITIAL_MS", 500, { min: 1, max: 600_000 }),
    maxMs: envInt(env, "SIM_RECONNECT_MAX_MS", 30_000, { min: 1, max: 3_600_000 }),
  };
  if (reconnect.maxMs < reconnect.initialMs) {
    throw new ConfigError(`SIM_RECONNECT_MAX_MS (${reconnect.maxMs}) must be at least SIM_RECONNECT_INITIAL_MS (${reconnect.initialMs})`);
  }

  return Object.freeze({
    connectorUrl,
    vehicleTokenSecret,
    vehicles,
    firstIndex,
    chunkIntervalMs: envInt(env, "SIM_CHUNK_INTERVAL_MS", 500, { min: 0, max: 60_000 }),
    networkDelayMs: Object.freeze(parseDelayRange("SIM_NETWORK_DELAY_MS", envString(env, "SIM_NETWORK_DELAY_MS", "500-1500"))),
    reconnect: Object.freeze(reconnect),
    helloTimeoutMs: envInt(env, "SIM_HELLO_TIMEOUT_MS", 10_000, { min: 1, max: 600_000 }),
    connectStaggerMs: envInt(env, "SIM_CONNECT_STAGGER_MS", 5, { min: 0, max: 60_000 }),
    vehiclesPerChannel: envInt(env, "SIM_VEHICLES_PER_CHANNEL", 500, { min: 1, max: 100_000 }),
    softwareVersion: envString(env, "SIM_SOFTWARE_VERSION", "sovd-sim/0.1.0"),
    logLevel: envLogLevel(env),
    logPretty: envBool(env, "LOG_PRETTY", false),
  });
}

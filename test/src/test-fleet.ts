import type { CapturedLogs, Env } from "@sovd/platform";
import { loadFleetConfig, startFleet, type Fleet, type FleetConfig } from "@sovd/vehicle-sim";
import { TEST_VEHICLE_SECRET } from "./secrets.js";

/**
 * A vehicle index no other test uses, so vehicle subjects on a shared NATS server never
 * collide between test files running in parallel.
 */
export function uniqueFleetBase(): number {
  return 1_000_000 + Math.floor(Math.random() * 900_000_000);
}

/** What simulated vehicles of a test do unless told otherwise: no network delay, short chunk interval, fast reconnects, no stagger. */
export const TEST_FLEET_ENV: Readonly<Env> = {
  VEHICLE_TOKEN_SECRET: TEST_VEHICLE_SECRET,
  SIM_CHUNK_INTERVAL_MS: "20",
  SIM_NETWORK_DELAY_MS: "0",
  SIM_RECONNECT_INITIAL_MS: "20",
  SIM_RECONNECT_MAX_MS: "200",
  SIM_CONNECT_STAGGER_MS: "0",
};

/** A fleet of simulated vehicles for a test, with its log lines kept for assertions. */
export interface TestFleet extends Fleet, AsyncDisposable {
  readonly config: FleetConfig;
  /** Every log line of this fleet, parsed (level debug). */
  readonly logs: readonly Record<string, unknown>[];
}

/**
 * Starts simulated vehicles that dial a connector on loopback, tuned for tests
 * (TEST_FLEET_ENV, then `env`, then `overrides`), from a fleet index range no other test
 * uses unless `firstIndex` is given. Waits until every vehicle has its Welcome. Dispose
 * (or close) to stop them.
 */
export async function startTestFleet(opts: {
  connectorPort: number;
  /** Where the fleet logs (service vehicle-sim, level debug). */
  logs: CapturedLogs;
  env?: Env;
  vehicles?: number;
  /** Fleet index of the first vehicle; a fresh unique range when absent. */
  firstIndex?: number;
  overrides?: Partial<FleetConfig>;
  onlineTimeoutMs?: number;
}): Promise<TestFleet> {
  const logger = opts.logs.loggerFor("vehicle-sim");
  const instance = logger.bindings().instance as string;
  const config: FleetConfig = Object.freeze({
    ...loadFleetConfig({ ...TEST_FLEET_ENV, ...opts.env, CONNECTOR_URL: `127.0.0.1:${opts.connectorPort}` }, [
      "--vehicles",
      String(opts.vehicles ?? 1),
      "--first-index",
      String(opts.firstIndex ?? uniqueFleetBase()),
    ]),
    ...opts.overrides,
  });
  const fleet = await startFleet(config, { logger });
  try {
    await fleet.waitUntilOnline(opts.onlineTimeoutMs ?? 5000);
  } catch (err) {
    await fleet.close();
    throw err;
  }
  return Object.create(fleet, {
    config: { value: config },
    logs: { get: () => opts.logs.lines.filter((l) => l.instance === instance) },
    [Symbol.asyncDispose]: { value: () => fleet.close() },
  }) as TestFleet;
}

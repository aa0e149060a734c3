import { Writable } from "node:stream";
import { createLogger } from "@sovd/platform";
import { loadFleetConfig, startFleet, type Fleet, type FleetConfig } from "@sovd/vehicle-sim";
import { uniqueFleetBase } from "./test-database.js";

/** A fleet of simulated vehicles for a test, with its log lines kept for assertions. */
export interface TestFleet extends Fleet, AsyncDisposable {
  readonly config: FleetConfig;
  /** Every log line of the fleet, parsed (level debug). */
  readonly logs: readonly Record<string, unknown>[];
}

/**
 * Starts simulated vehicles that dial a connector on loopback, tuned for tests: no network
 * delay, a short chunk interval, millisecond reconnect backoff, no connect stagger, and a
 * fleet index range no other test uses (uniqueFleetBase). Waits until every vehicle has its
 * Welcome. Dispose (or close) to stop them.
 */
export async function startTestFleet(opts: {
  connectorPort: number;
  secret: string;
  vehicles?: number;
  /** Fleet index of the first vehicle; a fresh unique range when absent. */
  firstIndex?: number;
  overrides?: Partial<FleetConfig>;
  onlineTimeoutMs?: number;
}): Promise<TestFleet> {
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const config: FleetConfig = Object.freeze({
    ...loadFleetConfig(
      {
        VEHICLE_TOKEN_SECRET: opts.secret,
        CONNECTOR_URL: `127.0.0.1:${opts.connectorPort}`,
        SIM_CHUNK_INTERVAL_MS: "20",
        SIM_NETWORK_DELAY_MS: "0",
        SIM_RECONNECT_INITIAL_MS: "20",
        SIM_RECONNECT_MAX_MS: "200",
        SIM_CONNECT_STAGGER_MS: "0",
      },
      ["--vehicles", String(opts.vehicles ?? 1), "--first-index", String(opts.firstIndex ?? uniqueFleetBase())],
    ),
    ...opts.overrides,
  });
  const fleet = await startFleet(config, { logger: createLogger({ service: "vehicle-sim", level: "debug", destination }) });
  try {
    await fleet.waitUntilOnline(opts.onlineTimeoutMs ?? 5000);
  } catch (err) {
    await fleet.close();
    throw err;
  }
  return Object.assign(Object.create(fleet) as Fleet, {
    config,
    logs,
    [Symbol.asyncDispose]: () => fleet.close(),
  });
}

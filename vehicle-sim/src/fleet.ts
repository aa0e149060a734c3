import { createVehicleLinkChannel } from "@sovd/link";
import type { Logger } from "@sovd/platform";
import type { FleetConfig } from "./config.js";
import { createHeartbeatScheduler } from "./heartbeat-scheduler.js";
import { createSimulatedVehicle, type SimulatedVehicle } from "./simulated-vehicle.js";

/** How often the fleet reports vehicles that are not online. */
const STATUS_LOG_MS = 10_000;

/** Not every vehicle of a fleet came online in time; the message says how many did. */
export class FleetNotOnlineError extends Error {
  override readonly name = "FleetNotOnlineError";
}

/** A running fleet of simulated vehicles. */
export interface Fleet {
  /** The vehicles in index order: `vehicles[0]` has index `config.firstIndex`. */
  readonly vehicles: readonly SimulatedVehicle[];
  /** The i-th vehicle of this fleet (0-based position, not the fleet index). */
  vehicle(i: number): SimulatedVehicle;
  /** How many vehicles are online right now. */
  readonly online: number;
  /** Resolves once every vehicle has received its Welcome; FleetNotOnlineError after timeoutMs. */
  waitUntilOnline(timeoutMs: number): Promise<void>;
  /** Stops every vehicle and closes the channels to the connector. */
  close(): Promise<void>;
}

/** What a fleet needs from its host: a logger. It dials the connector itself. */
export interface FleetDeps {
  readonly logger: Logger;
}

/**
 * Starts N simulated vehicles dialling the connector. Built to carry thousands on a small
 * machine: vehicles share gRPC channels (`vehiclesPerChannel` streams on one
 * HTTP/2 connection), one fleet-wide timer sends all heartbeats, and the first connects are
 * staggered `connectStaggerMs` apart instead of dialling all at once.
 */
export function startFleet(config: FleetConfig, deps: FleetDeps): Promise<Fleet> {
  const logger = deps.logger;
  const heartbeats = createHeartbeatScheduler();
  const channelCount = Math.max(1, Math.ceil(config.vehicles / config.vehiclesPerChannel));
  const channels = Array.from({ length: channelCount }, () =>
    createVehicleLinkChannel({
      address: config.connectorUrl,
      // The channel's own redial follows the fleet's backoff, so a restarted connector is found again in time.
      reconnect: { initialMs: config.reconnect.initialMs, maxMs: config.reconnect.maxMs },
    }),
  );
  const vehicles = Array.from({ length: config.vehicles }, (_, i) =>
    createSimulatedVehicle(
      {
        index: config.firstIndex + i,
        tokenSecret: config.vehicleTokenSecret,
        chunkIntervalMs: config.chunkIntervalMs,
        networkDelayMs: config.networkDelayMs,
        reconnect: config.reconnect,
        helloTimeoutMs: config.helloTimeoutMs,
        softwareVersion: config.softwareVersion,
      },
      { channel: channels[Math.floor(i / config.vehiclesPerChannel)]!, logger, heartbeats },
    ),
  );

  let online = 0;
  const unsubscribes = vehicles.map((v) => {
    let wasOnline = false;
    return v.onStateChange((state) => {
      const isOnline = state === "online";
      if (isOnline === wasOnline) return;
      online += isOnline ? 1 : -1;
      wasOnline = isOnline;
      if (online === vehicles.length) logger.info({ online }, "every vehicle is online");
    });
  });

  // One status line per interval while some vehicles are not online, instead of one warning per vehicle and dial.
  const status = setInterval(() => {
    if (online === vehicles.length) return;
    const lastError = vehicles.find((v) => v.lastError !== undefined)?.lastError;
    logger.warn({ online, vehicles: vehicles.length, lastError }, "not every vehicle is online");
  }, STATUS_LOG_MS);
  status.unref();

  // Staggered first connects: one timer walks the fleet, a batch per tick.
  let next = 0;
  let stagger: NodeJS.Timeout | undefined;
  const startSome = (): void => {
    const batch = config.connectStaggerMs === 0 ? vehicles.length : 1;
    for (let n = 0; n < batch && next < vehicles.length; n++) vehicles[next++]!.start();
    if (next < vehicles.length) stagger = setTimeout(startSome, config.connectStaggerMs);
  };
  startSome();
  logger.info(
    { vehicles: config.vehicles, firstIndex: config.firstIndex, connector: config.connectorUrl, channels: channelCount },
    "fleet started",
  );

  let closed = false;
  const fleet: Fleet = {
    vehicles,
    vehicle(i) {
      const v = vehicles[i];
      if (!v) throw new RangeError(`no vehicle ${i} in a fleet of ${vehicles.length}`);
      return v;
    },
    get online() {
      return online;
    },
    waitUntilOnline(timeoutMs) {
      if (online === vehicles.length) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const offs: Array<() => void> = [];
        const done = (err?: Error): void => {
          clearTimeout(timer);
          for (const off of offs) off();
          if (err) reject(err);
          else resolve();
        };
        const timer = setTimeout(
          () => done(new FleetNotOnlineError(`${online} of ${vehicles.length} vehicles online after ${timeoutMs} ms`)),
          timeoutMs,
        );
        for (const v of vehicles) {
          offs.push(
            v.onStateChange((state) => {
              if (state === "closed") done(new FleetNotOnlineError("the fleet was closed"));
              else if (online === vehicles.length) done();
            }),
          );
        }
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(stagger);
      clearInterval(status);
      await Promise.all(vehicles.map((v) => v.close()));
      for (const off of unsubscribes) off();
      heartbeats.close();
      for (const channel of channels) channel.close();
      logger.info({ vehicles: vehicles.length }, "fleet stopped");
    },
  };
  return Promise.resolve(fleet);
}

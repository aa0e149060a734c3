import { LinkError, type VehicleLink } from "@sovd/link";
import type { Bus, Logger, Pool } from "@sovd/platform";
import type { CommandEngine } from "../commands/command-engine.js";
import type { ConnectorMetrics } from "../metrics.js";
import { startHousekeeping } from "./housekeeping.js";
import { createSessionRegistry } from "./session-registry.js";
import { SessionWork } from "./session-work.js";
import { createVehicleStreamHandler } from "./vehicle-stream.js";

/** The vehicle sessions of one connector as startConnector uses them; see createSessionManager. */
export interface SessionManager {
  /** Runs one vehicle stream from authentication to disconnect (the link server's onLink). */
  handle(link: VehicleLink): Promise<void>;
  count(): number;
  /** Shutdown, step 1: stop answering dispatches (gateways then see no responders). */
  stopDispatch(): void;
  /** Shutdown, last step: close every stream and wait until each session is cleaned up. */
  closeAll(): Promise<void>;
  /** Stops at once, writing nothing: what a killed process leaves behind. */
  abort(): Promise<void>;
}

/**
 * Vehicle sessions (architecture §3 "Vehicle sessions"), composed: the registry (one session
 * per vehicle, claims), the stream handler, the connector-wide housekeeping timer, and the
 * work they have under way, which shutdown waits for and abort abandons.
 */
export function createSessionManager(deps: {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  metrics: ConnectorMetrics;
  commands: CommandEngine;
  vehicleTokenSecret: string;
  heartbeatIntervalMs: number;
  connectorId: string;
}): SessionManager {
  const work = new SessionWork();
  const registry = createSessionRegistry({ ...deps, work });
  const housekeeping = startHousekeeping({ ...deps, work });
  const handleStream = createVehicleStreamHandler({ ...deps, registry, housekeeping, work });

  return {
    handle(link) {
      const handled = handleStream(link);
      work.track(handled);
      return handled;
    },
    count: () => registry.count(),
    stopDispatch: () => registry.stopDispatch(),
    async closeAll() {
      housekeeping.stop();
      work.closeStreams(new LinkError("unavailable", "connector is shutting down"));
      await work.drained();
      await housekeeping.finish();
    },
    async abort() {
      work.abandon();
      housekeeping.stop();
      registry.unsubscribeAll();
      work.closeStreams(new LinkError("unavailable", "connector stopped"));
      await work.drained();
      await housekeeping.finish();
    },
  };
}

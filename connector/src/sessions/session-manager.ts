import { LinkError, type VehicleLink } from "@sovd/link";
import type { Bus, Logger, Pool } from "@sovd/platform";
import { allCancelSubject } from "@sovd/proto";
import type { CommandEngine } from "../commands/command-engine.js";
import type { ConnectorMetrics } from "../metrics.js";
import { startHousekeeping } from "./housekeeping.js";
import { createSessionRegistry } from "./session-registry.js";
import { SessionActivity } from "./session-activity.js";
import { createVehicleStreamHandler } from "./vehicle-stream.js";

/** The vehicle sessions of one connector as startConnector uses them; see createSessionManager. */
export interface SessionManager {
  /** Subscribes what every session shares (claims, cancels); before the link server takes streams. */
  start(): Promise<void>;
  /** Runs one vehicle stream from authentication to disconnect (the link server's onLink). */
  handle(link: VehicleLink): Promise<void>;
  /** Vehicles with a session here. */
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
 * per vehicle, claims), the stream handler, the connector-wide housekeeping timer, and what
 * they have under way (SessionActivity), which shutdown waits for and abort abandons.
 */
export function createSessionManager(deps: {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  metrics: ConnectorMetrics;
  commands: CommandEngine;
  vehicleTokenSecret: string;
  heartbeatIntervalMs: number;
  helloTimeoutMs: number;
  connectorId: string;
}): SessionManager {
  const activity = new SessionActivity();
  const registry = createSessionRegistry({ ...deps, activity });
  const housekeeping = startHousekeeping({ ...deps, activity });
  const handleStream = createVehicleStreamHandler({ ...deps, registry, housekeeping, activity });

  return {
    start: () => registry.listen({ subject: allCancelSubject, handle: (session, m) => deps.commands.dispatch.onCancel(session, m) }),
    handle(link) {
      const handled = handleStream(link);
      activity.shutdownAwaits(handled);
      return handled;
    },
    count: () => registry.count(),
    stopDispatch: () => registry.stopDispatch(),
    async closeAll() {
      housekeeping.stop();
      activity.closeStreams(new LinkError("unavailable", "connector is shutting down"));
      await activity.allSettled();
      await housekeeping.finish();
    },
    async abort() {
      activity.abandon();
      housekeeping.stop();
      registry.unsubscribeAll();
      activity.closeStreams(new LinkError("unavailable", "connector stopped"));
      await activity.allSettled();
      await housekeeping.finish();
    },
  };
}

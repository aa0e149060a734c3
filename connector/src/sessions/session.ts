import { randomUUID } from "node:crypto";
import type { VehicleLink } from "@sovd/link";
import type { BusSubscription, Logger } from "@sovd/platform";
import type { ConnectorMessage } from "@sovd/proto";

/**
 * What the command lifecycle needs from a vehicle's session: who it is, whether it still
 * takes commands, and a way to send down the stream. Sessions own the rest.
 */
export interface VehicleSession {
  readonly sessionId: string;
  readonly vehicleId: string;
  /** Child logger carrying vehicleId and sessionId. */
  readonly logger: Logger;
  /** False once the session is closing: no new command is started on it. */
  readonly isOpen: boolean;
  /** Sends down the vehicle's stream; false when the stream is already over. */
  send(message: ConnectorMessage): boolean;
}

/**
 * A session as sessions/ hold it: the VehicleSession the commands see, plus the stream it
 * runs on and the subscriptions it holds. `open` turns false once: when the session is
 * replaced or its stream ends.
 */
export interface LiveSession extends VehicleSession {
  readonly link: VehicleLink;
  /** Aborting it ends the session's subscriptions (execute, cancel, claims). */
  readonly subscriptions: AbortController;
  /** The execute subscription, the first to go at shutdown (stopDispatch). */
  executeSub: BusSubscription | undefined;
  open: boolean;
}

/** A fresh session of `vehicleId` on `link`, under a new session id (architecture §3 "Vehicle sessions"). */
export function createLiveSession(link: VehicleLink, vehicleId: string, logger: Logger): LiveSession {
  const sessionId = randomUUID();
  return {
    sessionId,
    vehicleId,
    logger: logger.child({ vehicleId, sessionId }),
    link,
    subscriptions: new AbortController(),
    executeSub: undefined,
    open: true,
    get isOpen() {
      return this.open;
    },
    send: (message: ConnectorMessage) => link.send(message),
  };
}

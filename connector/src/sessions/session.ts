import type { Logger } from "@sovd/platform";
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

/**
 * NATS subject names (architecture §4 "NATS subjects"). The only place they are spelled out,
 * so gateway, connector and tests can never disagree on them.
 */

/** Dispatch request/reply to whichever connector holds the vehicle's session. */
export const executeSubject = (vehicleId: string): string => `sovd.v1.vehicle.${vehicleId}.execute`;

/** Gateway -> connector: stop a running command. */
export const cancelSubject = (vehicleId: string): string => `sovd.v1.vehicle.${vehicleId}.cancel`;

/** Connector -> gateways: every event of one command. */
export const commandEventsSubject = (commandId: string): string => `sovd.v1.command.${commandId}.events`;

/** Every command's events: one subscription per gateway fans them out to its watchers. */
export const allCommandEventsSubject = "sovd.v1.command.*.events";

/** Connector -> gateways: a vehicle came online or went offline. */
export const presenceSubject = (vehicleId: string): string => `sovd.v1.vehicle.${vehicleId}.presence`;

/** Every vehicle's presence, for WatchVehicles. */
export const allPresenceSubject = "sovd.v1.vehicle.*.presence";

/** Connector -> connectors: a newer session of this vehicle exists; older ones close. */
export const sessionSubject = (vehicleId: string): string => `sovd.v1.vehicle.${vehicleId}.session`;

/** The header that carries the request id across the bus (architecture §4 "NATS subjects"). */
export const REQUEST_ID_HEADER = "x-request-id";

/** Every vehicle's cancels: one subscription per connector, routed to its sessions. */
export const allCancelSubject = "sovd.v1.vehicle.*.cancel";

/** Every vehicle's session claims: one subscription per connector, routed to its sessions. */
export const allSessionSubject = "sovd.v1.vehicle.*.session";

/** The vehicle id of a `sovd.v1.vehicle.{id}.…` subject; undefined for any other subject. */
export function vehicleIdOfSubject(subject: string): string | undefined {
  if (!subject.startsWith("sovd.v1.vehicle.")) return undefined;
  const end = subject.indexOf(".", 16);
  return end > 16 ? subject.slice(16, end) : undefined;
}

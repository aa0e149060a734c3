import { LinkError, VEHICLE_AUTH_METADATA, verifyVehicleToken } from "@sovd/link";

/**
 * The vehicle_id a stream is allowed to speak for, from `authorization: Bearer <jwt>`
 * (architecture §4 "Services"). Runs before any message is read or anything is subscribed.
 * Throws LinkError(unauthenticated) without saying which check failed.
 */
export async function authenticateVehicle(authorization: string | undefined, secret: string): Promise<string> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? "");
  if (!match) throw new LinkError("unauthenticated", `missing vehicle token (${VEHICLE_AUTH_METADATA}: Bearer <jwt>)`);
  try {
    return (await verifyVehicleToken(match[1]!, secret)).toLowerCase();
  } catch (err) {
    throw new LinkError("unauthenticated", "invalid or expired vehicle token", { cause: err });
  }
}

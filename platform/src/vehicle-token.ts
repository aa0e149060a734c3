import { jwtVerify, SignJWT } from "jose";

/**
 * Vehicle identity (architecture §4 "Services"): a vehicle presents a JWT whose subject is its
 * vehicle_id, signed with the fleet key (HS256, `VEHICLE_TOKEN_SECRET`). The connector
 * verifies it before any subscription is made; the simulator mints tokens for its fleet.
 */
const VEHICLE_TOKEN_AUDIENCE = "sovd-vehicle-link";
const VEHICLE_TOKEN_ISSUER = "sovd-fleet";

/** The development fleet key; only used when NODE_ENV=development and no key is set. */
export const DEVELOPMENT_VEHICLE_SECRET = "development-vehicle-key-do-not-use-in-production";

const keyOf = (secret: string): Uint8Array => new TextEncoder().encode(secret);

export async function signVehicleToken(vehicleId: string, secret: string, ttlSeconds = 24 * 3600): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(vehicleId)
    .setAudience(VEHICLE_TOKEN_AUDIENCE)
    .setIssuer(VEHICLE_TOKEN_ISSUER)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(keyOf(secret));
}

/** The vehicle_id a valid token names; throws (jose errors) for anything else. */
export async function verifyVehicleToken(token: string, secret: string): Promise<string> {
  const { payload } = await jwtVerify(token, keyOf(secret), {
    algorithms: ["HS256"],
    audience: VEHICLE_TOKEN_AUDIENCE,
    issuer: VEHICLE_TOKEN_ISSUER,
  });
  if (!payload.sub) throw new Error("vehicle token has no subject");
  return payload.sub;
}

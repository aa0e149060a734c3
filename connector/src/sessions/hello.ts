import { isUuid, type NewVehicle } from "@sovd/domain";
import type { Hello } from "@sovd/proto";
import { LinkError } from "@sovd/link";

/** ISO 3779: 17 characters, no I, O or Q (the `vehicles.vin` CHECK). */
const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;

/** A hello that passed the checks, with the vehicle id normalized to lower case: what a registration stores. */
export type ValidHello = NewVehicle;

/**
 * Checks a Hello against the token's subject: a malformed vehicle_id is INVALID_ARGUMENT,
 * another vehicle's id is PERMISSION_DENIED. The fields a registration needs are checked
 * separately (requireRegistrationFields), only for a vehicle the database does not know.
 */
export function validateHello(hello: Hello, tokenVehicleId: string): ValidHello {
  const vehicleId = hello.vehicleId.trim().toLowerCase();
  if (!isUuid(vehicleId)) throw new LinkError("invalid_argument", "hello.vehicle_id must be a UUID");
  if (vehicleId !== tokenVehicleId) throw new LinkError("permission_denied", "hello.vehicle_id does not match the vehicle token");
  return {
    vehicleId,
    vin: hello.vin.trim().toUpperCase(),
    make: hello.make.trim(),
    model: hello.model.trim(),
    year: hello.year,
    softwareVersion: hello.softwareVersion.trim().slice(0, 64),
  };
}

/** Fleet onboarding needs a valid VIN, make, model and year; throws INVALID_ARGUMENT naming the field. */
export function requireRegistrationFields(hello: ValidHello): void {
  if (!VIN.test(hello.vin)) throw new LinkError("invalid_argument", "hello.vin must be 17 characters A-Z/0-9 without I, O, Q");
  if (hello.make.length < 1 || hello.make.length > 64) throw new LinkError("invalid_argument", "hello.make must be 1 to 64 characters");
  if (hello.model.length < 1 || hello.model.length > 64) throw new LinkError("invalid_argument", "hello.model must be 1 to 64 characters");
  if (hello.year < 1980 || hello.year > 2100) throw new LinkError("invalid_argument", "hello.year must be between 1980 and 2100");
}

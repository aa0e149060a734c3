/**
 * Stable identities of simulated vehicles, derived from their index. The seed data and the
 * simulator both use it, so the simulator's first vehicles are the seeded development ones
 * (architecture §5 "Data") and a restarted fleet comes back as the same vehicles.
 */
export interface VehicleIdentity {
  readonly vehicleId: string;
  readonly vin: string;
  readonly make: string;
  readonly model: string;
  readonly year: number;
}

const MODELS: ReadonlyArray<readonly [string, string]> = [
  ["Volkswagen", "ID.4"],
  ["BMW", "i4"],
  ["Mercedes-Benz", "EQE"],
  ["Audi", "Q4 e-tron"],
  ["Volvo", "EX30"],
  ["Skoda", "Enyaq"],
];

/** Index 0 .. 999,999,999. */
export function fleetIdentity(index: number): VehicleIdentity {
  if (!Number.isInteger(index) || index < 0 || index > 999_999_999) throw new RangeError(`vehicle index out of range: ${index}`);
  const n = String(index + 1);
  const [make, model] = MODELS[index % MODELS.length]!;
  return {
    vehicleId: `5d0e0000-0000-4000-8000-${n.padStart(12, "0")}`,
    // 17 characters, none of I, O, Q (ISO 3779).
    vin: `SVDFLEET${n.padStart(9, "0")}`,
    make,
    model,
    year: 2021 + (index % 5),
  };
}

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConnectionStatus, VehicleSchema, type Vehicle } from "@sovd/proto";

/**
 * The `vehicles` row as both services show it (architecture §2 "The shared command store"):
 * the gateway's fleet views and the connector's presence events map it one way, so a vehicle
 * looks the same in ListVehicles and in WatchVehicles.
 */
export interface VehicleRow {
  vehicle_id: string;
  vin: string;
  make: string;
  model: string;
  year: number;
  connection_status: "online" | "offline";
  last_seen_at: Date | null;
}

/** The columns of VehicleRow, for SELECT and RETURNING lists. */
export const VEHICLE_COLUMNS = "vehicle_id, vin, make, model, year, connection_status, last_seen_at";

/** The proto Vehicle of a stored row. */
export function vehicleFromRow(row: VehicleRow): Vehicle {
  return create(VehicleSchema, {
    vehicleId: row.vehicle_id,
    vin: row.vin,
    make: row.make,
    model: row.model,
    year: row.year,
    connectionStatus: row.connection_status === "online" ? ConnectionStatus.ONLINE : ConnectionStatus.OFFLINE,
    lastSeenAt: row.last_seen_at ? timestampFromDate(row.last_seen_at) : undefined,
  });
}

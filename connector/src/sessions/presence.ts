import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Bus } from "@sovd/platform";
import { ConnectionStatus, VehicleEventSchema, presenceSubject } from "@sovd/proto";
import type { VehicleRow } from "./vehicle-rows.js";

/** Publishes a vehicle's connection change on `sovd.v1.vehicle.{id}.presence` (ARCHITECTURE §5). */
export function publishPresence(bus: Bus, row: VehicleRow): void {
  const event = create(VehicleEventSchema, {
    vehicle: {
      vehicleId: row.vehicle_id,
      vin: row.vin,
      make: row.make,
      model: row.model,
      year: row.year,
      connectionStatus: row.connection_status === "online" ? ConnectionStatus.ONLINE : ConnectionStatus.OFFLINE,
      lastSeenAt: row.last_seen_at ? timestampFromDate(row.last_seen_at) : undefined,
    },
  });
  bus.publish(presenceSubject(row.vehicle_id), toBinary(VehicleEventSchema, event));
}

import { create, toBinary } from "@bufbuild/protobuf";
import { type Bus } from "@sovd/platform";
import { vehicleFromRow, type VehicleRow } from "@sovd/domain";
import { VehicleEventSchema, presenceSubject } from "@sovd/proto";

/** Publishes a vehicle's connection change on `sovd.v1.vehicle.{id}.presence`. */
export function publishPresence(bus: Bus, row: VehicleRow): void {
  const event = create(VehicleEventSchema, { vehicle: vehicleFromRow(row) });
  bus.publish(presenceSubject(row.vehicle_id), toBinary(VehicleEventSchema, event));
}

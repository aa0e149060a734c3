import { create, toBinary } from "@bufbuild/protobuf";
import { type Bus, type Logger } from "@sovd/platform";
import { vehicleFromRow, type VehicleRow } from "@sovd/domain";
import { VehicleEventSchema, presenceSubject } from "@sovd/proto";
import type { ConnectorMetrics } from "../metrics.js";

/** Publishes a vehicle's connection change on `sovd.v1.vehicle.{id}.presence`. */
export function publishPresence(bus: Bus, row: VehicleRow): void {
  const event = create(VehicleEventSchema, { vehicle: vehicleFromRow(row) });
  bus.publish(presenceSubject(row.vehicle_id), toBinary(VehicleEventSchema, event));
}

/**
 * publishPresence after the row is committed (offline at close, the stale-presence sweep):
 * a bus failure is counted and logged, never thrown, so the work around it goes on.
 */
export function publishPresenceSafely(bus: Bus, row: VehicleRow, metrics: ConnectorMetrics, logger: Logger): void {
  try {
    publishPresence(bus, row);
  } catch (err) {
    metrics.busErrors.inc();
    logger.error({ err }, "could not publish presence");
  }
}

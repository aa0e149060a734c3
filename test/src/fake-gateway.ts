import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { REQUEST_ID_HEADER, type Bus, type Pool, type VehicleIdentity } from "@sovd/platform";
import { DispatchReplySchema, DispatchRequestSchema, executeSubject, type DispatchReply } from "@sovd/proto";

/** A `commands` row as the gateway would have written it before dispatching. */
export interface InsertCommand {
  vehicleId: string;
  commandName?: string;
  params?: JsonObject;
  timeoutMs?: number;
  status?: "pending" | "queued" | "in_progress";
  /** The submitting user; the stack's engineer when absent. */
  userId?: string;
  correlationId?: string;
}

/**
 * The gateway's side of a command, done by hand, for connector tests that decide exactly what
 * reaches the connector and when. Every row it writes is written here and nowhere else in the
 * tests, so moving to another command store changes this one file.
 */
export interface FakeGateway {
  /** Registers a vehicle as fleet onboarding would (connection_status as given, the default otherwise). */
  insertVehicle(identity: VehicleIdentity, connectionStatus?: "online" | "offline"): Promise<void>;
  /** Inserts the command row the gateway writes at submit; returns its id. */
  insertCommand(c: InsertCommand): Promise<string>;
  /** Sends the command's DispatchRequest to whoever holds its vehicle, as the gateway's dispatcher does. */
  dispatch(commandId: string, timeoutMs?: number): Promise<DispatchReply>;
}

/** A fake gateway writing to `pool` and dispatching on `bus`; commands are `defaultUserId`'s unless said otherwise. */
export function createFakeGateway(deps: { pool: Pool; bus: Bus; defaultUserId: string }): FakeGateway {
  const { pool, bus } = deps;
  return {
    async insertVehicle(identity, connectionStatus) {
      const { vehicleId, vin, make, model, year } = identity;
      if (connectionStatus === undefined) {
        await pool.query("INSERT INTO vehicles (vehicle_id, vin, make, model, year) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", [vehicleId, vin, make, model, year]);
      } else {
        await pool.query(
          "INSERT INTO vehicles (vehicle_id, vin, make, model, year, connection_status) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
          [vehicleId, vin, make, model, year, connectionStatus],
        );
      }
    },
    async insertCommand(c) {
      const timeoutMs = c.timeoutMs ?? 5000;
      const { rows } = await pool.query<{ command_id: string }>(
        `INSERT INTO commands (vehicle_id, user_id, command_name, command_params, status, timeout_ms, correlation_id, deadline_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $6::int / 1000.0))
         RETURNING command_id`,
        [c.vehicleId, c.userId ?? deps.defaultUserId, c.commandName ?? "ReadDTC", JSON.stringify(c.params ?? {}), c.status ?? "pending", timeoutMs, c.correlationId ?? `req-${randomUUID()}`],
      );
      return rows[0]!.command_id;
    },
    async dispatch(commandId, timeoutMs = 3000) {
      const { rows } = await pool.query<{ vehicle_id: string; command_name: string; command_params: JsonObject; deadline_at: Date; correlation_id: string; user_id: string }>(
        "SELECT vehicle_id, command_name, command_params, deadline_at, correlation_id, user_id FROM commands WHERE command_id = $1",
        [commandId],
      );
      const row = rows[0]!;
      const request = create(DispatchRequestSchema, {
        commandId,
        vehicleId: row.vehicle_id,
        commandName: row.command_name,
        params: row.command_params,
        deadline: timestampFromDate(row.deadline_at),
        correlationId: row.correlation_id,
        userId: row.user_id,
      });
      const reply = await bus.request(executeSubject(row.vehicle_id), toBinary(DispatchRequestSchema, request), {
        timeoutMs,
        headers: { [REQUEST_ID_HEADER]: row.correlation_id },
      });
      return fromBinary(DispatchReplySchema, reply.data);
    },
  };
}

import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { REQUEST_ID_HEADER, type Bus, type Pool, type VehicleIdentity } from "@sovd/platform";
import { getCommandRow, insertSubmitted, markQueued, startCommands } from "@sovd/domain";
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
 * reaches the connector and when. Its command rows go through the domain's command store, as
 * the gateway's do, so they carry the same guards and audit rows.
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
      const status = c.status ?? "pending";
      const outcome = await insertSubmitted(pool, {
        vehicleId: c.vehicleId,
        userId: c.userId ?? deps.defaultUserId,
        commandName: c.commandName ?? "ReadDTC",
        params: c.params ?? {},
        timeoutMs,
        idempotencyKey: null,
        correlationId: c.correlationId ?? `req-${randomUUID()}`,
        client: {},
      });
      if (outcome.kind !== "created") throw new Error(`fake gateway: no command stored (${outcome.kind})`);
      const commandId = outcome.row.command_id;
      // The states the real gateway reaches after submit: queued by the dispatcher when no
      // connector holds the vehicle, in_progress once a connector started it.
      if (status === "queued" && !(await markQueued(pool, commandId, timeoutMs))) throw new Error("fake gateway: could not queue the command");
      if (status === "in_progress" && !(await startCommands(pool, [{ commandId, vehicleId: c.vehicleId }]))[0]!.started) {
        throw new Error("fake gateway: could not start the command");
      }
      return commandId;
    },
    async dispatch(commandId, timeoutMs = 3000) {
      const row = await getCommandRow(pool, commandId);
      if (!row) throw new Error(`fake gateway: no command ${commandId}`);
      const request = create(DispatchRequestSchema, {
        commandId,
        vehicleId: row.vehicle_id,
        commandName: row.command_name,
        params: row.command_params,
        deadline: timestampFromDate(row.deadline_at),
        correlationId: row.correlation_id ?? "",
        userId: row.user_id,
      });
      const reply = await bus.request(executeSubject(row.vehicle_id), toBinary(DispatchRequestSchema, request), {
        timeoutMs,
        headers: { [REQUEST_ID_HEADER]: row.correlation_id ?? "" },
      });
      return fromBinary(DispatchReplySchema, reply.data);
    },
  };
}

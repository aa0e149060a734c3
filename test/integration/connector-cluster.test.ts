import { NoRespondersError } from "@sovd/platform";
import { CommandStatus } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { useStack } from "../src/index.js";

describe("connector: several connectors share the fleet", () => {
  const stack = useStack({ gateway: "none" });

  it("routes every command to the connector and vehicle that holds it; an offline vehicle has no responder", async () => {
    const connectors = [await stack.startConnector(), await stack.startConnector()];
    const ids = Array.from({ length: 6 }, (_, i) => stack.vehicle(i));
    const vehicles = await Promise.all(ids.map((id, i) => stack.onlineVehicle(connectors[i % 2]!, id)));
    expect(connectors.map((c) => c.sessionCount())).toEqual([3, 3]);

    const commands = await Promise.all(ids.map((id) => stack.insertCommand({ vehicleId: id.vehicleId, commandName: "ClearDTC" })));
    const events = await Promise.all(commands.map((c) => stack.commandEvents(c)));
    const replies = await Promise.all(commands.map((c) => stack.dispatch(c)));
    expect(replies.every((r) => r.accepted)).toBe(true);
    for (const [i, vehicle] of vehicles.entries()) {
      const execute = await vehicle.execute(commands[i]);
      vehicle.chunk(execute.commandId, 1, true, { status: "cleared", clearedCount: 2 });
    }
    await Promise.all(events.map((e) => e.waitFor((ev) => ev.event.case === "status" && ev.event.value.status === CommandStatus.COMPLETED)));
    // Each vehicle got exactly its own command.
    for (const [i, vehicle] of vehicles.entries()) {
      expect(vehicle.received.flatMap((m) => (m.kind.case === "execute" ? [m.kind.value.commandId] : []))).toEqual([commands[i]]);
    }
    const { rows } = await stack.db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM commands WHERE command_id = ANY($1::uuid[]) AND status = 'completed'",
      [commands],
    );
    expect(rows[0]!.n).toBe(6);

    // A vehicle that moves to the other connector still gets its commands.
    vehicles[0]!.end();
    await expect.poll(() => connectors[0]!.sessionCount()).toBe(2);
    const moved = await stack.onlineVehicle(connectors[1]!, ids[0]!);
    const next = await stack.insertCommand({ vehicleId: ids[0]!.vehicleId });
    expect((await stack.dispatch(next)).accepted).toBe(true);
    expect((await moved.execute(next)).commandId).toBe(next);

    const offline = stack.vehicle(10);
    await stack.insertVehicle(offline);
    const nobody = await stack.insertCommand({ vehicleId: offline.vehicleId });
    await expect(stack.dispatch(nobody)).rejects.toBeInstanceOf(NoRespondersError);
  });

  it("stops answering dispatches once shutdown begins, and releases every subscription", async () => {
    const connector = await stack.startConnector({ DRAIN_TIMEOUT_MS: "100" });
    const id = stack.vehicle(20);
    await stack.onlineVehicle(connector, id);
    const before = stack.bus.subscriptionCount();
    await connector.close();
    const commandId = await stack.insertCommand({ vehicleId: id.vehicleId });
    await expect(stack.dispatch(commandId)).rejects.toBeInstanceOf(NoRespondersError);
    const { rows } = await stack.db.pool.query<{ connection_status: string; session_id: string | null }>(
      "SELECT connection_status, session_id FROM vehicles WHERE vehicle_id = $1",
      [id.vehicleId],
    );
    expect(rows[0]).toEqual({ connection_status: "offline", session_id: null });
    if (stack.bus.kind === "memory") expect(stack.bus.subscriptionCount()).toBe(before - 3);
  });

  it("serves /health/live, /health/ready and /metrics on its ops port", async () => {
    const connector = await stack.startConnector();
    await stack.onlineVehicle(connector, stack.vehicle(30));
    const base = `http://127.0.0.1:${connector.httpPort}`;
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok", checks: { database: "ok", bus: "ok" } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^vehicle_connections_active\{[^}]*\} 1$/m);
    for (const name of [
      "commands_executed_total",
      "command_execution_duration_seconds",
      "chunks_dropped_total",
      "faults_injected_total",
      "vehicle_sessions_replaced_total",
      "bus_errors_total",
      "database_errors_total",
      "command_sweeps_total",
    ]) {
      expect(metrics).toContain(`# TYPE ${name} `);
    }
  });
});

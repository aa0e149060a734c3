import { CommandStatus, ErrorMessages, type CommandEvent } from "@sovd/proto";
import { GARBAGE_PAYLOAD } from "@sovd/vehicle-sim";
import { describe, expect, it } from "vitest";
import { useStack } from "../src/index.js";

/**
 * The fleet simulator against the real connector, database and bus: its answers are what
 * the connector stores, and when it misbehaves for real the connector's own handling ends
 * each command in a clear status.
 */
describe("simulated vehicles on the real connector", () => {
  const stack = useStack({ gateway: "none" }, { resetAfterEach: true });

  async function online(opts: { chunkIntervalMs?: number } = {}) {
    const connector = await stack.startConnector();
    const fleet = await stack.startFleet({ connector, overrides: opts.chunkIntervalMs === undefined ? {} : { chunkIntervalMs: opts.chunkIntervalMs } });
    return { connector, fleet, vehicle: fleet.vehicle(0) };
  }

  /** Inserts and dispatches a command as the gateway would; returns its id and event collector. */
  async function submit(vehicleId: string, commandName: string, params: Record<string, string | number> = {}, timeoutMs = 5000) {
    const correlationId = `req-sim-${Math.random().toString(36).slice(2)}`;
    const commandId = await stack.insertCommand({ vehicleId, commandName, params, timeoutMs, correlationId });
    const events = await stack.commandEvents(commandId);
    const reply = await stack.dispatch(commandId);
    expect(reply.accepted).toBe(true);
    return { commandId, events, correlationId };
  }

  const terminal = (events: { waitFor(p: (e: CommandEvent) => boolean, t?: number): Promise<CommandEvent> }) =>
    events.waitFor((e) => e.event.case === "status" && [CommandStatus.COMPLETED, CommandStatus.FAILED].includes(e.event.value.status), 5000);

  const row = async (commandId: string) =>
    (
      await stack.db.pool.query<{ status: string; error_message: string | null; completed_at: Date | null }>(
        "SELECT status, error_message, completed_at FROM commands WHERE command_id = $1",
        [commandId],
      )
    ).rows[0]!;
  const responses = async (commandId: string) =>
    (
      await stack.db.pool.query<{ sequence_number: number; is_final: boolean; response_payload: Record<string, unknown>; received_at: Date }>(
        "SELECT sequence_number, is_final, response_payload, received_at FROM responses WHERE command_id = $1 ORDER BY sequence_number",
        [commandId],
      )
    ).rows;
  const audits = async (commandId: string) =>
    (
      await stack.db.pool.query<{ action: string; details: Record<string, unknown> }>(
        "SELECT action, details FROM audit_logs WHERE command_id = $1 ORDER BY created_at",
        [commandId],
      )
    ).rows;

  it("ReadDTC on a fresh vehicle: P0420, P0171, final totalDtcs 2, stored and spaced; the request id is in the simulator's log", async () => {
    const { vehicle, fleet } = await online({ chunkIntervalMs: 100 });
    const { commandId, events, correlationId } = await submit(vehicle.identity.vehicleId, "ReadDTC", { ecuAddress: "0x10", format: "UDS" });
    await terminal(events);
    expect(await row(commandId)).toMatchObject({ status: "completed", error_message: null });
    const rows = await responses(commandId);
    expect(rows.map((r) => [r.sequence_number, r.is_final, r.response_payload])).toEqual([
      [1, false, { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" }],
      [2, false, { dtcCode: "P0171", description: "System Too Lean (Bank 1)" }],
      [3, true, { status: "complete", totalDtcs: 2 }],
    ]);
    const chunkEvents = events.items.filter((e) => e.event.case === "response");
    expect(chunkEvents).toHaveLength(3);
    // Spacing as configured (100 ms), measured on the stored receive times, with slack for storing latency.
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.received_at.getTime() - rows[i - 1]!.received_at.getTime()).toBeGreaterThanOrEqual(50);
    }
    expect(fleet.logs).toContainEqual(expect.objectContaining({ msg: "Execute received", requestId: correlationId, commandId }));
  });

  it("ClearDTC then ReadDTC: the second answer is only the final chunk with totalDtcs 0", async () => {
    const { vehicle } = await online();
    const clear = await submit(vehicle.identity.vehicleId, "ClearDTC", { ecuAddress: "0x10" });
    await terminal(clear.events);
    expect((await responses(clear.commandId)).map((r) => r.response_payload)).toEqual([{ status: "cleared", clearedCount: 2 }]);
    const read = await submit(vehicle.identity.vehicleId, "ReadDTC");
    await terminal(read.events);
    expect((await responses(read.commandId)).map((r) => [r.sequence_number, r.is_final, r.response_payload])).toEqual([
      [1, true, { status: "complete", totalDtcs: 0 }],
    ]);
    expect(vehicle.state.dtcs).toEqual([]);
  });

  it("ReadDataByID samples:5 streams five progressive samples then the final chunk; two commands run at once", async () => {
    const { vehicle } = await online();
    const speed = await submit(vehicle.identity.vehicleId, "ReadDataByID", { dataId: "0xF40D", samples: 5 });
    const vin = await submit(vehicle.identity.vehicleId, "ReadDataByID", { dataId: "0xF190", samples: 1 });
    await terminal(speed.events);
    await terminal(vin.events);
    const rows = await responses(speed.commandId);
    expect(rows.map((r) => r.sequence_number)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows.slice(0, 5).every((r) => r.response_payload.dataId === "0xF40D" && r.response_payload.unit === "km/h")).toBe(true);
    expect(rows[5]!.response_payload).toEqual({ status: "complete", samples: 5 });
    expect((await responses(vin.commandId))[0]!.response_payload).toMatchObject({ name: "VIN", value: vehicle.identity.vin });
  });

  it("keeps its session alive with heartbeats at the interval the connector asked for", async () => {
    // Short enough to see several intervals pass, long enough that an event loop busy with the
    // in-process PGlite does not look like a dead link.
    const connector = await stack.startConnector({ HEARTBEAT_INTERVAL_MS: "250" });
    const fleet = await stack.startFleet({ connector, vehicles: 3 });
    // Three intervals without a message would close a session; wait well past that.
    await new Promise((r) => setTimeout(r, 1500));
    expect(fleet.online).toBe(3);
    expect(fleet.vehicles.map((v) => v.sessions)).toEqual([1, 1, 1]);
    const { rows } = await stack.db.pool.query<{ connection_status: string }>(
      "SELECT connection_status FROM vehicles WHERE vehicle_id = ANY($1::uuid[])",
      [fleet.vehicles.map((v) => v.identity.vehicleId)],
    );
    expect(rows.map((r) => r.connection_status)).toEqual(["online", "online", "online"]);
  });

  describe("real misbehaviour ends in a clear status", () => {
    it("silent: 'Vehicle connection timeout' by the deadline, with an audit row", async () => {
      const { vehicle } = await online();
      vehicle.misbehave("silent");
      const { commandId, events } = await submit(vehicle.identity.vehicleId, "ReadDTC", {}, 300);
      const error = await events.waitFor((e) => e.event.case === "error", 5000);
      expect(error.event.case === "error" && error.event.value.errorMessage).toBe(ErrorMessages.timeout);
      const r = await row(commandId);
      expect(r).toMatchObject({ status: "failed", error_message: ErrorMessages.timeout });
      expect(r.completed_at).toBeInstanceOf(Date);
      expect((await audits(commandId)).map((a) => a.action)).toContain("command_timeout");
      expect(await responses(commandId)).toEqual([]);
    });

    it("garbage: 'Invalid response format from vehicle', the raw bytes audited, nothing stored", async () => {
      const { vehicle } = await online();
      vehicle.misbehave("garbage");
      const { commandId, events } = await submit(vehicle.identity.vehicleId, "ReadDTC");
      const error = await events.waitFor((e) => e.event.case === "error", 5000);
      expect(error.event.case === "error" && error.event.value.errorMessage).toBe(ErrorMessages.malformed);
      expect(await row(commandId)).toMatchObject({ status: "failed", error_message: ErrorMessages.malformed });
      const failed = (await audits(commandId)).find((a) => a.action === "command_failed");
      expect(failed?.details.raw_payload_base64).toBe(Buffer.from(GARBAGE_PAYLOAD).toString("base64"));
      expect(await responses(commandId)).toEqual([]);
      expect(events.items.some((e) => e.event.case === "response")).toBe(false);
    });

    it("drop-link: the command fails 'Vehicle unreachable' at once and the vehicle comes back online", async () => {
      const { vehicle } = await online();
      vehicle.misbehave("drop-link");
      const { commandId, events } = await submit(vehicle.identity.vehicleId, "ReadDTC", {}, 10_000);
      const started = Date.now();
      await events.waitFor((e) => e.event.case === "error", 5000);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await row(commandId)).toMatchObject({ status: "failed", error_message: ErrorMessages.unreachable });
      vehicle.misbehave("none");
      await vehicle.waitUntilOnline(5000);
      expect(vehicle.sessions).toBeGreaterThanOrEqual(2);
      const next = await submit(vehicle.identity.vehicleId, "ClearDTC");
      await terminal(next.events);
      expect(await row(next.commandId)).toMatchObject({ status: "completed" });
    });

    it("out-of-sequence: the skipped number is never stored as a valid answer and the command does not complete", async () => {
      const { vehicle } = await online();
      vehicle.misbehave("out-of-sequence");
      const { commandId, events } = await submit(vehicle.identity.vehicleId, "ReadDTC", {}, 500);
      const final = await terminal(events);
      expect(final.event.case === "status" && final.event.value.status).toBe(CommandStatus.FAILED);
      expect((await responses(commandId)).map((r) => r.sequence_number)).toEqual([1]);
      expect((await row(commandId)).status).toBe("failed");
    });

    it("late: the deadline fails the command and the late answer changes nothing", async () => {
      const { vehicle } = await online();
      vehicle.misbehave("late");
      const { commandId, events } = await submit(vehicle.identity.vehicleId, "ClearDTC", {}, 300);
      await events.waitFor((e) => e.event.case === "error", 5000);
      // The late answer arrives ~100 ms after the deadline: wait for the vehicle to have sent it.
      const deadline = Date.now() + 3000;
      while (vehicle.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(vehicle.inFlight).toBe(0);
      await new Promise((r) => setTimeout(r, 100));
      expect(await row(commandId)).toMatchObject({ status: "failed", error_message: ErrorMessages.timeout });
      expect(await responses(commandId)).toEqual([]);
    });
  });
});

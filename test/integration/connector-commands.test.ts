import { ErrorMessages, CommandStatus, type CommandEvent } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { useStack } from "../src/index.js";

const P0420 = { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" };
const P0171 = { dtcCode: "P0171", description: "System Too Lean (Bank 1)" };

describe("connector: command path", () => {
  const stack = useStack({ gateway: "none" }, { resetAfterEach: true });

  const responses = async (commandId: string) =>
    (
      await stack.db.pool.query<{ sequence_number: number; is_final: boolean; response_payload: Record<string, unknown> }>(
        "SELECT sequence_number, is_final, response_payload FROM responses WHERE command_id = $1 ORDER BY sequence_number",
        [commandId],
      )
    ).rows;
  const audits = async (commandId: string) =>
    (
      await stack.db.pool.query<{ action: string; details: Record<string, unknown>; request_id: string | null }>(
        "SELECT action, details, request_id FROM audit_logs WHERE command_id = $1 ORDER BY created_at",
        [commandId],
      )
    ).rows;
  const dropped = async (registry: { getSingleMetricAsString(name: string): Promise<string> }, reason: string) => {
    const text = await registry.getSingleMetricAsString("chunks_dropped_total");
    const m = new RegExp(`chunks_dropped_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)`).exec(text);
    return m ? Number(m[1]) : 0;
  };
  const statuses = (events: readonly CommandEvent[]) => events.flatMap((e) => (e.event.case === "status" ? [e.event.value.status] : []));

  async function running(commandName = "ReadDTC", timeoutMs = 5000) {
    const connector = await stack.startConnector();
    const id = stack.vehicle(0);
    await stack.insertVehicle(id);
    const vehicle = await stack.onlineVehicle(connector, id);
    const commandId = await stack.insertCommand({ vehicleId: id.vehicleId, commandName, timeoutMs, correlationId: `req-${Date.now()}` });
    const events = await stack.commandEvents(commandId);
    const reply = await stack.dispatch(commandId);
    expect(reply).toMatchObject({ accepted: true });
    const execute = await vehicle.execute(commandId);
    return { connector, vehicle, commandId, events, execute };
  }

  it("ReadDTC: accepted, in_progress, chunks stored and published in order, completed with an audit row", async () => {
    const { connector, vehicle, commandId, events, execute } = await running();
    expect(execute.commandName).toBe("ReadDTC");
    expect(execute.deadline).toBeDefined();
    const { rows } = await stack.db.pool.query<{ correlation_id: string }>("SELECT correlation_id FROM commands WHERE command_id = $1", [commandId]);
    expect(execute.correlationId).toBe(rows[0]!.correlation_id);
    await events.waitFor((e) => e.event.case === "status" && e.event.value.status === CommandStatus.IN_PROGRESS);
    expect((await stack.commandRow(commandId)).started_at).toBeInstanceOf(Date);

    vehicle.chunk(commandId, 1, false, P0420);
    vehicle.chunk(commandId, 2, false, P0171);
    vehicle.chunk(commandId, 3, true, { status: "complete", totalDtcs: 2 });
    await events.waitFor((e) => e.event.case === "status" && e.event.value.status === CommandStatus.COMPLETED);

    const chunkEvents = events.items.filter((e) => e.event.case === "response").map((e) => (e.event.case === "response" ? e.event.value : undefined)!);
    expect(chunkEvents.map((r) => [r.sequenceNumber, r.isFinal])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(chunkEvents[0]!.payload).toEqual(P0420);
    expect(chunkEvents[2]!.payload).toEqual({ status: "complete", totalDtcs: 2 });
    expect(statuses(events.items)).toEqual([CommandStatus.IN_PROGRESS, CommandStatus.COMPLETED]);

    expect(await responses(commandId)).toEqual([
      { sequence_number: 1, is_final: false, response_payload: P0420 },
      { sequence_number: 2, is_final: false, response_payload: P0171 },
      { sequence_number: 3, is_final: true, response_payload: { status: "complete", totalDtcs: 2 } },
    ]);
    const row = await stack.commandRow(commandId);
    expect(row).toMatchObject({ status: "completed", error_message: null, last_sequence: 3 });
    expect(row.completed_at).toBeInstanceOf(Date);
    const audit = await audits(commandId);
    expect(audit.map((a) => a.action)).toEqual(["command_submitted", "command_completed"]);
    expect(audit[1]!.request_id).toBe(execute.correlationId);
    expect(await connector.registry.getSingleMetricAsString("commands_executed_total")).toMatch(
      /commands_executed_total\{[^}]*command="ReadDTC"[^}]*status="completed"[^}]*\} 1/,
    );
    // Every log line about the command carries its request id.
    const lines = stack.logs.filter((l) => l.commandId === commandId);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.requestId === execute.correlationId)).toBe(true);
  });

  it("drops out-of-sequence, duplicate and unknown-command chunks: counted, nothing stored, the command goes on", async () => {
    const { connector, vehicle, commandId, events } = await running();
    vehicle.chunk(commandId, 2, false, P0171); // gap: 1 is missing
    vehicle.chunk("00000000-0000-4000-8000-000000000000", 1, true, { status: "complete", totalDtcs: 0 });
    vehicle.chunk(commandId, 1, false, P0420);
    vehicle.chunk(commandId, 1, false, P0420); // repeat
    vehicle.chunk(commandId, 0, false, P0420); // sequence numbers start at 1
    await expect.poll(() => dropped(connector.registry, "out_of_sequence")).toBe(3);
    expect(await dropped(connector.registry, "unknown_command")).toBe(1);
    expect((await responses(commandId)).map((r) => r.sequence_number)).toEqual([1]);

    vehicle.chunk(commandId, 2, true, { status: "complete", totalDtcs: 1 });
    await events.waitFor((e) => e.event.case === "status" && e.event.value.status === CommandStatus.COMPLETED);
    expect((await responses(commandId)).map((r) => r.sequence_number)).toEqual([1, 2]);
    expect(events.items.filter((e) => e.event.case === "response")).toHaveLength(2);
    const { rows } = await stack.db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM responses WHERE command_id = '00000000-0000-4000-8000-000000000000'",
    );
    expect(rows[0]!.n).toBe(0);
    expect(connector.sessionCount()).toBe(1);
  });

  it("a garbage payload fails the command with the exact message and audits the raw bytes in base64; nothing is forwarded", async () => {
    const { connector, vehicle, commandId, events } = await running();
    vehicle.chunk(commandId, 1, false, P0420);
    const garbage = new Uint8Array([0x7b, 0x22, 0xff, 0x00, 0x13, 0x37]);
    vehicle.chunk(commandId, 2, false, garbage);
    const error = await events.waitFor((e) => e.event.case === "error");
    expect(error.event.case === "error" && error.event.value.errorMessage).toBe("Invalid response format from vehicle");
    await events.waitFor((e) => e.event.case === "status" && e.event.value.status === CommandStatus.FAILED);
    // The vehicle is told to stop.
    await vehicle.next((m) => (m.kind.case === "cancel" && m.kind.value.commandId === commandId ? true : undefined));

    const row = await stack.commandRow(commandId);
    expect(row).toMatchObject({ status: "failed", error_message: ErrorMessages.malformed, failure_phase: "response" });
    expect(row.completed_at).toBeInstanceOf(Date);
    expect((await responses(commandId)).map((r) => r.sequence_number)).toEqual([1]);
    expect(events.items.filter((e) => e.event.case === "response")).toHaveLength(1);
    const audit = (await audits(commandId)).find((a) => a.action === "command_failed")!;
    expect(audit.details.raw_payload_base64).toBe(Buffer.from(garbage).toString("base64"));
    expect(audit.details.raw_payload_bytes).toBe(garbage.byteLength);
    expect(audit.details.fault_injected).toBe(false);
    expect(await dropped(connector.registry, "invalid_payload")).toBe(1);

    // Chunks after the end change nothing.
    vehicle.chunk(commandId, 2, true, { status: "complete", totalDtcs: 1 });
    await expect.poll(() => dropped(connector.registry, "after_terminal")).toBe(1);
    expect((await stack.commandRow(commandId)).status).toBe("failed");
  });

  it("caps the raw bytes kept in the audit row at 4 KiB", async () => {
    const { vehicle, commandId, events } = await running();
    const big = new Uint8Array(10_000).fill(0x41);
    vehicle.chunk(commandId, 1, false, big);
    await events.waitFor((e) => e.event.case === "error");
    const audit = (await audits(commandId)).find((a) => a.action === "command_failed")!;
    expect(Buffer.from(audit.details.raw_payload_base64 as string, "base64").byteLength).toBe(4096);
    expect(audit.details).toMatchObject({ raw_payload_bytes: 10_000, raw_payload_truncated: true });
  });

  it("a Failure from the vehicle fails the command with the vehicle's message", async () => {
    const { vehicle, commandId, events } = await running("ClearDTC");
    vehicle.failure(commandId, "ECU 0x10 did not answer");
    const error = await events.waitFor((e) => e.event.case === "error");
    expect(error.event.case === "error" && error.event.value.errorMessage).toBe("ECU 0x10 did not answer");
    expect(await stack.commandRow(commandId)).toMatchObject({ status: "failed", error_message: "ECU 0x10 did not answer", failure_phase: "response" });
    expect((await audits(commandId)).map((a) => a.action)).toEqual(["command_submitted", "command_failed"]);
  });

  it("ClearDTC and ReadDataByID answers are validated per command", async () => {
    const { vehicle, commandId, events } = await running("ClearDTC");
    vehicle.chunk(commandId, 1, true, { status: "cleared", clearedCount: 2 });
    await events.waitFor((e) => e.event.case === "status" && e.event.value.status === CommandStatus.COMPLETED);

    const id = stack.vehicle(0);
    const read = await stack.insertCommand({ vehicleId: id.vehicleId, commandName: "ReadDataByID", params: { dataId: "0xF40D", samples: 2 } });
    const readEvents = await stack.commandEvents(read);
    expect((await stack.dispatch(read)).accepted).toBe(true);
    expect((await vehicle.execute(read)).params).toEqual({ dataId: "0xF40D", samples: 2 });
    for (let i = 1; i <= 2; i++) {
      vehicle.chunk(read, i, false, { dataId: "0xF40D", name: "Vehicle speed", value: 40 + i, unit: "km/h", sampledAt: new Date().toISOString() });
    }
    vehicle.chunk(read, 3, true, { status: "complete", samples: 2 });
    await readEvents.waitFor((e) => e.event.case === "status" && e.event.value.status === CommandStatus.COMPLETED);
    expect((await responses(read)).map((r) => r.response_payload.value ?? r.response_payload.status)).toEqual([41, 42, "complete"]);
  });

  it("refuses a dispatch for a command that is no longer pending, and answers a retried dispatch of a running one", async () => {
    const { commandId, events } = await running();
    expect(await stack.dispatch(commandId)).toMatchObject({ accepted: true });
    await stack.db.pool.query("UPDATE commands SET status = 'cancelled', completed_at = now() WHERE command_id = $1", [commandId]);
    const id = stack.vehicle(0);
    const done = await stack.insertCommand({ vehicleId: id.vehicleId });
    await stack.db.pool.query("UPDATE commands SET status = 'completed', completed_at = now() WHERE command_id = $1", [done]);
    expect(await stack.dispatch(done)).toMatchObject({ accepted: false, reason: "command is completed" });
    expect(statuses(events.items)).toEqual([CommandStatus.IN_PROGRESS]);
  });

  it("cancel: the vehicle is told to stop and later chunks are dropped by the SQL guard", async () => {
    const { connector, vehicle, commandId } = await running();
    vehicle.chunk(commandId, 1, false, P0420);
    await expect.poll(async () => (await responses(commandId)).length).toBe(1);
    // What the gateway does: write `cancelled`, then publish the cancel.
    await stack.db.pool.query("UPDATE commands SET status = 'cancelled', error_message = 'Cancelled by user', completed_at = now() WHERE command_id = $1", [
      commandId,
    ]);
    const { create, toBinary } = await import("@bufbuild/protobuf");
    const { CancelDispatchSchema, cancelSubject } = await import("@sovd/proto");
    stack.bus.publish(
      cancelSubject(stack.vehicle(0).vehicleId),
      toBinary(CancelDispatchSchema, create(CancelDispatchSchema, { commandId, vehicleId: stack.vehicle(0).vehicleId })),
    );
    await vehicle.next((m) => (m.kind.case === "cancel" && m.kind.value.commandId === commandId ? true : undefined));
    vehicle.chunk(commandId, 2, false, P0171);
    await expect.poll(() => dropped(connector.registry, "after_terminal")).toBe(1);
    expect(await responses(commandId)).toHaveLength(1);
    expect((await stack.commandRow(commandId)).status).toBe("cancelled");
  });

  it("a chunk for a command that ended elsewhere (cancel message missed) is dropped and the vehicle told to stop", async () => {
    const { connector, vehicle, commandId } = await running();
    await stack.db.pool.query("UPDATE commands SET status = 'cancelled', completed_at = now() WHERE command_id = $1", [commandId]);
    vehicle.chunk(commandId, 1, false, P0420);
    await vehicle.next((m) => (m.kind.case === "cancel" && m.kind.value.commandId === commandId ? true : undefined));
    expect(await dropped(connector.registry, "after_terminal")).toBe(1);
    expect(await responses(commandId)).toHaveLength(0);
    expect(connector.inFlightCount()).toBe(0);
  });
});

import { CommandStatus, ErrorMessages, FailurePhase } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { useStack } from "../src/index.js";

const P0420 = { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" };

describe("connector: faults end in a clear status", () => {
  const stack = useStack({ gateway: "none" }, { resetAfterEach: true });

  const auditRows = async (commandId: string) =>
    (
      await stack.db.pool.query<{ action: string; details: Record<string, unknown> }>(
        "SELECT action, details FROM audit_logs WHERE command_id = $1 ORDER BY created_at",
        [commandId],
      )
    ).rows;
  const responseCount = async (commandId: string) =>
    (await stack.db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM responses WHERE command_id = $1", [commandId])).rows[0]!.n;
  const metric = async (registry: { getSingleMetricAsString(name: string): Promise<string> }, name: string, label = "") => {
    const text = await registry.getSingleMetricAsString(name);
    const m = new RegExp(`^${name}(\\{[^}]*${label}[^}]*\\})? (\\d+)$`, "m").exec(text);
    return m ? Number(m[2]) : 0;
  };

  async function inFlight(env: Record<string, string> = {}, timeoutMs = 5000, index = 0) {
    const connector = await stack.startConnector(env);
    const id = stack.vehicle(index);
    await stack.insertVehicle(id);
    const vehicle = await stack.onlineVehicle(connector, id);
    const commandId = await stack.insertCommand({ vehicleId: id.vehicleId, timeoutMs });
    const events = await stack.commandEvents(commandId);
    return { connector, vehicle, commandId, events, id };
  }

  it("deadline: a silent vehicle ends failed 'Vehicle connection timeout' with completed_at, audit and events; a late chunk changes nothing", async () => {
    const { connector, vehicle, commandId, events } = await inFlight({}, 300);
    expect((await stack.dispatch(commandId)).accepted).toBe(true);
    await vehicle.execute(commandId);
    const started = Date.now();
    const error = await events.waitFor((e) => e.event.case === "error");
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error.event.case === "error" && error.event.value).toMatchObject({ errorMessage: "Vehicle connection timeout", phase: FailurePhase.RESPONSE });
    const failed = await events.waitFor((e) => e.event.case === "status" && e.event.value.status === CommandStatus.FAILED);
    expect(failed.event.case === "status" && failed.event.value.failure?.configuredTimeoutMs).toBe(300);
    const row = await stack.commandRow(commandId);
    expect(row).toMatchObject({ status: "failed", error_message: ErrorMessages.timeout });
    expect(row.completed_at).toBeInstanceOf(Date);
    expect((await auditRows(commandId)).map((a) => a.action)).toEqual(["command_submitted", "command_timeout"]);
    await vehicle.next((m) => (m.kind.case === "cancel" && m.kind.value.commandId === commandId ? true : undefined));

    vehicle.chunk(commandId, 1, false, P0420);
    vehicle.chunk(commandId, 2, true, { status: "complete", totalDtcs: 1 });
    await expect.poll(() => metric(connector.registry, "chunks_dropped_total", 'reason="after_terminal"')).toBe(2);
    expect(await responseCount(commandId)).toBe(0);
    expect(await stack.commandRow(commandId)).toMatchObject({ status: "failed", error_message: ErrorMessages.timeout });
    expect(events.items.filter((e) => e.event.case === "response")).toHaveLength(0);
  });

  it("link drop mid-command: failed 'Vehicle unreachable' at once, phase response after chunks, delivery before any", async () => {
    const { vehicle, commandId, events, id } = await inFlight();
    const second = await stack.insertCommand({ vehicleId: id.vehicleId });
    expect((await stack.dispatch(commandId)).accepted).toBe(true);
    expect((await stack.dispatch(second)).accepted).toBe(true);
    await vehicle.execute(second);
    vehicle.chunk(commandId, 1, false, P0420);
    await expect.poll(() => responseCount(commandId)).toBe(1);
    vehicle.drop();
    const error = await events.waitFor((e) => e.event.case === "error");
    expect(error.event.case === "error" && error.event.value.errorMessage).toBe("Vehicle unreachable");
    expect(await stack.commandRow(commandId)).toMatchObject({ status: "failed", error_message: ErrorMessages.unreachable, failure_phase: "response" });
    await expect.poll(async () => (await stack.commandRow(second)).status).toBe("failed");
    expect(await stack.commandRow(second)).toMatchObject({ error_message: ErrorMessages.unreachable, failure_phase: "delivery" });
    expect((await auditRows(second)).map((a) => a.action)).toEqual(["command_submitted", "command_failed"]);
    // The session closes after its commands were failed: the vehicle goes offline right after.
    const status = async () =>
      (await stack.db.pool.query<{ connection_status: string }>("SELECT connection_status FROM vehicles WHERE vehicle_id = $1", [id.vehicleId])).rows[0]!.connection_status;
    await expect.poll(status).toBe("offline");
  });

  it("injected unreachable (rate 1): the dispatch is rejected as unreachable, every retry the same, nothing runs", async () => {
    const { connector, vehicle, commandId } = await inFlight({ FAULT_UNREACHABLE_RATE: "1", FAULT_SEED: "42" });
    expect(await stack.dispatch(commandId)).toMatchObject({ accepted: false, reason: "unreachable" });
    expect(await stack.dispatch(commandId)).toMatchObject({ accepted: false, reason: "unreachable" });
    expect((await stack.commandRow(commandId)).status).toBe("pending");
    expect(vehicle.received.filter((m) => m.kind.case === "execute")).toHaveLength(0);
    // One command, one injected fault, however often the gateway retries it.
    expect(await metric(connector.registry, "faults_injected_total", 'fault="unreachable"')).toBe(1);
  });

  it("injected timeout (rate 1): the vehicle's answer is swallowed and the real deadline fires", async () => {
    const { connector, vehicle, commandId, events } = await inFlight({ FAULT_TIMEOUT_RATE: "1" }, 300);
    expect((await stack.dispatch(commandId)).accepted).toBe(true);
    await vehicle.execute(commandId);
    vehicle.chunk(commandId, 1, false, P0420);
    vehicle.chunk(commandId, 2, true, { status: "complete", totalDtcs: 1 });
    await events.waitFor((e) => e.event.case === "status" && e.event.value.status === CommandStatus.FAILED);
    expect(await stack.commandRow(commandId)).toMatchObject({ status: "failed", error_message: ErrorMessages.timeout });
    expect(await responseCount(commandId)).toBe(0);
    expect((await auditRows(commandId)).map((a) => a.action)).toEqual(["command_submitted", "command_timeout"]);
    expect(await metric(connector.registry, "faults_injected_total", 'fault="timeout"')).toBe(1);
    expect(await metric(connector.registry, "chunks_dropped_total", 'reason="fault_timeout"')).toBe(2);
  });

  it("injected malformed (rate 1): a valid chunk is corrupted and the real validation fails the command", async () => {
    const { vehicle, commandId, events } = await inFlight({ FAULT_MALFORMED_RATE: "1" });
    expect((await stack.dispatch(commandId)).accepted).toBe(true);
    await vehicle.execute(commandId);
    vehicle.chunk(commandId, 1, false, P0420);
    const error = await events.waitFor((e) => e.event.case === "error");
    expect(error.event.case === "error" && error.event.value.errorMessage).toBe("Invalid response format from vehicle");
    expect(await stack.commandRow(commandId)).toMatchObject({ status: "failed", error_message: ErrorMessages.malformed, failure_phase: "response" });
    const audit = (await auditRows(commandId)).find((a) => a.action === "command_failed")!;
    expect(audit.details.fault_injected).toBe(true);
    expect(typeof audit.details.raw_payload_base64).toBe("string");
    expect(await responseCount(commandId)).toBe(0);
    expect(events.items.filter((e) => e.event.case === "response")).toHaveLength(0);
  });

  it("a killed connector's command is failed by its deadline by another connector's sweep", async () => {
    // The deadline must not pass before the crash, even on a loaded machine.
    const { connector, vehicle, commandId, events } = await inFlight({ SWEEP_INTERVAL_MS: "3600000" }, 3000);
    expect((await stack.dispatch(commandId)).accepted).toBe(true);
    await vehicle.execute(commandId);
    vehicle.chunk(commandId, 1, false, P0420);
    await expect.poll(() => responseCount(commandId)).toBe(1);
    // Expired queued and pending commands of other vehicles are swept too.
    const other = stack.vehicle(1);
    await stack.insertVehicle(other);
    const queued = await stack.insertCommand({ vehicleId: other.vehicleId, status: "queued", timeoutMs: 1 });
    const pending = await stack.insertCommand({ vehicleId: other.vehicleId, status: "pending", timeoutMs: 1 });

    await connector.abort();
    expect((await vehicle.status).code).not.toBe("ok");
    // The crash left it in progress.
    expect((await stack.commandRow(commandId)).status).toBe("in_progress");

    const survivor = await stack.startConnector({ SWEEP_INTERVAL_MS: "50" });
    const error = await events.waitFor((e) => e.event.case === "error", 15_000);
    expect(error.event.case === "error" && error.event.value.errorMessage).toBe("Vehicle connection timeout");
    const row = await stack.commandRow(commandId);
    expect(row).toMatchObject({ status: "failed", error_message: ErrorMessages.timeout, failure_phase: "response" });
    expect(row.completed_at!.getTime()).toBeGreaterThanOrEqual(row.deadline_at.getTime());
    const audit = await auditRows(commandId);
    expect(audit.map((a) => a.action)).toEqual(["command_submitted", "command_timeout"]);
    expect(audit[1]!.details).toMatchObject({ swept: true, previous_status: "in_progress" });

    await expect.poll(async () => (await stack.commandRow(queued)).status).toBe("failed");
    expect(await stack.commandRow(queued)).toMatchObject({ error_message: ErrorMessages.unreachable, failure_phase: "dispatch" });
    expect((await auditRows(queued)).map((a) => a.action)).toEqual(["command_submitted", "command_failed"]);
    await expect.poll(async () => (await stack.commandRow(pending)).status).toBe("failed");
    expect(await stack.commandRow(pending)).toMatchObject({ error_message: ErrorMessages.timeout, failure_phase: "dispatch" });
    await expect.poll(() => metric(survivor.registry, "command_sweeps_total")).toBe(3);
  });

  it("a killed connector's commands end as soon as their vehicle is back on another connector, not at their deadline", async () => {
    // A deadline far away: only the new session can end the commands in time.
    const { connector, vehicle, commandId, events, id } = await inFlight({ SWEEP_INTERVAL_MS: "3600000" }, 60_000, 3);
    const silent = await stack.insertCommand({ vehicleId: id.vehicleId, commandName: "ClearDTC", timeoutMs: 60_000 });
    expect((await stack.dispatch(commandId)).accepted).toBe(true);
    expect((await stack.dispatch(silent)).accepted).toBe(true);
    await vehicle.execute(commandId);
    await vehicle.execute(silent);
    vehicle.chunk(commandId, 1, false, P0420);
    await expect.poll(() => responseCount(commandId)).toBe(1);
    await connector.abort();
    expect((await stack.commandRow(commandId)).status).toBe("in_progress");

    const survivor = await stack.startConnector({ SWEEP_INTERVAL_MS: "3600000" });
    const started = Date.now();
    const back = await stack.onlineVehicle(survivor, id);
    const error = await events.waitFor((e) => e.event.case === "error", 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error.event.case === "error" && error.event.value.errorMessage).toBe(ErrorMessages.unreachable);
    expect(await stack.commandRow(commandId)).toMatchObject({ status: "failed", error_message: ErrorMessages.unreachable, failure_phase: "response" });
    // The ClearDTC is ended, never sent again: the vehicle's new session gets no Execute for it.
    await expect.poll(async () => (await stack.commandRow(silent)).status).toBe("failed");
    expect(await stack.commandRow(silent)).toMatchObject({ error_message: ErrorMessages.unreachable, failure_phase: "delivery" });
    expect(back.received.filter((m) => m.kind.case === "execute")).toHaveLength(0);
    const audit = await auditRows(commandId);
    expect(audit.map((a) => a.action)).toEqual(["command_submitted", "command_failed"]);
    expect(audit[1]!.details).toMatchObject({ reason: "the vehicle reconnected: the session that ran the command is gone", chunks_received: 1 });

    // The new session works: a new command on it completes.
    const next = await stack.insertCommand({ vehicleId: id.vehicleId, commandName: "ClearDTC" });
    expect((await stack.dispatch(next)).accepted).toBe(true);
    await back.execute(next);
    back.chunk(next, 1, true, { status: "cleared", clearedCount: 0 });
    await expect.poll(async () => (await stack.commandRow(next)).status).toBe("completed");
  });

  it("two sweeps at once never end a command twice", async () => {
    const { sweepExpiredCommands } = await import("@sovd/domain");
    const id = stack.vehicle(2);
    await stack.insertVehicle(id);
    const ids = await Promise.all(Array.from({ length: 5 }, () => stack.insertCommand({ vehicleId: id.vehicleId, timeoutMs: 1 })));
    await new Promise((r) => setTimeout(r, 20));
    const [a, b] = await Promise.all([sweepExpiredCommands(stack.db.pool), sweepExpiredCommands(stack.db.pool)]);
    // Other expired commands in this file's database may be swept too; each of ours exactly once.
    const mine = new Set(ids);
    const swept = [...a, ...b].map((s) => s.row.command_id).filter((id) => mine.has(id)).sort();
    expect(swept).toEqual([...ids].sort());
    const { rows } = await stack.db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_logs WHERE command_id = ANY($1::uuid[]) AND action = 'command_timeout'",
      [ids],
    );
    expect(rows[0]!.n).toBe(5);
  });

  it("queued commands are delivered oldest first when the vehicle connects; a viewer's is failed instead", async () => {
    const connector = await stack.startConnector();
    const id = stack.vehicle(3);
    await stack.insertVehicle(id);
    const first = await stack.insertCommand({ vehicleId: id.vehicleId, status: "queued", timeoutMs: 5000 });
    const second = await stack.insertCommand({ vehicleId: id.vehicleId, status: "queued", commandName: "ClearDTC" });
    const viewer = stack.users.viewer.userId;
    const forbidden = await stack.insertCommand({ vehicleId: id.vehicleId, status: "queued", userId: viewer });
    // The queue TTL is long; the command's own timeout starts at delivery.
    await stack.db.pool.query("UPDATE commands SET deadline_at = now() + interval '1 hour' WHERE command_id = $1", [first]);
    const events = await stack.commandEvents(first);

    const vehicle = await stack.onlineVehicle(connector, id);
    const e1 = await vehicle.execute();
    const e2 = await vehicle.execute();
    expect([e1.commandId, e2.commandId]).toEqual([first, second]);
    await events.waitFor((e) => e.event.case === "status" && e.event.value.status === CommandStatus.IN_PROGRESS);
    const row = await stack.commandRow(first);
    expect(row.status).toBe("in_progress");
    expect(row.deadline_at.getTime() - row.started_at!.getTime()).toBeGreaterThan(4900);
    expect(row.deadline_at.getTime() - row.started_at!.getTime()).toBeLessThan(5100);
    await expect.poll(async () => (await stack.commandRow(forbidden)).status).toBe("failed");
    expect(await stack.commandRow(forbidden)).toMatchObject({ error_message: ErrorMessages.unreachable, failure_phase: "dispatch" });
    expect(vehicle.received.some((m) => m.kind.case === "execute" && m.kind.value.commandId === forbidden)).toBe(false);
  });

  it("graceful shutdown lets a command finish within the drain, fails what is left after it, and takes vehicles offline", async () => {
    const { connector, vehicle, commandId, events, id } = await inFlight({ DRAIN_TIMEOUT_MS: "300" });
    const stuck = await stack.insertCommand({ vehicleId: id.vehicleId });
    expect((await stack.dispatch(commandId)).accepted).toBe(true);
    expect((await stack.dispatch(stuck)).accepted).toBe(true);
    await vehicle.execute(stuck);
    const closing = connector.close();
    // Draining: no new streams...
    const latecomer = await stack.connectVehicle(connector, stack.vehicle(9));
    latecomer.hello();
    expect(await latecomer.status).toMatchObject({ code: "unavailable", details: "connector is shutting down" });
    // ...but the running command may finish.
    vehicle.chunk(commandId, 1, true, { status: "complete", totalDtcs: 0 });
    await events.waitFor((e) => e.event.case === "status" && e.event.value.status === CommandStatus.COMPLETED);
    await closing;
    expect(await stack.commandRow(stuck)).toMatchObject({ status: "failed", error_message: ErrorMessages.unreachable, failure_phase: "delivery" });
    expect((await vehicle.status).code).toBe("unavailable");
    const { rows } = await stack.db.pool.query<{ connection_status: string }>("SELECT connection_status FROM vehicles WHERE vehicle_id = $1", [id.vehicleId]);
    expect(rows[0]!.connection_status).toBe("offline");
    expect(connector.sessionCount()).toBe(0);
  });
});

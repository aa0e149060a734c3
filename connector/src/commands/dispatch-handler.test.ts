import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { createMemoryBus, type Bus } from "@sovd/platform";
import { CancelDispatchSchema, CommandStatus, cancelSubject } from "@sovd/proto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openUnitDatabase, type UnitDatabase } from "../../test/database.js";
import { commandEngine, commandEvents, counted, delivered, dispatchMessage, fakeSession, sentKinds, type FakeSession } from "../../test/fakes.js";
import type { ConnectorMetrics } from "../metrics.js";
import type { CommandEngine } from "./command-engine.js";

const ACCEPTED = { accepted: true, reason: "" };
const refused = (reason: string): object => ({ accepted: false, reason });

describe("dispatch handler", () => {
  let db: UnitDatabase;
  let bus: Bus;
  let engine: CommandEngine;
  let metrics: ConnectorMetrics;
  let session: FakeSession;

  beforeAll(async () => {
    db = await openUnitDatabase();
  });
  afterAll(() => db?.close());

  beforeEach(async () => {
    bus = createMemoryBus();
    ({ engine, metrics } = commandEngine(db.pool, bus));
    session = fakeSession((await db.insertVehicle()).vehicleId);
  });
  afterEach(async () => {
    engine.abandon();
    await engine.settle();
    await bus.close();
  });

  /** Sends a dispatch of `commandId` to the session and returns the replies it got. */
  const execute = async (commandId: string, vehicleId = session.vehicleId, requestId?: string) => {
    const d = dispatchMessage(commandId, vehicleId, requestId);
    await engine.dispatch.onExecute(session, d.message);
    return d.replies;
  };

  it("accepts a pending command, answering with its request id, then starts it on the vehicle", async () => {
    const commandId = await db.insertCommand({ vehicleId: session.vehicleId });
    const events = await commandEvents(bus, commandId);

    const replies = await execute(commandId, session.vehicleId, "req-accept");

    expect(replies).toEqual([{ reply: expect.objectContaining(ACCEPTED), headers: { "x-request-id": "req-accept" } }]);
    expect((await db.command(commandId)).status).toBe("in_progress");
    expect(sentKinds(session.sent)).toEqual([["execute", commandId]]);
    await delivered(bus);
    expect(events.map((e) => e.event.case === "status" && e.event.value.status)).toEqual([CommandStatus.IN_PROGRESS]);
    expect(engine.inFlightCount()).toBe(1);
  });

  it("accepts a retried dispatch of a command this session already runs, without starting it again", async () => {
    const commandId = await db.insertCommand({ vehicleId: session.vehicleId });
    await execute(commandId);

    expect((await execute(commandId)).map((r) => r.reply)).toEqual([expect.objectContaining(ACCEPTED)]);
    expect(sentKinds(session.sent)).toEqual([["execute", commandId]]);
  });

  it("gives a retry that arrives while the first start is still being written the same answer, and starts the command once", async () => {
    const commandId = await db.insertCommand({ vehicleId: session.vehicleId });
    const events = await commandEvents(bus, commandId);
    const first = dispatchMessage(commandId, session.vehicleId);
    const retry = dispatchMessage(commandId, session.vehicleId);

    // The pool's one connection is taken: the start stays unwritten until it is given back.
    const held = await db.pool.connect();
    const handled = [engine.dispatch.onExecute(session, first.message), engine.dispatch.onExecute(session, retry.message)];
    await new Promise((resolve) => setImmediate(resolve));
    expect([first.replies, retry.replies, session.sent]).toEqual([[], [], []]);
    held.release();
    await Promise.all(handled);

    expect(first.replies.map((r) => r.reply)).toEqual([expect.objectContaining(ACCEPTED)]);
    expect(retry.replies.map((r) => r.reply)).toEqual([expect.objectContaining(ACCEPTED)]);
    expect(sentKinds(session.sent)).toEqual([["execute", commandId]]);
    await delivered(bus);
    expect(events).toHaveLength(1);
    expect(engine.inFlightCount()).toBe(1);
  });

  it("refuses every dispatch once shutting down, and leaves the command pending", async () => {
    const commandId = await db.insertCommand({ vehicleId: session.vehicleId });
    engine.stopAccepting();

    expect((await execute(commandId)).map((r) => r.reply)).toEqual([expect.objectContaining(refused("connector is shutting down"))]);
    expect((await db.command(commandId)).status).toBe("pending");
    expect(session.sent).toEqual([]);
  });

  it("refuses a dispatch meant for another vehicle", async () => {
    const commandId = await db.insertCommand({ vehicleId: session.vehicleId });
    const other = await db.insertVehicle();

    expect((await execute(commandId, other.vehicleId)).map((r) => r.reply)).toEqual([expect.objectContaining(refused("wrong vehicle"))]);
    expect((await db.command(commandId)).status).toBe("pending");
    expect(session.sent).toEqual([]);
  });

  it("refuses a command the database does not have for this vehicle", async () => {
    expect((await execute(randomUUID())).map((r) => r.reply)).toEqual([expect.objectContaining(refused("unknown command"))]);
    expect(session.sent).toEqual([]);
    expect(await counted(metrics.databaseErrors)).toBe(0);
  });

  it("refuses a command that already ended, naming its status", async () => {
    const commandId = await db.insertCommand({ vehicleId: session.vehicleId, status: "completed" });

    expect((await execute(commandId)).map((r) => r.reply)).toEqual([expect.objectContaining(refused("command is completed"))]);
    expect(session.sent).toEqual([]);
  });

  it("stays silent about a command already running elsewhere: the session that runs it answers", async () => {
    const commandId = await db.insertCommand({ vehicleId: session.vehicleId, status: "in_progress" });

    expect(await execute(commandId)).toEqual([]);
    expect(session.sent).toEqual([]);
    expect(engine.inFlightCount()).toBe(0);
  });

  it("stays silent on a session that is closing", async () => {
    const commandId = await db.insertCommand({ vehicleId: session.vehicleId });
    session.isOpen = false;

    expect(await execute(commandId)).toEqual([]);
    expect((await db.command(commandId)).status).toBe("pending");
  });

  it("answers an undecodable request as such and counts a bus error", async () => {
    const d = dispatchMessage(randomUUID(), session.vehicleId);
    await engine.dispatch.onExecute(session, { ...d.message, data: new Uint8Array([0xff, 0xff, 0xff]) });

    expect(d.replies.map((r) => r.reply)).toEqual([expect.objectContaining(refused("undecodable request"))]);
    expect(await counted(metrics.busErrors)).toBe(1);
  });

  it("forwards a cancel to the vehicle and stops tracking the command", async () => {
    const commandId = await db.insertCommand({ vehicleId: session.vehicleId });
    await execute(commandId);

    const data = toBinary(CancelDispatchSchema, create(CancelDispatchSchema, { commandId }));
    engine.dispatch.onCancel(session, { subject: cancelSubject(session.vehicleId), data, headers: {}, respond: () => false });

    expect(sentKinds(session.sent)).toEqual([
      ["execute", commandId],
      ["cancel", commandId],
    ]);
    expect(engine.inFlightCount()).toBe(0);
  });
});

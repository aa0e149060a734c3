import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { CancelDispatchSchema, CommandStatus, cancelSubject } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { commandEvents, counted, delivered, dispatchMessage, sentKinds, useEngineHarness } from "../../test/fakes.js";

const ACCEPTED = { accepted: true, reason: "" };
const refused = (reason: string): object => ({ accepted: false, reason });

describe("dispatch handler", () => {
  const h = useEngineHarness();

  /** Sends a dispatch of `commandId` to the session and returns the replies it got. */
  const execute = async (commandId: string, vehicleId = h.session.vehicleId, requestId?: string) => {
    const d = dispatchMessage(commandId, vehicleId, requestId);
    await h.engine.dispatch.onExecute(h.session, d.message);
    return d.replies;
  };

  it("accepts a pending command, answering with its request id, then starts it on the vehicle", async () => {
    const commandId = await h.db.insertCommand({ vehicleId: h.session.vehicleId });
    const events = await commandEvents(h.bus, commandId);

    const replies = await execute(commandId, h.session.vehicleId, "req-accept");

    expect(replies).toEqual([{ reply: expect.objectContaining(ACCEPTED), headers: { "x-request-id": "req-accept" } }]);
    expect((await h.db.command(commandId)).status).toBe("in_progress");
    expect(sentKinds(h.session.sent)).toEqual([["execute", commandId]]);
    await delivered(h.bus);
    expect(events.map((e) => e.event.case === "status" && e.event.value.status)).toEqual([CommandStatus.IN_PROGRESS]);
    expect(h.engine.inFlightCount()).toBe(1);
  });

  it("accepts a retried dispatch of a command this session already runs, without starting it again", async () => {
    const commandId = await h.db.insertCommand({ vehicleId: h.session.vehicleId });
    await execute(commandId);

    expect((await execute(commandId)).map((r) => r.reply)).toEqual([expect.objectContaining(ACCEPTED)]);
    expect(sentKinds(h.session.sent)).toEqual([["execute", commandId]]);
  });

  it("gives a retry that arrives while the first start is still being written the same answer, and starts the command once", async () => {
    const commandId = await h.db.insertCommand({ vehicleId: h.session.vehicleId });
    const events = await commandEvents(h.bus, commandId);
    const first = dispatchMessage(commandId, h.session.vehicleId);
    const retry = dispatchMessage(commandId, h.session.vehicleId);

    // The pool's one connection is taken: the start stays unwritten until it is given back.
    const held = await h.db.pool.connect();
    const handled = [h.engine.dispatch.onExecute(h.session, first.message), h.engine.dispatch.onExecute(h.session, retry.message)];
    await new Promise((resolve) => setImmediate(resolve));
    expect([first.replies, retry.replies, h.session.sent]).toEqual([[], [], []]);
    held.release();
    await Promise.all(handled);

    expect(first.replies.map((r) => r.reply)).toEqual([expect.objectContaining(ACCEPTED)]);
    expect(retry.replies.map((r) => r.reply)).toEqual([expect.objectContaining(ACCEPTED)]);
    expect(sentKinds(h.session.sent)).toEqual([["execute", commandId]]);
    await delivered(h.bus);
    expect(events).toHaveLength(1);
    expect(h.engine.inFlightCount()).toBe(1);
  });

  it("refuses every dispatch once shutting down, and leaves the command pending", async () => {
    const commandId = await h.db.insertCommand({ vehicleId: h.session.vehicleId });
    h.engine.stopAccepting();

    expect((await execute(commandId)).map((r) => r.reply)).toEqual([expect.objectContaining(refused("connector is shutting down"))]);
    expect((await h.db.command(commandId)).status).toBe("pending");
    expect(h.session.sent).toEqual([]);
  });

  it("refuses a dispatch meant for another vehicle", async () => {
    const commandId = await h.db.insertCommand({ vehicleId: h.session.vehicleId });
    const other = await h.db.insertVehicle();

    expect((await execute(commandId, other.vehicleId)).map((r) => r.reply)).toEqual([expect.objectContaining(refused("wrong vehicle"))]);
    expect((await h.db.command(commandId)).status).toBe("pending");
    expect(h.session.sent).toEqual([]);
  });

  it("refuses a command the database does not have for this vehicle", async () => {
    expect((await execute(randomUUID())).map((r) => r.reply)).toEqual([expect.objectContaining(refused("unknown command"))]);
    expect(h.session.sent).toEqual([]);
    expect(await counted(h.metrics.databaseErrors)).toBe(0);
  });

  it("refuses a command that already ended, naming its status", async () => {
    const commandId = await h.db.insertCommand({ vehicleId: h.session.vehicleId, status: "completed" });

    expect((await execute(commandId)).map((r) => r.reply)).toEqual([expect.objectContaining(refused("command is completed"))]);
    expect(h.session.sent).toEqual([]);
  });

  it("stays silent about a command already running elsewhere: the session that runs it answers", async () => {
    const commandId = await h.db.insertCommand({ vehicleId: h.session.vehicleId, status: "in_progress" });

    expect(await execute(commandId)).toEqual([]);
    expect(h.session.sent).toEqual([]);
    expect(h.engine.inFlightCount()).toBe(0);
  });

  it("stays silent on a session that is closing", async () => {
    const commandId = await h.db.insertCommand({ vehicleId: h.session.vehicleId });
    h.session.isOpen = false;

    expect(await execute(commandId)).toEqual([]);
    expect((await h.db.command(commandId)).status).toBe("pending");
  });

  it("answers an undecodable request as such and counts a bus error", async () => {
    const d = dispatchMessage(randomUUID(), h.session.vehicleId);
    await h.engine.dispatch.onExecute(h.session, { ...d.message, data: new Uint8Array([0xff, 0xff, 0xff]) });

    expect(d.replies.map((r) => r.reply)).toEqual([expect.objectContaining(refused("undecodable request"))]);
    expect(await counted(h.metrics.busErrors)).toBe(1);
  });

  it("forwards a cancel to the vehicle and stops tracking the command", async () => {
    const commandId = await h.db.insertCommand({ vehicleId: h.session.vehicleId });
    await execute(commandId);

    const data = toBinary(CancelDispatchSchema, create(CancelDispatchSchema, { commandId }));
    h.engine.dispatch.onCancel(h.session, { subject: cancelSubject(h.session.vehicleId), data, headers: {}, respond: () => false });

    expect(sentKinds(h.session.sent)).toEqual([
      ["execute", commandId],
      ["cancel", commandId],
    ]);
    expect(h.engine.inFlightCount()).toBe(0);
  });
});

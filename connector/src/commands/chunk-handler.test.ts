import { create } from "@bufbuild/protobuf";
import { ChunkSchema, CommandStatus, ErrorMessages, FailureSchema, type CommandEvent } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { commandEvents, counted, delivered, dispatchMessage, sentKinds, useEngineHarness } from "../../test/fakes.js";

const DTC = { dtcCode: "P0420", description: "Catalyst system efficiency below threshold" };
const DTC_2 = { dtcCode: "P0171", description: "System too lean (bank 1)" };
const DONE = { status: "complete", totalDtcs: 2 };

/** What a watcher of the command's events saw, compactly. */
const seen = (events: readonly CommandEvent[]): string[] =>
  events.map(({ event }) => {
    if (event.case === "response") return `response ${event.value.sequenceNumber}`;
    if (event.case === "status") return `status ${CommandStatus[event.value.status]}`;
    if (event.case === "error") return `error ${event.value.errorMessage}`;
    return "?";
  });

describe("chunk handler", () => {
  const h = useEngineHarness();

  /** A ReadDTC running on the session (dispatched and accepted), and the events published from then on. */
  const running = async (): Promise<{ commandId: string; events: CommandEvent[] }> => {
    const commandId = await h.db.insertCommand({ vehicleId: h.session.vehicleId });
    const d = dispatchMessage(commandId, h.session.vehicleId);
    await h.engine.dispatch.onExecute(h.session, d.message);
    expect(d.replies.map((r) => r.reply.accepted)).toEqual([true]);
    await delivered(h.bus);
    return { commandId, events: await commandEvents(h.bus, commandId) };
  };

  const sendChunk = (commandId: string, sequenceNumber: number, isFinal: boolean, payload: object | Uint8Array, receivedAt = new Date()): void => {
    const bytes = payload instanceof Uint8Array ? payload : new TextEncoder().encode(JSON.stringify(payload));
    h.engine.answers.onChunk(h.session, create(ChunkSchema, { commandId, sequenceNumber, isFinal, payload: bytes }), receivedAt);
  };

  /** Every step started so far has finished and its events are delivered. */
  const settled = async (): Promise<void> => {
    await h.engine.settle();
    await delivered(h.bus);
  };

  it("stores in-order chunks as they were received and publishes each; the final one completes the command, its status published after the last response", async () => {
    const { commandId, events } = await running();
    const at = [new Date("2030-01-01T00:00:01Z"), new Date("2030-01-01T00:00:02Z"), new Date("2030-01-01T00:00:03Z")];

    sendChunk(commandId, 1, false, DTC, at[0]);
    sendChunk(commandId, 2, false, DTC_2, at[1]);
    sendChunk(commandId, 3, true, DONE, at[2]);
    await settled();

    const responses = await h.db.responses(commandId);
    expect(responses.map((r) => [r.sequence_number, r.response_payload, r.is_final, r.received_at])).toEqual([
      [1, DTC, false, at[0]],
      [2, DTC_2, false, at[1]],
      [3, DONE, true, at[2]],
    ]);
    expect(seen(events)).toEqual(["response 1", "response 2", "response 3", "status COMPLETED"]);
    const row = await h.db.command(commandId);
    expect([row.status, row.last_sequence, row.completed_at]).toEqual(["completed", 3, expect.any(Date)]);
    expect((await h.db.audit(commandId)).map((a) => [a.action, a.details.chunks])).toEqual([["command_completed", 3]]);
    expect(await counted(h.metrics.commands.commandsExecuted, { command: "ReadDTC", status: "completed" })).toBe(1);
    expect(h.engine.inFlightCount()).toBe(0);
    expect(sentKinds(h.session.sent)).toEqual([["execute", commandId]]);
  });

  it("drops a duplicate and a gap without storing them, and counts both", async () => {
    const { commandId, events } = await running();

    sendChunk(commandId, 1, false, DTC);
    sendChunk(commandId, 1, false, DTC);
    sendChunk(commandId, 3, true, DONE);
    await settled();

    expect((await h.db.responses(commandId)).map((r) => r.sequence_number)).toEqual([1]);
    expect(seen(events)).toEqual(["response 1"]);
    const row = await h.db.command(commandId);
    expect([row.status, row.last_sequence]).toEqual(["in_progress", 1]);
    expect(await counted(h.metrics.chunksDropped, { reason: "out_of_sequence" })).toBe(2);
    expect(h.engine.inFlightCount()).toBe(1);
  });

  it("drops a chunk of a command not in flight here as unknown, and one after the command ended as after_terminal", async () => {
    const { commandId } = await running();
    sendChunk(commandId, 1, true, DONE);
    await settled();

    sendChunk(commandId, 2, true, DONE);
    sendChunk("6f9a0000-0000-4000-8000-000000000000", 1, true, DONE);
    await settled();

    expect(await counted(h.metrics.chunksDropped, { reason: "after_terminal" })).toBe(1);
    expect(await counted(h.metrics.chunksDropped, { reason: "unknown_command" })).toBe(1);
    expect((await h.db.responses(commandId)).map((r) => r.sequence_number)).toEqual([1]);
  });

  it("fails the command on a malformed chunk, audits its raw bytes, tells the vehicle to stop and publishes no response", async () => {
    const { commandId, events } = await running();
    const raw = new TextEncoder().encode('{"dtcCode": P0420');

    sendChunk(commandId, 1, false, raw);
    await settled();

    const row = await h.db.command(commandId);
    expect([row.status, row.error_message, row.failure_phase]).toEqual(["failed", ErrorMessages.malformed, "response"]);
    expect(await h.db.responses(commandId)).toEqual([]);
    expect(await h.db.audit(commandId)).toEqual([
      {
        action: "command_failed",
        details: expect.objectContaining({
          raw_payload_base64: Buffer.from(raw).toString("base64"),
          raw_payload_bytes: raw.byteLength,
          raw_payload_truncated: false,
          validation_error: expect.stringContaining("not UTF-8 JSON"),
          sequence_number: 1,
          fault_injected: false,
          chunks_received: 0,
        }),
      },
    ]);
    expect(seen(events)).toEqual([`error ${ErrorMessages.malformed}`, "status FAILED"]);
    expect(sentKinds(h.session.sent)).toEqual([
      ["execute", commandId],
      ["cancel", commandId],
    ]);
    expect(await counted(h.metrics.chunksDropped, { reason: "invalid_payload" })).toBe(1);
    expect(await counted(h.metrics.commands.commandsExecuted, { command: "ReadDTC", status: "failed" })).toBe(1);
  });

  it("keeps at most 4 KiB of a malformed chunk's bytes in the audit row", async () => {
    const { commandId } = await running();
    const raw = new Uint8Array(5000).fill(0x78);

    sendChunk(commandId, 1, false, raw);
    await settled();

    const [audit] = await h.db.audit(commandId);
    expect(Buffer.from(String(audit?.details.raw_payload_base64), "base64")).toEqual(Buffer.from(raw.subarray(0, 4096)));
    expect([audit?.details.raw_payload_bytes, audit?.details.raw_payload_truncated]).toEqual([5000, true]);
  });

  it("fails the command with the vehicle's own message when the vehicle reports a failure", async () => {
    const { commandId, events } = await running();
    sendChunk(commandId, 1, false, DTC);

    h.engine.answers.onFailure(h.session, create(FailureSchema, { commandId, message: "  ECU did not answer  " }));
    await settled();

    const row = await h.db.command(commandId);
    expect([row.status, row.error_message, row.failure_phase]).toEqual(["failed", "ECU did not answer", "response"]);
    expect((await h.db.audit(commandId)).map((a) => [a.action, a.details.vehicle_message, a.details.chunks_received])).toEqual([
      ["command_failed", "ECU did not answer", 1],
    ]);
    expect(seen(events)).toEqual(["response 1", "error ECU did not answer", "status FAILED"]);
  });
});

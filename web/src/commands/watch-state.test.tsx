import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { CommandEventSchema, CommandSchema, CommandStatus, FailurePhase, ResponseSchema, type CommandEvent } from "@sovd/proto";
import { timestampInit, timestampMs } from "../lib/time.js";
import { applyEvent, initialWatchState, withRecord, withReturnedCommand } from "./watch-state.js";

const SUBMITTED = Date.parse("2026-11-22T12:00:00Z");

const record = (status: CommandStatus) =>
  create(CommandSchema, { commandId: "c-1", vehicleId: "v-1", commandName: "ReadDTC", status, submittedAt: timestampInit(SUBMITTED), params: { ecuAddress: "0x10" } });
const chunk = (seq: number) => create(ResponseSchema, { responseId: `r-${seq}`, sequenceNumber: seq, payload: { dtcCode: `P000${seq}` } });
const statusEvent = (status: CommandStatus, value: Record<string, unknown> = {}): CommandEvent =>
  create(CommandEventSchema, { commandId: "c-1", event: { case: "status", value: { status, ...value } } });
const chunkEvent = (seq: number): CommandEvent => create(CommandEventSchema, { commandId: "c-1", event: { case: "response", value: chunk(seq) } });

describe("watch state", () => {
  it("keeps the end the stream reported when the record answers after it", () => {
    const streamed = applyEvent(
      { ...initialWatchState, stream: "live" },
      statusEvent(CommandStatus.FAILED, { errorMessage: "Vehicle connection timeout", completedAt: timestampInit(SUBMITTED + 1000), failure: { phase: FailurePhase.RESPONSE, configuredTimeoutMs: 1000 } }),
    );
    // Read before the command ended, answered after the stream said so.
    const state = withRecord(streamed, record(CommandStatus.IN_PROGRESS), []);
    expect(state.command?.params).toEqual({ ecuAddress: "0x10" });
    expect(state.status).toBe(CommandStatus.FAILED);
    expect(state.completedAt && timestampMs(state.completedAt)).toBe(SUBMITTED + 1000);
    expect(state.errorMessage).toBe("Vehicle connection timeout");
    expect(state.phase).toBe(FailurePhase.RESPONSE);
    expect(state.failure?.configuredTimeoutMs).toBe(1000);
    expect(state.stream).toBe("live");
  });

  it("takes the record's status while the stream has said none, and each chunk once", () => {
    const streamed = applyEvent(applyEvent(initialWatchState, chunkEvent(2)), chunkEvent(3));
    const state = withRecord(streamed, record(CommandStatus.IN_PROGRESS), [chunk(1), chunk(2)]);
    expect(state.status).toBe(CommandStatus.IN_PROGRESS);
    expect(state.responses.map((r) => r.sequenceNumber)).toEqual([1, 2, 3]);
    expect(state.stream).toBe("live");
  });

  it("never leaves a terminal status for another one", () => {
    const done = applyEvent(withRecord(initialWatchState, record(CommandStatus.IN_PROGRESS), []), statusEvent(CommandStatus.COMPLETED));
    expect(applyEvent(done, statusEvent(CommandStatus.FAILED)).status).toBe(CommandStatus.COMPLETED);
    expect(withReturnedCommand(done, record(CommandStatus.CANCELLED)).status).toBe(CommandStatus.COMPLETED);
    expect(withReturnedCommand(withRecord(initialWatchState, record(CommandStatus.IN_PROGRESS), []), record(CommandStatus.CANCELLED)).status).toBe(CommandStatus.CANCELLED);
  });
});

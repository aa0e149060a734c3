import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CommandEventSchema, CommandStatus } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { parseClientAction, toWsEvent, WsProtocolError } from "./ws-messages.js";

const ID = "22222222-2222-4222-8222-222222222222";
const at = new Date("2026-01-02T03:04:05.678Z");

describe('WebSocket bridge messages (architecture §4 "WebSocket messages")', () => {
  it("response events", () => {
    const event = create(CommandEventSchema, {
      commandId: ID,
      event: { case: "response", value: { responseId: "r-1", sequenceNumber: 1, isFinal: false, payload: { dtcCode: "P0420" }, receivedAt: timestampFromDate(at) } },
    });
    expect(JSON.stringify(toWsEvent(event))).toBe(
      `{"event":"response","command_id":"${ID}","sequence_number":1,"response":{"response_id":"r-1","response_payload":{"dtcCode":"P0420"},"sequence_number":1,"is_final":false,"received_at":"2026-01-02T03:04:05.678Z"}}`,
    );
  });

  it("status events only for the end of a command, lower-case as stored", () => {
    const status = (s: CommandStatus, errorMessage = "") =>
      toWsEvent(create(CommandEventSchema, { commandId: ID, event: { case: "status", value: { status: s, errorMessage, completedAt: timestampFromDate(at) } } }));
    expect(JSON.stringify(status(CommandStatus.COMPLETED))).toBe(`{"event":"status","command_id":"${ID}","status":"completed","completed_at":"2026-01-02T03:04:05.678Z"}`);
    expect(status(CommandStatus.FAILED, "Vehicle unreachable")).toEqual({
      event: "status",
      command_id: ID,
      status: "failed",
      completed_at: "2026-01-02T03:04:05.678Z",
      error_message: "Vehicle unreachable",
    });
    expect(status(CommandStatus.IN_PROGRESS)).toBeUndefined();
    expect(status(CommandStatus.QUEUED)).toBeUndefined();
  });

  it("error events", () => {
    const event = create(CommandEventSchema, { commandId: ID, event: { case: "error", value: { errorMessage: "Vehicle connection timeout" } } });
    expect(JSON.stringify(toWsEvent(event))).toBe(`{"event":"error","command_id":"${ID}","error_message":"Vehicle connection timeout"}`);
  });

  it("parses subscribe and unsubscribe; names the problem of anything else", () => {
    expect(parseClientAction(JSON.stringify({ action: "subscribe", command_id: ID }))).toEqual({ action: "subscribe", command_id: ID });
    expect(parseClientAction(JSON.stringify({ action: "unsubscribe", command_id: ID }))).toEqual({ action: "unsubscribe", command_id: ID });
    const problem = (text: string) => {
      try {
        parseClientAction(text);
      } catch (err) {
        expect(err).toBeInstanceOf(WsProtocolError);
        return (err as Error).message;
      }
      throw new Error("expected a protocol error");
    };
    expect(problem("{nope")).toMatch(/not JSON/);
    expect(problem("[1,2]")).toMatch(/JSON object/);
    expect(problem(JSON.stringify({ action: "delete", command_id: ID }))).toMatch(/action must be/);
    expect(problem(JSON.stringify({ action: "subscribe" }))).toMatch(/command_id must be a string/);
    expect(problem(JSON.stringify({ action: "subscribe", command_id: "1 OR 1=1" }))).toMatch(/command_id must be a UUID/);
  });
});

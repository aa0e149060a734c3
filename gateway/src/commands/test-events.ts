import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CommandEventSchema, CommandStatus, type CommandEvent } from "@sovd/proto";

/* The events of one command as the watch tests build and read them. */

export const ID = "11111111-1111-4111-8111-111111111111";

export const response = (seq: number): CommandEvent =>
  create(CommandEventSchema, {
    commandId: ID,
    event: { case: "response", value: { responseId: `r${seq}`, sequenceNumber: seq, isFinal: false, payload: { n: seq }, receivedAt: timestampFromDate(new Date()) } },
  });

export const status = (s: CommandStatus, lastSequence = 0): CommandEvent =>
  create(CommandEventSchema, { commandId: ID, event: { case: "status", value: { status: s, lastSequence } } });

/** `r3` for a response, the status name for a status, `error` for an error. */
export const label = (e: CommandEvent): string =>
  e.event.case === "response" ? `r${e.event.value.sequenceNumber}` : e.event.case === "status" ? CommandStatus[e.event.value.status] : "error";

import type { JsonObject } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { isTerminalStatus, statusFromProto, type CommandEvent } from "@sovd/proto";
import { isUuid } from "../rpc/index.js";

/**
 * The JSON of the edge WebSocket bridge, exactly as the contract writes it
 * (architecture §4 "WebSocket messages"). Existing clients parse these shapes; field names
 * and nesting are a contract.
 */
export type WsServerEvent =
  | {
      event: "response";
      command_id: string;
      sequence_number: number;
      response: {
        response_id: string;
        response_payload: JsonObject;
        sequence_number: number;
        is_final: boolean;
        received_at: string;
      };
    }
  | { event: "status"; command_id: string; status: string; completed_at: string | null; error_message?: string }
  | { event: "error"; command_id: string | null; error_message: string };

/** What a client may send: follow or stop following one more command on this connection. */
export interface WsClientAction {
  action: "subscribe" | "unsubscribe";
  command_id: string;
}

const iso = (t: Timestamp | undefined): string | null => (t ? timestampDate(t).toISOString() : null);

/**
 * The bridge event for a command event. Status events are sent when the command ends (the
 * protocol's `status` means "done", with `completed_at` set); intermediate statuses
 * (pending, queued, in_progress) have no WebSocket form and give undefined.
 */
export function toWsEvent(event: CommandEvent): WsServerEvent | undefined {
  switch (event.event.case) {
    case "response": {
      const r = event.event.value;
      return {
        event: "response",
        command_id: event.commandId,
        sequence_number: r.sequenceNumber,
        response: {
          response_id: r.responseId,
          response_payload: r.payload ?? {},
          sequence_number: r.sequenceNumber,
          is_final: r.isFinal,
          received_at: iso(r.receivedAt) ?? new Date(0).toISOString(),
        },
      };
    }
    case "status": {
      const s = event.event.value;
      if (!isTerminalStatus(s.status)) return undefined;
      return {
        event: "status",
        command_id: event.commandId,
        status: statusFromProto(s.status) ?? "unknown",
        completed_at: iso(s.completedAt),
        ...(s.errorMessage ? { error_message: s.errorMessage } : {}),
      };
    }
    case "error":
      return { event: "error", command_id: event.commandId, error_message: event.event.value.errorMessage };
    default:
      return undefined;
  }
}

/** A message from a client the bridge cannot act on; `message` says why, for the error event. */
export class WsProtocolError extends Error {
  override readonly name = "WsProtocolError";
  constructor(
    message: string,
    readonly commandId: string | null = null,
  ) {
    super(message);
  }
}

/** Parses a client frame; WsProtocolError naming the problem for anything else. */
export function parseClientAction(data: string): WsClientAction {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new WsProtocolError('invalid message: not JSON; expected {"action":"subscribe"|"unsubscribe","command_id":"…"}');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new WsProtocolError("invalid message: expected a JSON object with action and command_id");
  }
  const { action, command_id: commandId } = parsed as { action?: unknown; command_id?: unknown };
  const id = typeof commandId === "string" ? commandId : null;
  if (action !== "subscribe" && action !== "unsubscribe") {
    throw new WsProtocolError('invalid message: action must be "subscribe" or "unsubscribe"', id && isUuid(id) ? id : null);
  }
  if (id === null) throw new WsProtocolError("invalid message: command_id must be a string");
  if (!isUuid(id)) throw new WsProtocolError("invalid message: command_id must be a UUID");
  return { action, command_id: id };
}

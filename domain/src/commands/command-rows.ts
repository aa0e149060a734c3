import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CommandEventSchema,
  CommandSchema,
  FailureDetailSchema,
  ResponseSchema,
  failurePhaseToProto,
  statusToProto,
  type Command,
  type CommandEvent,
  type FailureDetail,
  type Response,
  type StoredFailurePhase,
  type StoredStatus,
} from "@sovd/proto";

/*
 * The `commands` and `responses` rows and their one mapping to the proto messages, so a
 * command looks the same in GetCommand, ListCommands, a replay and a live event
 * (architecture §2 "The shared command store").
 */

/** A `commands` row as selected by COMMAND_COLUMNS. */
export interface CommandRow {
  command_id: string;
  vehicle_id: string;
  user_id: string;
  command_name: string;
  command_params: JsonObject;
  status: StoredStatus;
  error_message: string | null;
  failure_phase: StoredFailurePhase | null;
  timeout_ms: number;
  idempotency_key: string | null;
  correlation_id: string | null;
  last_sequence: number;
  submitted_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  deadline_at: Date;
}

export const COMMAND_COLUMNS = `command_id, vehicle_id, user_id, command_name, command_params, status, error_message,
  failure_phase, timeout_ms, idempotency_key, correlation_id, last_sequence, submitted_at, started_at, completed_at, deadline_at`;

/** A `responses` row. */
export interface ResponseRow {
  response_id: string;
  command_id: string;
  response_payload: JsonObject;
  sequence_number: number;
  is_final: boolean;
  received_at: Date;
}

const ts = (d: Date | null | undefined) => (d ? timestampFromDate(d) : undefined);

/** Where and after how long a failed command failed; undefined for any other status. */
function failureOf(row: CommandRow): FailureDetail | undefined {
  if (row.status !== "failed") return undefined;
  return create(FailureDetailSchema, {
    phase: failurePhaseToProto(row.failure_phase),
    configuredTimeoutMs: row.timeout_ms,
    elapsedMs: Math.max(0, (row.completed_at ?? new Date()).getTime() - row.submitted_at.getTime()),
  });
}

/** The proto Command of a stored row (GetCommand, ListCommands, SubmitCommand's reply). */
export function commandFromRow(row: CommandRow): Command {
  return create(CommandSchema, {
    commandId: row.command_id,
    vehicleId: row.vehicle_id,
    userId: row.user_id,
    commandName: row.command_name,
    params: row.command_params,
    status: statusToProto(row.status),
    errorMessage: row.error_message ?? "",
    submittedAt: ts(row.submitted_at),
    startedAt: ts(row.started_at),
    completedAt: ts(row.completed_at),
    deadlineAt: ts(row.deadline_at),
    correlationId: row.correlation_id ?? "",
    idempotencyKey: row.idempotency_key ?? "",
    failure: failureOf(row),
  });
}

/** The proto Response of a stored chunk. */
export function responseFromRow(row: ResponseRow): Response {
  return create(ResponseSchema, {
    responseId: row.response_id,
    sequenceNumber: row.sequence_number,
    isFinal: row.is_final,
    payload: row.response_payload,
    receivedAt: timestampFromDate(row.received_at),
  });
}

/** The response event of a stored chunk, as published live and replayed. */
export function responseEventFromRow(row: ResponseRow): CommandEvent {
  return create(CommandEventSchema, { commandId: row.command_id, event: { case: "response", value: responseFromRow(row) } });
}

/**
 * The status event watchers get for a command in its current state. It carries
 * `last_sequence`, so a watcher that saw every chunk live needs no database read at the end.
 */
export function statusEventFromRow(row: CommandRow): CommandEvent {
  return create(CommandEventSchema, {
    commandId: row.command_id,
    event: {
      case: "status",
      value: {
        status: statusToProto(row.status),
        errorMessage: row.error_message ?? "",
        changedAt: timestampFromDate(row.completed_at ?? row.started_at ?? row.submitted_at),
        startedAt: ts(row.started_at),
        completedAt: ts(row.completed_at),
        failure: failureOf(row),
        lastSequence: row.last_sequence,
      },
    },
  });
}

/**
 * The events that describe a stored command's current state: for a failure the error event
 * (with the stored message and phase) first, then the status event. What a watcher replays
 * and what publishTerminalEvents sends are the same events.
 */
export function stateEventsFromRow(row: CommandRow): CommandEvent[] {
  const events: CommandEvent[] = [];
  if (row.status === "failed") {
    events.push(
      create(CommandEventSchema, {
        commandId: row.command_id,
        event: { case: "error", value: { errorMessage: row.error_message ?? "", phase: failurePhaseToProto(row.failure_phase) } },
      }),
    );
  }
  events.push(statusEventFromRow(row));
  return events;
}

/** Seconds from submission to the terminal status, for `command_execution_duration_seconds`. */
export const executionSeconds = (row: CommandRow): number =>
  ((row.completed_at ?? new Date()).getTime() - row.submitted_at.getTime()) / 1000;

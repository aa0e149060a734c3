import { create, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CommandEventSchema,
  CommandSchema,
  ResponseSchema,
  commandEventsSubject,
  failurePhaseToProto,
  statusToProto,
  REQUEST_ID_HEADER,
  type Command,
  type CommandEvent,
  type Response,
  type StoredFailurePhase,
  type StoredStatus,
} from "@sovd/proto";
import type { Bus } from "../bus/bus.js";
import { insertAudit, type AuditAction, type Queryable } from "../db/audit.js";
import { withTransaction, type Pool } from "../db/database.js";

/**
 * The command rows both services read and change (ARCHITECTURE §3, §8). Gateway and
 * connector never import each other; they share this data access instead, so a terminal
 * transition is written one way only, guarded in SQL (terminal is terminal, §7).
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

export function commandFromRow(row: CommandRow): Command {
  const failed = row.status === "failed";
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
    failure: failed
      ? {
          phase: failurePhaseToProto(row.failure_phase),
          configuredTimeoutMs: row.timeout_ms,
          elapsedMs: Math.max(0, (row.completed_at ?? new Date()).getTime() - row.submitted_at.getTime()),
        }
      : undefined,
  });
}

export function responseFromRow(row: ResponseRow): Response {
  return create(ResponseSchema, {
    responseId: row.response_id,
    sequenceNumber: row.sequence_number,
    isFinal: row.is_final,
    payload: row.response_payload,
    receivedAt: timestampFromDate(row.received_at),
  });
}

/** The status event watchers get for a command in its current state. */
export function statusEventFromRow(row: CommandRow): CommandEvent {
  const command = commandFromRow(row);
  return create(CommandEventSchema, {
    commandId: row.command_id,
    event: {
      case: "status",
      value: {
        status: command.status,
        errorMessage: command.errorMessage,
        changedAt: timestampFromDate(row.completed_at ?? row.started_at ?? row.submitted_at),
        startedAt: command.startedAt,
        completedAt: command.completedAt,
        failure: command.failure,
      },
    },
  });
}

/** Publishes one event of a command on `sovd.v1.command.{id}.events`, carrying the request id. */
export function publishCommandEvent(bus: Bus, event: CommandEvent, requestId?: string | null): void {
  bus.publish(
    commandEventsSubject(event.commandId),
    toBinary(CommandEventSchema, event),
    requestId ? { [REQUEST_ID_HEADER]: requestId } : {},
  );
}

export async function getCommandRow(db: Queryable, commandId: string): Promise<CommandRow | undefined> {
  const { rows } = await db.query<CommandRow>(`SELECT ${COMMAND_COLUMNS} FROM commands WHERE command_id = $1`, [commandId]);
  return rows[0];
}

export async function listResponseRows(db: Queryable, commandId: string, afterSequence = 0): Promise<ResponseRow[]> {
  const { rows } = await db.query<ResponseRow>(
    `SELECT response_id, command_id, response_payload, sequence_number, is_final, received_at
       FROM responses WHERE command_id = $1 AND sequence_number > $2 ORDER BY sequence_number`,
    [commandId, afterSequence],
  );
  return rows;
}

export interface FinishCommand {
  commandId: string;
  status: "completed" | "failed" | "cancelled";
  errorMessage?: string;
  failurePhase?: StoredFailurePhase;
  audit: { action: AuditAction; userId?: string | null; details?: JsonObject; ipAddress?: string | null; userAgent?: string | null };
  requestId?: string | null;
}

/**
 * Moves an open command to a terminal status and writes its audit row, in one transaction.
 * Returns the updated row, or undefined when the command was already terminal (nothing is
 * changed then: terminal is terminal, guarded in SQL).
 */
export async function finishCommand(pool: Pool, f: FinishCommand): Promise<CommandRow | undefined> {
  return withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<CommandRow>(
      `UPDATE commands
          SET status = $2, error_message = $3, failure_phase = $4, completed_at = now()
        WHERE command_id = $1 AND status IN ('pending', 'queued', 'in_progress')
        RETURNING ${COMMAND_COLUMNS}`,
      [f.commandId, f.status, f.errorMessage ?? null, f.status === "failed" ? (f.failurePhase ?? null) : null],
    );
    const row = rows[0];
    if (!row) return undefined;
    await insertAudit(tx, {
      action: f.audit.action,
      userId: f.audit.userId === undefined ? row.user_id : f.audit.userId,
      vehicleId: row.vehicle_id,
      commandId: row.command_id,
      details: {
        command_name: row.command_name,
        status: row.status,
        ...(row.error_message ? { error_message: row.error_message } : {}),
        ...(row.failure_phase ? { failure_phase: row.failure_phase } : {}),
        elapsed_ms: row.completed_at!.getTime() - row.submitted_at.getTime(),
        ...f.audit.details,
      },
      ipAddress: f.audit.ipAddress,
      userAgent: f.audit.userAgent,
      requestId: f.requestId ?? row.correlation_id,
    });
    return row;
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

/**
 * Publishes what watchers must see when a command ended: stateEventsFromRow of the terminal
 * row. Call after finishCommand committed (persist first, then publish).
 */
export function publishTerminalEvents(bus: Bus, row: CommandRow): void {
  for (const event of stateEventsFromRow(row)) publishCommandEvent(bus, event, row.correlation_id);
}

/** Seconds from submission to the terminal status, for `command_execution_duration_seconds`. */
export const executionSeconds = (row: CommandRow): number =>
  ((row.completed_at ?? new Date()).getTime() - row.submitted_at.getTime()) / 1000;

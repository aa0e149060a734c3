import type { JsonObject } from "@bufbuild/protobuf";
import { ErrorMessages, type StoredFailurePhase, type StoredStatus } from "@sovd/proto";
import { keysetRows, sql, type Queryable, type SqlCondition } from "@sovd/platform";
import type { AuditAction } from "../audit.js";
import { COMMAND_COLUMNS, type CommandRow, type ResponseRow } from "./command-rows.js";

/*
 * The only SQL on `commands` and `responses` (architecture §2 "The shared command store"). Every transition is
 * one statement, guarded in its WHERE clause, so two processes (or a late chunk and a
 * timeout) can never both win, and every change that has an audit row writes it in the same
 * statement: a data-modifying CTE commits both or neither, in one round trip. Hot
 * statements are named, so each connection parses and plans them once.
 */

const columns = COMMAND_COLUMNS.split(",").map((c) => c.trim());
/** COMMAND_COLUMNS of the relation `alias`, for statements that join several. */
const columnsOf = (alias: string): string => columns.map((c) => `${alias}.${c}`).join(", ");

/** The audit row's elapsed time of a row that just ended, in ms. */
const ELAPSED_MS = "(extract(epoch FROM (completed_at - submitted_at)) * 1000)::bigint";

/** Largest sequence number an `integer` column holds. */
const MAX_SEQUENCE = 2_147_483_647;

// ---- submit ---------------------------------------------------------------------------------

/** A validated SubmitCommand, ready to store. */
export interface NewCommand {
  readonly vehicleId: string;
  readonly userId: string;
  readonly commandName: string;
  readonly params: JsonObject;
  readonly timeoutMs: number;
  /** Set when the submitter allows queueing; the command is queued if the vehicle is offline. */
  readonly queueTtlMs?: number;
  readonly idempotencyKey: string | null;
  /** The request id of the submit, kept as `correlation_id`. */
  readonly correlationId: string | null;
  /** Who sent it, for the `command_submitted` audit row. */
  readonly client: { readonly ipAddress?: string | null; readonly userAgent?: string | null };
}

/** What storing a submission did. */
export type SubmitOutcome =
  | { readonly kind: "created"; readonly row: CommandRow }
  /** The same user already submitted with this idempotency key: the first command. */
  | { readonly kind: "existing"; readonly row: CommandRow }
  | { readonly kind: "vehicle_not_found" };

const INSERT_SUBMITTED = `
WITH vehicle AS (
  SELECT connection_status FROM vehicles WHERE vehicle_id = $1
), existing AS (
  SELECT ${COMMAND_COLUMNS} FROM commands
   WHERE $6::text IS NOT NULL AND user_id = $2 AND idempotency_key = $6 AND EXISTS (SELECT 1 FROM vehicle)
), decided AS (
  SELECT CASE WHEN $8::integer IS NOT NULL AND connection_status <> 'online' THEN 'queued' ELSE 'pending' END AS status
    FROM vehicle
), inserted AS (
  INSERT INTO commands (vehicle_id, user_id, command_name, command_params, status, timeout_ms, idempotency_key, correlation_id, deadline_at)
  SELECT $1, $2, $3, $4::jsonb, d.status, $5, $6, $7,
         -- A queued command waits exactly its TTL; the connector sets the real deadline on delivery.
         now() + (CASE WHEN d.status = 'queued' THEN $8::integer ELSE $5 END) * interval '1 millisecond'
    FROM decided d
   WHERE NOT EXISTS (SELECT 1 FROM existing)
  ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${COMMAND_COLUMNS}
), audited AS (
  INSERT INTO audit_logs (action, user_id, vehicle_id, command_id, details, ip_address, user_agent, request_id)
  SELECT 'command_submitted', user_id, vehicle_id, command_id,
         jsonb_build_object('command_name', command_name, 'params', command_params, 'timeout_ms', timeout_ms)
           || CASE WHEN status = 'queued' THEN jsonb_build_object('queued', true, 'queue_ttl_ms', $8::integer) ELSE '{}'::jsonb END,
         $9, $10, $7
    FROM inserted
)
SELECT 'created' AS outcome, ${COMMAND_COLUMNS} FROM inserted
UNION ALL
SELECT 'existing' AS outcome, ${COMMAND_COLUMNS} FROM existing`;

/**
 * Stores a submission with its `command_submitted` audit row in one statement: the vehicle
 * must exist; `queued` when queueing is allowed and the vehicle is offline, else `pending`.
 * A repeated idempotency key of the same user returns the first command (also when a
 * concurrent submit with that key won the race).
 */
export async function insertSubmitted(db: Queryable, c: NewCommand): Promise<SubmitOutcome> {
  const { rows } = await db.query<CommandRow & { outcome: "created" | "existing" }>(
    { name: "sovd_insert_submitted", text: INSERT_SUBMITTED },
    [
      c.vehicleId,
      c.userId,
      c.commandName,
      JSON.stringify(c.params),
      c.timeoutMs,
      c.idempotencyKey,
      c.correlationId,
      c.queueTtlMs ?? null,
      c.client.ipAddress ?? null,
      c.client.userAgent?.slice(0, 512) ?? null,
    ],
  );
  const row = rows[0];
  if (row) return { kind: row.outcome, row: withoutOutcome(row) };
  // Nothing inserted and nothing found: the vehicle is missing, or a concurrent submit with
  // the same key committed between our snapshot and our insert.
  if (c.idempotencyKey !== null) {
    const first = await findByIdempotencyKey(db, c.userId, c.idempotencyKey);
    if (first) return { kind: "existing", row: first };
  }
  return { kind: "vehicle_not_found" };
}

const withoutOutcome = <T extends { outcome: unknown }>(row: T): Omit<T, "outcome"> => {
  const { outcome: _, ...rest } = row;
  return rest;
};

/** The command a user already submitted with `key`. */
export async function findByIdempotencyKey(db: Queryable, userId: string, key: string): Promise<CommandRow | undefined> {
  const { rows } = await db.query<CommandRow>(`SELECT ${COMMAND_COLUMNS} FROM commands WHERE user_id = $1 AND idempotency_key = $2`, [
    userId,
    key,
  ]);
  return rows[0];
}

// ---- reads ----------------------------------------------------------------------------------

/** One command row. */
export async function getCommandRow(db: Queryable, commandId: string): Promise<CommandRow | undefined> {
  const { rows } = await db.query<CommandRow>(
    { name: "sovd_get_command", text: `SELECT ${COMMAND_COLUMNS} FROM commands WHERE command_id = $1` },
    [commandId],
  );
  return rows[0];
}

/** The stored responses of a command after `afterSequence`, in order. */
export async function listResponseRows(db: Queryable, commandId: string, afterSequence = 0): Promise<ResponseRow[]> {
  const { rows } = await db.query<ResponseRow>(
    {
      name: "sovd_list_responses",
      text: `SELECT response_id, command_id, response_payload, sequence_number, is_final, received_at
               FROM responses WHERE command_id = $1 AND sequence_number > $2 ORDER BY sequence_number`,
    },
    [commandId, afterSequence],
  );
  return rows;
}

interface RowWithResponses extends CommandRow {
  responses: { response_id: string; response_payload: JsonObject; sequence_number: number; is_final: boolean; received_at: string }[];
}

/**
 * A command and its responses after `afterSequence` in one round trip (what a watch replays
 * and GetCommand answers).
 */
export async function getCommandWithResponses(
  db: Queryable,
  commandId: string,
  afterSequence = 0,
): Promise<{ row: CommandRow; responses: ResponseRow[] } | undefined> {
  const { rows } = await db.query<RowWithResponses>(
    {
      name: "sovd_get_command_with_responses",
      text: `SELECT ${COMMAND_COLUMNS},
                    COALESCE((SELECT json_agg(json_build_object(
                               'response_id', r.response_id, 'response_payload', r.response_payload,
                               'sequence_number', r.sequence_number, 'is_final', r.is_final, 'received_at', r.received_at)
                             ORDER BY r.sequence_number)
                        FROM responses r WHERE r.command_id = c.command_id AND r.sequence_number > $2), '[]') AS responses
               FROM commands c WHERE c.command_id = $1`,
    },
    [commandId, afterSequence],
  );
  const found = rows[0];
  if (!found) return undefined;
  const { responses, ...row } = found;
  return {
    row,
    responses: responses.map((r) => ({ ...r, command_id: commandId, received_at: new Date(r.received_at) })),
  };
}

/** What a history page is filtered by; every field optional. */
export interface CommandFilter {
  readonly userId?: string;
  readonly vehicleId?: string;
  readonly status?: StoredStatus;
  readonly commandName?: string;
  readonly submittedAfter?: Date;
  readonly submittedBefore?: Date;
}

/** Where a history page resumes: the last row's submission time (µs since the epoch) and id. */
export type CommandPageKey = readonly [submittedMicros: number, commandId: string];

/**
 * One page of history, newest first, by keyset (`(submitted_at, command_id) < key`), so the
 * thousandth page costs what the first does; served by the `(…, submitted_at DESC,
 * command_id DESC)` indexes. `next` is the key of the page after, when there is one.
 */
export async function listCommandsPage(
  db: Queryable,
  filter: CommandFilter,
  opts: { size: number; after?: CommandPageKey },
): Promise<{ rows: CommandRow[]; next: CommandPageKey | undefined }> {
  const where: SqlCondition[] = [];
  if (filter.userId !== undefined) where.push(sql`user_id = ${filter.userId}`);
  if (filter.vehicleId !== undefined) where.push(sql`vehicle_id = ${filter.vehicleId}`);
  if (filter.status !== undefined) where.push(sql`status = ${filter.status}`);
  if (filter.commandName !== undefined) where.push(sql`command_name = ${filter.commandName}`);
  if (filter.submittedAfter !== undefined) where.push(sql`submitted_at > ${filter.submittedAfter}`);
  if (filter.submittedBefore !== undefined) where.push(sql`submitted_at < ${filter.submittedBefore}`);
  if (opts.after) {
    where.push(sql`(submitted_at, command_id) < (timestamptz 'epoch' + ${opts.after[0]}::bigint * interval '1 microsecond', ${opts.after[1]}::uuid)`);
  }
  const { rows, more } = await keysetRows<CommandRow & { submitted_us: number }>(db, {
    select: `SELECT ${COMMAND_COLUMNS}, (extract(epoch FROM submitted_at) * 1000000)::bigint AS submitted_us FROM commands`,
    where,
    orderBy: "submitted_at DESC, command_id DESC",
    size: opts.size,
  });
  const last = rows[rows.length - 1];
  return {
    rows: rows.map(({ submitted_us: _, ...row }) => row),
    next: more && last ? [last.submitted_us, last.command_id] : undefined,
  };
}

// ---- dispatch and queue ---------------------------------------------------------------------

/** pending -> queued after the first dispatch found no connector (queueing allowed); waits `ttlMs`. */
export async function markQueued(db: Queryable, commandId: string, ttlMs: number): Promise<CommandRow | undefined> {
  const { rows } = await db.query<CommandRow>(
    `UPDATE commands SET status = 'queued', deadline_at = now() + $2 * interval '1 millisecond'
      WHERE command_id = $1 AND status = 'pending' RETURNING ${COMMAND_COLUMNS}`,
    [commandId, ttlMs],
  );
  return rows[0];
}

/** A dispatch a connector wants to start on the vehicle it holds. */
export interface StartRequest {
  readonly commandId: string;
  readonly vehicleId: string;
}

/** Started, or why not: the status the command has (undefined: no such command for that vehicle). */
export type StartOutcome = { readonly started: true; readonly row: CommandRow } | { readonly started: false; readonly status: StoredStatus | undefined };

const START_COMMANDS = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(command_id uuid, vehicle_id uuid)
), started AS (
  UPDATE commands c
     SET status = 'in_progress',
         started_at = now(),
         -- A command that waited in the offline queue gets its real deadline now.
         deadline_at = CASE WHEN c.status = 'queued' THEN now() + make_interval(secs => c.timeout_ms / 1000.0) ELSE c.deadline_at END
    FROM input i
   WHERE c.command_id = ANY($2::uuid[]) AND c.command_id = i.command_id AND c.vehicle_id = i.vehicle_id
     AND c.status IN ('pending', 'queued')
  RETURNING ${columnsOf("c")}
)
SELECT i.command_id AS requested_id,
       (SELECT b.status FROM commands b WHERE b.command_id = i.command_id AND b.vehicle_id = i.vehicle_id) AS status_before,
       ${columnsOf("s")}
  FROM input i
  LEFT JOIN started s ON s.command_id = i.command_id`;

/**
 * pending/queued -> in_progress for many commands in one statement (group commit across the
 * dispatches that arrive together), each only for its own vehicle. A queued command gets its
 * real deadline (timeout_ms from now).
 */
export async function startCommands(db: Queryable, requests: readonly StartRequest[]): Promise<StartOutcome[]> {
  const { rows } = await db.query<CommandRow & { requested_id: string; status_before: StoredStatus | null }>(
    { name: "sovd_start_commands", text: START_COMMANDS },
    [JSON.stringify(requests.map((r) => ({ command_id: r.commandId, vehicle_id: r.vehicleId }))), requests.map((r) => r.commandId)],
  );
  const byId = new Map(rows.map((r) => [r.requested_id, r]));
  return requests.map((r): StartOutcome => {
    const found = byId.get(r.commandId);
    if (found?.command_id) {
      const { requested_id: _, status_before: __, ...row } = found;
      return { started: true, row };
    }
    return { started: false, status: found?.status_before ?? undefined };
  });
}

/** The commands waiting for this vehicle to connect, oldest first (partial index commands_queued_vehicle_idx). */
export async function listQueuedCommands(db: Queryable, vehicleId: string, limit = 100): Promise<CommandRow[]> {
  const { rows } = await db.query<CommandRow>(
    `SELECT ${COMMAND_COLUMNS} FROM commands
      WHERE vehicle_id = $1 AND status = 'queued' AND deadline_at > now()
      ORDER BY submitted_at, command_id LIMIT $2`,
    [vehicleId, limit],
  );
  return rows;
}

/**
 * Which of these vehicles have commands waiting in the offline queue: one statement for a
 * batch of vehicles coming online, so a storm of session opens does not read once per vehicle
 * (partial index commands_queued_vehicle_idx).
 */
export async function vehiclesWithQueuedCommands(db: Queryable, vehicleIds: readonly string[]): Promise<Set<string>> {
  if (vehicleIds.length === 0) return new Set();
  const { rows } = await db.query<{ vehicle_id: string }>(
    {
      name: "sovd_vehicles_with_queued",
      text: `SELECT DISTINCT vehicle_id FROM commands WHERE vehicle_id = ANY($1::uuid[]) AND status = 'queued' AND deadline_at > now()`,
    },
    [vehicleIds],
  );
  return new Set(rows.map((r) => r.vehicle_id));
}

/**
 * The commands the earlier sessions of these vehicles left running (architecture §3 "Vehicle
 * sessions"), per vehicle: in progress on a vehicle when a new session of it opens. Their
 * stream is gone (a vehicle has one session; the connector that held it was killed, or it
 * closes that session on the claim), so no answer can reach them any more. One statement for a
 * batch of session opens, so a reconnect storm does not read once per vehicle.
 */
export async function listInterruptedCommands(db: Queryable, vehicleIds: readonly string[]): Promise<Map<string, CommandRow[]>> {
  const found = new Map<string, CommandRow[]>();
  if (vehicleIds.length === 0) return found;
  const { rows } = await db.query<CommandRow>(
    {
      name: "sovd_interrupted_commands",
      text: `SELECT ${COMMAND_COLUMNS} FROM commands
              WHERE vehicle_id = ANY($1::uuid[]) AND status = 'in_progress'
              ORDER BY started_at, command_id`,
    },
    [vehicleIds],
  );
  for (const row of rows) {
    const list = found.get(row.vehicle_id);
    if (list) list.push(row);
    else found.set(row.vehicle_id, [row]);
  }
  return found;
}

/** True when the user may still run commands: active, and not a viewer (re-checked at queued delivery). */
export async function mayRunCommands(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>("SELECT (is_active AND role IN ('engineer', 'admin')) AS ok FROM users WHERE user_id = $1", [
    userId,
  ]);
  return rows[0]?.ok === true;
}

// ---- chunks ---------------------------------------------------------------------------------

/** A validated chunk of a running command. */
export interface NewChunk {
  readonly commandId: string;
  readonly sequenceNumber: number;
  readonly isFinal: boolean;
  readonly payload: JsonObject;
  /** When the connector read it off the stream (so storing latency never distorts spacing). */
  readonly receivedAt: Date;
}

/**
 * Chunks of one command with consecutive sequence numbers, of which only the last may be
 * final: what a vehicle sent while the command's previous write was being committed.
 */
export interface ChunkRun {
  readonly commandId: string;
  readonly chunks: readonly NewChunk[];
}

/** What storing one run did: all of its chunks are stored, or none. */
export type AppendOutcome =
  | {
      readonly stored: true;
      /** The stored rows, in sequence order. */
      readonly responses: readonly ResponseRow[];
      /** The run ended with the final chunk, which completed the command (with its audit row): the terminal row. */
      readonly completed: CommandRow | undefined;
    }
  | { readonly stored: false; readonly reason: "out_of_sequence" | "after_terminal" };

const APPEND_CHUNKS = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb)
    AS i(command_id uuid, seq integer, is_final boolean, payload jsonb, received_at timestamptz)
), runs AS (
  SELECT command_id, min(seq) AS first_seq, max(seq) AS last_seq, bool_or(is_final) AS final FROM input GROUP BY command_id
), advanced AS (
  UPDATE commands c
     SET last_sequence = r.last_seq,
         status = CASE WHEN r.final THEN 'completed' ELSE c.status END,
         completed_at = CASE WHEN r.final THEN now() ELSE c.completed_at END
    FROM runs r
   WHERE c.command_id = ANY($2::uuid[]) AND c.command_id = r.command_id
     AND c.status = 'in_progress' AND c.last_sequence = r.first_seq - 1
  RETURNING ${columnsOf("c")}, r.last_seq, r.final
), stored AS (
  INSERT INTO responses (command_id, response_payload, sequence_number, is_final, received_at)
  SELECT i.command_id, i.payload, i.seq, i.is_final, i.received_at FROM input i JOIN advanced a ON a.command_id = i.command_id
  RETURNING response_id, command_id, sequence_number
), audited AS (
  INSERT INTO audit_logs (action, user_id, vehicle_id, command_id, details, request_id)
  SELECT 'command_completed', user_id, vehicle_id, command_id,
         jsonb_build_object('command_name', command_name, 'status', status, 'elapsed_ms', ${ELAPSED_MS}, 'chunks', last_seq),
         correlation_id
    FROM advanced WHERE final
)
SELECT r.command_id AS requested_id,
       (SELECT b.status FROM commands b WHERE b.command_id = r.command_id) AS status_before,
       (SELECT json_agg(st.response_id ORDER BY st.sequence_number) FROM stored st WHERE st.command_id = r.command_id) AS response_ids,
       ${columnsOf("a")}
  FROM runs r
  LEFT JOIN advanced a ON a.command_id = r.command_id`;

const isRun = (run: ChunkRun): boolean =>
  run.chunks.length > 0 &&
  run.chunks.every(
    (c, i) =>
      c.commandId === run.commandId &&
      c.sequenceNumber >= 1 &&
      c.sequenceNumber <= MAX_SEQUENCE &&
      (i === 0 || c.sequenceNumber === run.chunks[i - 1]!.sequenceNumber + 1) &&
      (!c.isFinal || i === run.chunks.length - 1),
  );

/**
 * Stores runs of chunks of several commands in one statement (group commit: one round trip
 * and one WAL flush for all of them). A run is stored if, and only if, it continues a
 * running command (`last_sequence = first - 1`, checked in SQL), so a duplicate, a gap or a
 * chunk after the end is never stored. A final chunk completes its command and writes the
 * `command_completed` audit row in the same statement. At most one run per command per call.
 */
export async function appendChunks(db: Queryable, runs: readonly ChunkRun[]): Promise<AppendOutcome[]> {
  const valid = runs.filter(isRun);
  const { rows } =
    valid.length === 0
      ? { rows: [] }
      : await db.query<CommandRow & { requested_id: string; status_before: StoredStatus | null; response_ids: string[] | null }>(
          { name: "sovd_append_chunks", text: APPEND_CHUNKS },
          [
            JSON.stringify(
              valid.flatMap((r) =>
                r.chunks.map((c) => ({
                  command_id: c.commandId,
                  seq: c.sequenceNumber,
                  is_final: c.isFinal,
                  payload: c.payload,
                  received_at: c.receivedAt.toISOString(),
                })),
              ),
            ),
            valid.map((r) => r.commandId),
          ],
        );
  const byId = new Map(rows.map((r) => [r.requested_id, r]));
  const sent = new Set(valid);
  return runs.map((run): AppendOutcome => {
    const found = sent.has(run) ? byId.get(run.commandId) : undefined;
    const ids = found?.response_ids;
    if (!found || !ids || ids.length !== run.chunks.length) {
      return { stored: false, reason: found?.status_before === "in_progress" || !found ? "out_of_sequence" : "after_terminal" };
    }
    const { requested_id: _, status_before: __, response_ids: ___, ...row } = found;
    const responses = run.chunks.map(
      (c, i): ResponseRow => ({
        response_id: ids[i]!,
        command_id: c.commandId,
        response_payload: c.payload,
        sequence_number: c.sequenceNumber,
        is_final: c.isFinal,
        received_at: c.receivedAt,
      }),
    );
    return { stored: true, responses, completed: run.chunks[run.chunks.length - 1]!.isFinal ? row : undefined };
  });
}

// ---- terminal transitions -------------------------------------------------------------------

/** How a command ends, when it does not end by its final chunk or the sweep. */
export interface Ending {
  readonly commandId: string;
  readonly status: "completed" | "failed" | "cancelled";
  readonly errorMessage?: string;
  readonly failurePhase?: StoredFailurePhase;
  readonly audit: {
    readonly action: AuditAction;
    /** Whose action it is; the submitter when undefined, nobody when null. */
    readonly userId?: string | null;
    readonly details?: JsonObject;
    readonly ipAddress?: string | null;
    readonly userAgent?: string | null;
  };
  /** The request that ended it; the command's correlation id when absent. */
  readonly requestId?: string | null;
}

const FINISH_COMMAND = `
WITH ended AS (
  UPDATE commands
     SET status = $2, error_message = $3, failure_phase = $4, completed_at = now()
   WHERE command_id = $1 AND status IN ('pending', 'queued', 'in_progress')
  RETURNING ${COMMAND_COLUMNS}
), audited AS (
  INSERT INTO audit_logs (action, user_id, vehicle_id, command_id, details, ip_address, user_agent, request_id)
  SELECT $5, CASE WHEN $6::boolean THEN user_id ELSE $7::uuid END, vehicle_id, command_id,
         jsonb_strip_nulls(jsonb_build_object('command_name', command_name, 'status', status,
           'error_message', NULLIF(error_message, ''), 'failure_phase', failure_phase, 'elapsed_ms', ${ELAPSED_MS})) || $8::jsonb,
         $9, $10, COALESCE($11, correlation_id)
    FROM ended
)
SELECT ${COMMAND_COLUMNS} FROM ended`;

/**
 * Moves an open command to a terminal status and writes its audit row, in one statement.
 * Returns the terminal row, or undefined when the command was already terminal (nothing
 * changes then: terminal is terminal, guarded in SQL).
 */
export async function finishCommand(db: Queryable, e: Ending): Promise<CommandRow | undefined> {
  const { rows } = await db.query<CommandRow>({ name: "sovd_finish_command", text: FINISH_COMMAND }, [
    e.commandId,
    e.status,
    e.errorMessage ?? null,
    e.status === "failed" ? (e.failurePhase ?? null) : null,
    e.audit.action,
    e.audit.userId === undefined,
    e.audit.userId ?? null,
    JSON.stringify(e.audit.details ?? {}),
    e.audit.ipAddress ?? null,
    e.audit.userAgent?.slice(0, 512) ?? null,
    e.requestId ?? null,
  ]);
  return rows[0];
}

/** A command the sweep ended, with the status it had before. */
export interface SweptCommand {
  readonly row: CommandRow;
  readonly previous: StoredStatus;
}

/** How many expired commands one sweep ends at most; the next sweep takes the rest. */
export const SWEEP_BATCH = 100;

const SWEEP_EXPIRED = `
WITH expired AS (
  SELECT command_id, status FROM commands
   WHERE status IN ('pending', 'queued', 'in_progress') AND deadline_at < now()
   ORDER BY deadline_at
   LIMIT $1
   FOR UPDATE SKIP LOCKED
), ended AS (
  UPDATE commands c
     SET status = 'failed',
         completed_at = now(),
         error_message = CASE WHEN e.status = 'queued' THEN $2 ELSE $3 END,
         failure_phase = CASE WHEN e.status = 'in_progress' THEN 'response' ELSE 'dispatch' END
    FROM expired e
   WHERE c.command_id = e.command_id
  RETURNING ${columnsOf("c")}, e.status AS previous_status
), audited AS (
  INSERT INTO audit_logs (action, user_id, vehicle_id, command_id, details, request_id)
  SELECT CASE WHEN previous_status = 'queued' THEN 'command_failed' ELSE 'command_timeout' END,
         user_id, vehicle_id, command_id,
         jsonb_build_object('command_name', command_name, 'status', status, 'error_message', error_message,
           'failure_phase', failure_phase, 'elapsed_ms', ${ELAPSED_MS},
           'timeout_ms', timeout_ms, 'previous_status', previous_status, 'swept', true),
         correlation_id
    FROM ended
)
SELECT * FROM ended`;

/**
 * Fails every open command past its `deadline_at` (nothing stays open past its deadline,
 * even when the process that ran it was killed), with its audit row, in one statement. The
 * expired rows are locked with `FOR UPDATE SKIP LOCKED`, so several connectors sweep at once
 * without waiting on each other or ending a command twice. Queued commands never reached
 * their vehicle: "Vehicle unreachable" (dispatch). Pending and in-progress ones: "Vehicle
 * connection timeout", audit `command_timeout`.
 */
export async function sweepExpiredCommands(db: Queryable, limit = SWEEP_BATCH): Promise<SweptCommand[]> {
  const { rows } = await db.query<CommandRow & { previous_status: StoredStatus }>({ name: "sovd_sweep_expired", text: SWEEP_EXPIRED }, [
    limit,
    ErrorMessages.unreachable,
    ErrorMessages.timeout,
  ]);
  return rows.map(({ previous_status, ...row }) => ({ row, previous: previous_status }));
}

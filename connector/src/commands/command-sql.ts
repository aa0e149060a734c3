import { COMMAND_COLUMNS, withTransaction, type CommandRow, type Pool, type Queryable, type ResponseRow } from "@sovd/platform";
import type { JsonObject } from "@bufbuild/protobuf";

/**
 * The SQL of the connector's side of the command lifecycle. Every transition is guarded in
 * the WHERE clause, so two processes (or a late chunk and a timeout) can never both win.
 */

/**
 * pending/queued -> in_progress, for this vehicle only. A command that waited in the offline
 * queue gets its real deadline now (its deadline so far was the queue TTL): timeout_ms from
 * delivery. Returns undefined when the command is not startable (any more).
 */
export async function startCommand(db: Queryable, commandId: string, vehicleId: string): Promise<CommandRow | undefined> {
  const { rows } = await db.query<CommandRow>(
    `UPDATE commands
        SET status = 'in_progress',
            started_at = now(),
            deadline_at = CASE WHEN status = 'queued' THEN now() + make_interval(secs => timeout_ms / 1000.0) ELSE deadline_at END
      WHERE command_id = $1 AND vehicle_id = $2 AND status IN ('pending', 'queued')
      RETURNING ${COMMAND_COLUMNS}`,
    [commandId, vehicleId],
  );
  return rows[0];
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

/** True when the user may still run commands: active, and not a viewer (re-checked at queued delivery). */
export async function mayRunCommands(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(
    "SELECT (is_active AND role IN ('engineer', 'admin')) AS ok FROM users WHERE user_id = $1",
    [userId],
  );
  return rows[0]?.ok === true;
}

/** Outcome of storing one chunk. */
export type StoreChunkResult =
  | { stored: true; response: ResponseRow }
  | { stored: false; reason: "out_of_sequence" | "after_terminal" };

/** Largest sequence number an `integer` column holds. */
const MAX_SEQUENCE = 2_147_483_647;

/**
 * Stores a validated chunk if, and only if, it is the next one of a running command: the
 * sequence is checked in SQL (`last_sequence = seq - 1`) and the responses row is inserted in
 * the same transaction, so a duplicate, a gap or a chunk after the end is never stored.
 * `received_at` is when the connector read the chunk off the stream, so storing latency never
 * distorts the spacing a watcher sees.
 */
export async function storeChunk(
  pool: Pool,
  chunk: { commandId: string; sequenceNumber: number; isFinal: boolean; payload: JsonObject; receivedAt: Date },
): Promise<StoreChunkResult> {
  if (chunk.sequenceNumber < 1 || chunk.sequenceNumber > MAX_SEQUENCE) return { stored: false, reason: "out_of_sequence" };
  return withTransaction(pool, async (tx) => {
    const advanced = await tx.query(
      `UPDATE commands SET last_sequence = $2
        WHERE command_id = $1 AND status = 'in_progress' AND last_sequence = $2 - 1`,
      [chunk.commandId, chunk.sequenceNumber],
    );
    if (advanced.rowCount === 0) {
      const { rows } = await tx.query<{ status: string }>("SELECT status FROM commands WHERE command_id = $1", [chunk.commandId]);
      const status = rows[0]?.status;
      return { stored: false, reason: status === "in_progress" ? "out_of_sequence" : "after_terminal" };
    }
    const { rows } = await tx.query<ResponseRow>(
      `INSERT INTO responses (command_id, response_payload, sequence_number, is_final, received_at)
       VALUES ($1, $2, $3, $4, $5)
       RETURNING response_id, command_id, response_payload, sequence_number, is_final, received_at`,
      [chunk.commandId, JSON.stringify(chunk.payload), chunk.sequenceNumber, chunk.isFinal, chunk.receivedAt.toISOString()],
    );
    return { stored: true, response: rows[0]! };
  });
}

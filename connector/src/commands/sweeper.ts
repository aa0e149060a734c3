import {
  COMMAND_COLUMNS,
  insertAudit,
  publishTerminalEvents,
  withTransaction,
  type Bus,
  type CommandRow,
  type Logger,
  type Pool,
} from "@sovd/platform";
import { ErrorMessages, type StoredStatus } from "@sovd/proto";

/** How many expired commands one sweep ends at most; the next sweep takes the rest. */
export const SWEEP_BATCH = 100;

/** A command the sweep ended, with the status it had before. */
export interface SweptCommand {
  readonly row: CommandRow;
  readonly previous: StoredStatus;
}

/**
 * Fails every open command past its `deadline_at` (ARCHITECTURE §7: nothing stays open past
 * its deadline, even when the process that ran it was killed). One transaction: the expired
 * rows are locked with `FOR UPDATE SKIP LOCKED` (several connectors sweep at once without
 * waiting on each other or ending a command twice), failed, and audited. Queued commands
 * never reached their vehicle: "Vehicle unreachable" (dispatch). Pending and in-progress
 * ones: "Vehicle connection timeout", audit `command_timeout`. Publishes nothing: the
 * caller publishes after the commit.
 */
export async function sweepExpiredCommands(pool: Pool, limit = SWEEP_BATCH): Promise<SweptCommand[]> {
  return withTransaction(pool, async (tx) => {
    const { rows: expired } = await tx.query<{ command_id: string; status: StoredStatus }>(
      `SELECT command_id, status FROM commands
        WHERE status IN ('pending', 'queued', 'in_progress') AND deadline_at < now()
        ORDER BY deadline_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    if (expired.length === 0) return [];
    const { rows } = await tx.query<CommandRow>(
      `UPDATE commands
          SET status = 'failed',
              completed_at = now(),
              error_message = CASE WHEN status = 'queued' THEN $2 ELSE $3 END,
              failure_phase = CASE WHEN status = 'in_progress' THEN 'response' ELSE 'dispatch' END
        WHERE command_id = ANY($1::uuid[]) AND status IN ('pending', 'queued', 'in_progress')
        RETURNING ${COMMAND_COLUMNS}`,
      [expired.map((e) => e.command_id), ErrorMessages.unreachable, ErrorMessages.timeout],
    );
    const previous = new Map(expired.map((e) => [e.command_id, e.status]));
    const swept: SweptCommand[] = [];
    for (const row of rows) {
      const before = previous.get(row.command_id)!;
      await insertAudit(tx, {
        action: before === "queued" ? "command_failed" : "command_timeout",
        userId: row.user_id,
        vehicleId: row.vehicle_id,
        commandId: row.command_id,
        details: {
          command_name: row.command_name,
          status: row.status,
          error_message: row.error_message,
          failure_phase: row.failure_phase,
          previous_status: before,
          timeout_ms: row.timeout_ms,
          elapsed_ms: row.completed_at!.getTime() - row.submitted_at.getTime(),
          swept: true,
        },
        requestId: row.correlation_id,
      });
      swept.push({ row, previous: before });
    }
    return swept;
  });
}

/** The running sweep loop; stop() waits for a sweep in progress. */
export interface Sweeper {
  /** Runs one sweep now (tests, and the loop itself). */
  sweepOnce(): Promise<SweptCommand[]>;
  stop(): Promise<void>;
}

/** Sweeps every `intervalMs`: one connector-wide timer, never one per command. */
export function startSweeper(deps: {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  intervalMs: number;
  onSwept: (swept: readonly SweptCommand[]) => void;
  onError: (err: unknown, kind: "database" | "bus") => void;
}): Sweeper {
  let running: Promise<SweptCommand[]> | undefined;
  let stopped = false;

  const sweepOnce = (): Promise<SweptCommand[]> => {
    if (running) return running;
    running = (async () => {
      try {
        const swept = await sweepExpiredCommands(deps.pool);
        for (const s of swept) {
          deps.logger.warn(
            { commandId: s.row.command_id, vehicleId: s.row.vehicle_id, requestId: s.row.correlation_id, previous: s.previous },
            "expired command failed by the sweep",
          );
          try {
            publishTerminalEvents(deps.bus, s.row);
          } catch (err) {
            deps.onError(err, "bus");
          }
        }
        if (swept.length > 0) deps.onSwept(swept);
        return swept;
      } catch (err) {
        deps.onError(err, "database");
        return [];
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const timer = setInterval(() => {
    if (!stopped) void sweepOnce();
  }, deps.intervalMs);
  timer.unref();

  return {
    sweepOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

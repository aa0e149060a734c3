import type { Bus, Logger, Queryable } from "@sovd/platform";
import type { CommandMetrics } from "./command-metrics.js";
import { publishTerminalEvents } from "./command-events.js";
import { executionSeconds, type CommandRow } from "./command-rows.js";
import { finishCommand, type Ending } from "./command-store.js";

/**
 * The one terminal path of a command (architecture §2 "The shared command store"). Every way a command ends
 * (dispatch failure, cancel, deadline, malformed answer, vehicle failure, link loss, queue
 * expiry, the sweep, the final chunk) commits its terminal row and audit row first, then runs
 * the same after-commit steps here: metrics, one log line, the terminal events.
 */
export interface CommandEnder {
  /**
   * Ends an open command as `ending` says. Undefined when it had already ended (terminal is
   * terminal: whoever comes second changes nothing and publishes nothing).
   */
  end(ending: Ending, log?: Logger): Promise<CommandRow | undefined>;
  /** The after-commit steps for a row another statement already ended (final chunk, sweep). */
  ended(row: CommandRow, log?: Logger): void;
}

export interface CommandEnderDeps {
  readonly db: Queryable;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly metrics: CommandMetrics;
  /** A terminal event could not be published (the row is committed; watchers replay it). */
  readonly onBusError: (err: unknown) => void;
}

export function createCommandEnder(deps: CommandEnderDeps): CommandEnder {
  const ended = (row: CommandRow, log: Logger = deps.logger): void => {
    deps.metrics.record(row);
    const fields = {
      commandId: row.command_id,
      requestId: row.correlation_id,
      command: row.command_name,
      status: row.status,
      seconds: executionSeconds(row),
    };
    if (row.status === "failed") log.warn({ ...fields, errorMessage: row.error_message, phase: row.failure_phase }, "command failed");
    else log.debug(fields, `command ${row.status}`);
    try {
      publishTerminalEvents(deps.bus, row);
    } catch (err) {
      deps.onBusError(err);
      log.error({ err, commandId: row.command_id }, "could not publish the terminal events");
    }
  };
  return {
    async end(ending, log) {
      const row = await finishCommand(deps.db, ending);
      if (row) ended(row, log);
      return row;
    },
    ended,
  };
}

import type { Logger, Pool } from "@sovd/platform";
import type { CommandEnder } from "./end-command.js";
import { sweepExpiredCommands, type SweptCommand } from "./command-store.js";

/** The running sweep loop; stop() waits for a sweep in progress. */
export interface Sweeper {
  stop(): Promise<void>;
}

/**
 * Fails open commands past their deadline every `intervalMs` (architecture §3 "Deadlines and
 * the sweep"): one timer per process, never one per command. Connectors and gateways both run
 * it, so a command whose connector died ends by its deadline even while no connector runs;
 * `FOR UPDATE SKIP LOCKED` keeps them from ending a command twice. The store ends them with
 * their audit rows in one statement; the after-commit steps are the one terminal path's.
 * While the database is away the sweep fails every round: the first failure is logged as an
 * error, the rest are only counted (`onError`), and the first round that works again is logged,
 * so the log says when the database went and when it came back.
 */
export function startSweeper(deps: {
  pool: Pool;
  ender: CommandEnder;
  logger: Logger;
  intervalMs: number;
  onSwept: (swept: readonly SweptCommand[]) => void;
  /** Every failed round (metrics); the sweeper logs the first of a run and the recovery itself. */
  onError: (err: unknown) => void;
}): Sweeper {
  let running: Promise<void> | undefined;
  let stopped = false;
  let failingSince: number | undefined;
  let failedRounds = 0;

  const sweep = async (): Promise<void> => {
    try {
      const swept = await sweepExpiredCommands(deps.pool);
      for (const s of swept) {
        deps.logger.warn(
          { commandId: s.row.command_id, vehicleId: s.row.vehicle_id, requestId: s.row.correlation_id, previous: s.previous },
          "expired command failed by the sweep",
        );
        deps.ender.ended(s.row);
      }
      if (swept.length > 0) deps.onSwept(swept);
      if (failingSince !== undefined) {
        deps.logger.info({ downMs: Date.now() - failingSince, failedRounds }, "deadline sweep works again: the database is back");
        failingSince = undefined;
        failedRounds = 0;
      }
    } catch (err) {
      deps.onError(err);
      failedRounds++;
      if (failingSince === undefined) {
        failingSince = Date.now();
        deps.logger.error({ err, retryEveryMs: deps.intervalMs }, "deadline sweep failed: is the database away? retrying");
      }
    }
  };

  const timer = setInterval(() => {
    if (stopped || running) return;
    running = sweep().finally(() => {
      running = undefined;
    });
  }, deps.intervalMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

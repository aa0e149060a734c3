import { COMMAND_DURATION_BUCKETS, Counter, Histogram, type Registry } from "@sovd/platform";
import { executionSeconds, type CommandRow } from "./command-rows.js";

/**
 * The two metrics of an ended command, declared once: whichever service writes a terminal
 * transition counts it (the gateway its dispatch failures and cancels, the connector the
 * rest), so a sum over the services counts every command once.
 */
export interface CommandMetrics {
  readonly commandsExecuted: Counter<"command" | "status">;
  readonly commandDuration: Histogram<"command">;
  /** Counts one terminal row. */
  record(row: CommandRow): void;
}

/** Registers `commands_executed_total` and `command_execution_duration_seconds` on `registry`. */
export function createCommandMetrics(registry: Registry): CommandMetrics {
  const registers = [registry];
  const commandsExecuted = new Counter({
    name: "commands_executed_total",
    help: "Commands this service brought to a terminal status, by command and status.",
    labelNames: ["command", "status"],
    registers,
  });
  const commandDuration = new Histogram({
    name: "command_execution_duration_seconds",
    help: "Seconds from submission to the terminal status, by command.",
    labelNames: ["command"],
    buckets: COMMAND_DURATION_BUCKETS,
    registers,
  });
  return {
    commandsExecuted,
    commandDuration,
    record(row) {
      commandsExecuted.inc({ command: row.command_name, status: row.status });
      commandDuration.observe({ command: row.command_name }, executionSeconds(row));
    },
  };
}

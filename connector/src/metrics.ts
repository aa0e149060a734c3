import { createCommandMetrics, type CommandMetrics } from "@sovd/domain";
import { Counter, Gauge, type Registry } from "@sovd/platform";

/** Why a chunk from a vehicle was not stored (`chunks_dropped_total{reason}`). */
export type DropReason =
  | "unknown_command"
  | "out_of_sequence"
  | "after_terminal"
  | "invalid_payload"
  | "fault_timeout"
  | "before_hello";

/**
 * The connector's metrics (architecture §8 "Observability"). Labels are small closed sets
 * (command name, status, reason, fault): never a vehicle or command id.
 */
export interface ConnectorMetrics {
  readonly connectionsActive: Gauge;
  /** Terminal transitions this connector wrote. */
  readonly commands: CommandMetrics;
  readonly chunksDropped: Counter<"reason">;
  readonly faultsInjected: Counter<"fault">;
  readonly sessionsReplaced: Counter;
  readonly busErrors: Counter;
  readonly databaseErrors: Counter;
  readonly commandSweeps: Counter;
}

/** Registers the connector's metrics on `registry` (one registry per service). */
export function createConnectorMetrics(registry: Registry): ConnectorMetrics {
  const registers = [registry];
  return {
    connectionsActive: new Gauge({
      name: "vehicle_connections_active",
      help: "Vehicle sessions this connector holds (hello accepted, stream open).",
      registers,
    }),
    commands: createCommandMetrics(registry),
    chunksDropped: new Counter({
      name: "chunks_dropped_total",
      help: "Chunks from vehicles that were not stored, by reason.",
      labelNames: ["reason"],
      registers,
    }),
    faultsInjected: new Counter({
      name: "faults_injected_total",
      help: "Faults injected into commands (FAULT_*_RATE), by fault.",
      labelNames: ["fault"],
      registers,
    }),
    sessionsReplaced: new Counter({
      name: "vehicle_sessions_replaced_total",
      help: "Vehicle sessions closed because the same vehicle connected again (here or on another connector).",
      registers,
    }),
    busErrors: new Counter({ name: "bus_errors_total", help: "Failed publishes, subscriptions or undecodable bus messages.", registers }),
    databaseErrors: new Counter({ name: "database_errors_total", help: "Failed database operations.", registers }),
    commandSweeps: new Counter({
      name: "command_sweeps_total",
      help: "Commands the deadline sweep failed because they were still open past deadline_at.",
      registers,
    }),
  };
}

import { CommandStatus, FailurePhase } from "./gen/sovd/v1/command_pb.js";

/** Command status as stored in `commands.status` (architecture §4 "Statuses and error strings"). */
export type StoredStatus = "pending" | "queued" | "in_progress" | "completed" | "failed" | "cancelled";

/** Statuses a command never leaves (architecture §4 "Statuses and error strings"). */
const TERMINAL_STATUSES: readonly StoredStatus[] = ["completed", "failed", "cancelled"];

export const isTerminal = (status: StoredStatus): boolean => TERMINAL_STATUSES.includes(status);

const toProto: Record<StoredStatus, CommandStatus> = {
  pending: CommandStatus.PENDING,
  queued: CommandStatus.QUEUED,
  in_progress: CommandStatus.IN_PROGRESS,
  completed: CommandStatus.COMPLETED,
  failed: CommandStatus.FAILED,
  cancelled: CommandStatus.CANCELLED,
};

export const statusToProto = (status: StoredStatus): CommandStatus => toProto[status];

/** isTerminal for the proto enum that events, clients and the web app carry. */
export function isTerminalStatus(status: CommandStatus): boolean {
  return status === CommandStatus.COMPLETED || status === CommandStatus.FAILED || status === CommandStatus.CANCELLED;
}

/** The stored form of a proto status; undefined for UNSPECIFIED. */
export function statusFromProto(status: CommandStatus): StoredStatus | undefined {
  for (const [stored, proto] of Object.entries(toProto)) {
    if (proto === status) return stored as StoredStatus;
  }
  return undefined;
}

/** Failure phase as stored in `commands.failure_phase`. */
export type StoredFailurePhase = "dispatch" | "delivery" | "response";

const phaseToProto: Record<StoredFailurePhase, FailurePhase> = {
  dispatch: FailurePhase.DISPATCH,
  delivery: FailurePhase.DELIVERY,
  response: FailurePhase.RESPONSE,
};

export const failurePhaseToProto = (phase: StoredFailurePhase | null | undefined): FailurePhase =>
  phase ? phaseToProto[phase] : FailurePhase.UNSPECIFIED;

/**
 * The error messages a failed command carries. Exact strings: clients and acceptance checks
 * match on them (architecture §4 "Statuses and error strings").
 */
export const ErrorMessages = {
  unreachable: "Vehicle unreachable",
  timeout: "Vehicle connection timeout",
  malformed: "Invalid response format from vehicle",
  cancelled: "Cancelled by user",
  /** The gateway could not reach the message bus to dispatch the command (phase dispatch). */
  busUnavailable: "Message bus unavailable",
  /** A connector could not write the command's start or its answer to the database. */
  databaseUnavailable: "Database unavailable",
} as const;

/**
 * `DispatchReply.reason` when a connector refuses a dispatch because it could not write the
 * command's start: the gateway fails the command as a database failure, not an unreachable
 * vehicle (architecture §3 "Dispatch").
 */
export const DISPATCH_REASON_DATABASE = "database unavailable";

import { ConnectionStatus, ErrorMessages, FailurePhase, type Vehicle } from "@sovd/proto";
import { formatRelative } from "../lib/relative-time.js";
import { formatDuration, toDate } from "../lib/time.js";

/** Everything known about a failure, from the stored command and the live events. */
export interface FailureFacts {
  /** The command's `error_message` (one of ErrorMessages, or free text). */
  readonly errorMessage: string;
  readonly phase?: FailurePhase;
  /** `Command.failure.configured_timeout_ms`; 0 or undefined when not known. */
  readonly configuredTimeoutMs?: number;
  /** The catalog's default timeout of the command type, used when the command does not say. */
  readonly catalogTimeoutMs?: number;
  /** The vehicle as last known, for "Last seen 5 minutes ago". */
  readonly vehicle?: Vehicle;
  readonly now: Date;
}

/** A failure in words an engineer can act on: a headline and, when known, where it failed. */
export interface FailureWording {
  readonly headline: string;
  readonly phase?: string;
}

const PHASES: Partial<Record<FailurePhase, string>> = {
  [FailurePhase.DISPATCH]: "Failed while dispatching: no connector accepted the command.",
  [FailurePhase.DELIVERY]: "Failed while delivering: the link to the vehicle broke before it answered.",
  [FailurePhase.RESPONSE]: "Failed while receiving the answer from the vehicle.",
};

/**
 * Turns the exact error strings (`ErrorMessages` of `@sovd/proto`; architecture §3 "Flows"
 * says when each is written) into sentences that say what happened and
 * what to check: an unreachable vehicle names when it was last seen, a timeout names the
 * deadline it had, a garbled answer says so. Unknown messages are shown as they are.
 */
export function describeFailure(facts: FailureFacts): FailureWording {
  const phase = facts.phase === undefined ? undefined : PHASES[facts.phase];
  return phase === undefined ? { headline: headline(facts) } : { headline: headline(facts), phase };
}

function headline(facts: FailureFacts): string {
  switch (facts.errorMessage) {
    case ErrorMessages.unreachable: {
      const vehicle = facts.vehicle;
      const lastSeen = toDate(vehicle?.lastSeenAt);
      if (vehicle?.connectionStatus === ConnectionStatus.OFFLINE) {
        return lastSeen ? `Vehicle offline. Last seen ${formatRelative(lastSeen, facts.now)}.` : "Vehicle offline. It has not connected yet.";
      }
      return "The vehicle could not be reached.";
    }
    case ErrorMessages.timeout: {
      const timeout = facts.configuredTimeoutMs || facts.catalogTimeoutMs;
      return timeout ? `The vehicle did not answer within ${formatDuration(timeout)}.` : "The vehicle did not answer in time.";
    }
    case ErrorMessages.malformed:
      return "The vehicle sent an answer we could not read.";
    case ErrorMessages.cancelled:
      return "Cancelled before the vehicle finished.";
    case "":
      return "The command failed.";
    default:
      return facts.errorMessage;
  }
}

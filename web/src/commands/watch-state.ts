import { CommandStatus, FailurePhase, isTerminalStatus, type Command, type CommandEvent, type FailureDetail, type Response } from "@sovd/proto";
import type { Timestamp } from "../lib/time.js";

/** How the page's link to the command's event stream is doing. */
export type StreamState = "loading" | "live" | "reconnecting" | "ended" | "error";

/**
 * What the command page knows about one command: the stored command, its chunks in sequence
 * order (each once, however often replay and live events deliver it), status and failure.
 */
export interface WatchState {
  /**
   * The command as GetCommand (or CancelCommand) returned it: what was asked of which vehicle,
   * when and with which params. Where it stands now is in the fields below, which status
   * events keep current.
   */
  readonly command: Command | undefined;
  readonly responses: readonly Response[];
  readonly status: CommandStatus;
  /** When the command ended; unset while it runs. */
  readonly completedAt: Timestamp | undefined;
  readonly errorMessage: string;
  readonly failure: FailureDetail | undefined;
  readonly phase: FailurePhase;
  readonly stream: StreamState;
  /** Why the stream could not be followed (permission, not found), for the page. */
  readonly streamError: string | undefined;
}

/** The state before anything arrived. */
export const initialWatchState: WatchState = {
  command: undefined,
  responses: [],
  status: CommandStatus.UNSPECIFIED,
  completedAt: undefined,
  errorMessage: "",
  failure: undefined,
  phase: FailurePhase.UNSPECIFIED,
  stream: "loading",
  streamError: undefined,
};

/** The highest sequence number received: the `after_sequence` to resume a broken stream from. */
export function lastSequence(state: WatchState): number {
  return state.responses.at(-1)?.sequenceNumber ?? 0;
}

/** A stored command and its stored chunks (GetCommand) as the starting state. */
export function fromStored(command: Command, responses: readonly Response[]): WatchState {
  let state: WatchState = {
    ...initialWatchState,
    command,
    status: command.status,
    completedAt: command.completedAt,
    errorMessage: command.errorMessage,
    failure: command.failure,
    phase: command.failure?.phase ?? FailurePhase.UNSPECIFIED,
  };
  for (const r of responses) state = addResponse(state, r);
  return state;
}

/** Folds one WatchCommand event into the state. Terminal statuses are never left again. */
export function applyEvent(state: WatchState, event: CommandEvent): WatchState {
  switch (event.event.case) {
    case "response":
      return addResponse(state, event.event.value);
    case "status": {
      const change = event.event.value;
      if (isTerminalStatus(state.status) && change.status !== state.status) return state;
      return {
        ...state,
        status: change.status,
        completedAt: change.completedAt ?? state.completedAt,
        errorMessage: change.errorMessage || state.errorMessage,
        failure: change.failure ?? state.failure,
        phase: change.failure?.phase || state.phase,
      };
    }
    case "error": {
      const error = event.event.value;
      return { ...state, errorMessage: error.errorMessage || state.errorMessage, phase: error.phase || state.phase };
    }
    default:
      return state;
  }
}

/**
 * Adds the stored record (GetCommand) to what the stream delivered so far, whichever came
 * first. The record brings what was asked and the chunks stored before; where the stream has
 * already said where the command stands, that is kept: it is at least as new as the record.
 */
export function withRecord(state: WatchState, command: Command, storedResponses: readonly Response[]): WatchState {
  const record = fromStored(command, [...storedResponses, ...state.responses]);
  const merged = state.status === CommandStatus.UNSPECIFIED ? record : { ...record, ...streamedProgress(state, record) };
  return { ...merged, stream: state.stream === "loading" ? "live" : state.stream, streamError: state.streamError };
}

/** Where the stream says the command stands, with the record's words for what it did not say. */
function streamedProgress(streamed: WatchState, record: WatchState): Pick<WatchState, "status" | "completedAt" | "errorMessage" | "failure" | "phase"> {
  return {
    status: streamed.status,
    completedAt: streamed.completedAt ?? record.completedAt,
    errorMessage: streamed.errorMessage || record.errorMessage,
    failure: streamed.failure ?? record.failure,
    phase: streamed.phase || record.phase,
  };
}

/**
 * Takes a command another call returned (CancelCommand) as the new record and status,
 * unless the page already saw the command end otherwise (terminal is terminal).
 */
export function withReturnedCommand(state: WatchState, command: Command): WatchState {
  if (isTerminalStatus(state.status) && state.status !== command.status) return state;
  return { ...fromStored(command, state.responses), stream: state.stream };
}

function addResponse(state: WatchState, response: Response): WatchState {
  const seq = response.sequenceNumber;
  const list = state.responses;
  if (list.some((r) => r.sequenceNumber === seq)) return state;
  const at = list.findIndex((r) => r.sequenceNumber > seq);
  const responses = at === -1 ? [...list, response] : [...list.slice(0, at), response, ...list.slice(at)];
  return { ...state, responses };
}

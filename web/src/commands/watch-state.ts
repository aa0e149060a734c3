import { CommandStatus, FailurePhase, isTerminalStatus, type Command, type CommandEvent, type FailureDetail, type Response } from "@sovd/proto";

/** How the page's link to the command's event stream is doing. */
export type StreamState = "loading" | "live" | "reconnecting" | "ended" | "error";

/**
 * What the command page knows about one command: the stored command, its chunks in sequence
 * order (each once, however often replay and live events deliver it), status and failure.
 */
export interface WatchState {
  readonly command: Command | undefined;
  readonly responses: readonly Response[];
  readonly status: CommandStatus;
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
      const command = state.command
        ? { ...state.command, status: change.status, startedAt: change.startedAt ?? state.command.startedAt, completedAt: change.completedAt ?? state.command.completedAt }
        : state.command;
      return {
        ...state,
        command,
        status: change.status,
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

function addResponse(state: WatchState, response: Response): WatchState {
  const seq = response.sequenceNumber;
  const list = state.responses;
  if (list.some((r) => r.sequenceNumber === seq)) return state;
  const at = list.findIndex((r) => r.sequenceNumber > seq);
  const responses = at === -1 ? [...list, response] : [...list.slice(0, at), response, ...list.slice(at)];
  return { ...state, responses };
}

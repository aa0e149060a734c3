import { useCallback, useEffect, useRef, useState } from "react";
import { Code, ConnectError } from "@connectrpc/connect";
import { isTerminalStatus, type Command } from "@sovd/proto";
import { useApi } from "../api/api-context.js";
import { describeRpcError } from "../api/errors.js";
import { reconnectDelay, sleep } from "../lib/backoff.js";
import { applyEvent, initialWatchState, lastSequence, withRecord, withReturnedCommand, type WatchState } from "./watch-state.js";

/** Codes after which trying again cannot help, so the page says why instead of reconnecting. */
const FINAL_CODES = new Set([Code.NotFound, Code.PermissionDenied, Code.Unauthenticated, Code.InvalidArgument]);

/** What the command page gets from useCommandWatch. */
export interface CommandWatch {
  readonly state: WatchState;
  /** Folds in a command returned by another call (CancelCommand). */
  merge(command: Command): void;
}

/**
 * Follows one command: its stored record (GetCommand) and the events of WatchCommand (stored
 * chunks replayed, then live) until the command is terminal. A stream that breaks is resumed with
 * `after_sequence` = the last chunk received (with backoff), so nothing repeats and nothing
 * is lost.
 */
export function useCommandWatch(commandId: string): CommandWatch {
  const api = useApi();
  const [state, setState] = useState<WatchState>(initialWatchState);
  // The newest state, for the steps below that run between renders.
  const current = useRef<WatchState>(initialWatchState);

  const update = useCallback((change: (state: WatchState) => WatchState) => {
    current.current = change(current.current);
    setState(current.current);
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    update(() => initialWatchState);

    const giveUp = (err: unknown): void => {
      if (signal.aborted) return;
      update((s) => ({ ...s, stream: "error", streamError: describeRpcError(err) }));
      controller.abort();
    };

    // Read once, alongside the stream rather than before it, so the first live chunk never
    // waits for a round trip. WatchCommand replays the stored chunks and the current status
    // itself, but not what was asked: command name, vehicle, params, submitted and deadline
    // times, request id. Whichever answers first, the other is merged into it.
    const loadRecord = async (): Promise<void> => {
      const { command, responses } = await api.commands.getCommand({ commandId }, { signal });
      if (!command) throw new ConnectError("command missing in answer", Code.Internal);
      update((s) => withRecord(s, command, responses));
    };

    const watchAfterLastChunk = () => api.commands.watchCommand({ commandId, afterSequence: lastSequence(current.current) }, { signal });

    /** False when the page closed while waiting. */
    const waitToReconnect = (attempt: number): Promise<boolean> =>
      sleep(reconnectDelay(attempt), signal).then(
        () => true,
        () => false,
      );

    // The terminal status event carries all the page shows of the end (completed_at, error,
    // failure detail), so nothing is read again once it arrived.
    const follow = async (): Promise<void> => {
      let attempt = 0;
      while (!signal.aborted && !isTerminalStatus(current.current.status)) {
        try {
          for await (const event of watchAfterLastChunk()) {
            attempt = 0;
            update((s) => applyEvent({ ...s, stream: "live" }, event));
          }
        } catch (err) {
          if (signal.aborted) return;
          if (FINAL_CODES.has(ConnectError.from(err).code)) {
            giveUp(err);
            return;
          }
        }
        if (isTerminalStatus(current.current.status)) break;
        update((s) => ({ ...s, stream: "reconnecting" }));
        if (!(await waitToReconnect(attempt++))) return;
      }
      if (!signal.aborted) update((s) => ({ ...s, stream: "ended" }));
    };

    loadRecord().catch(giveUp);
    void follow();
    return () => controller.abort();
  }, [api, commandId, update]);

  const merge = useCallback((command: Command) => update((s) => withReturnedCommand(s, command)), [update]);

  return { state, merge };
}

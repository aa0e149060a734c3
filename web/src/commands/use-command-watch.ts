import { useCallback, useEffect, useRef, useState } from "react";
import { Code, ConnectError } from "@connectrpc/connect";
import { CommandStatus, isTerminalStatus, type Command } from "@sovd/proto";
import { useApi } from "../api/api-context.js";
import { describeRpcError } from "../api/errors.js";
import { reconnectDelay, sleep } from "../lib/backoff.js";
import { applyEvent, fromStored, initialWatchState, lastSequence, type WatchState } from "./watch-state.js";

/** Codes after which trying again cannot help, so the page says why instead of reconnecting. */
const FINAL_CODES = new Set([Code.NotFound, Code.PermissionDenied, Code.Unauthenticated, Code.InvalidArgument]);

/**
 * Follows one command: its stored record (GetCommand) and the events of WatchCommand (stored
 * chunks replayed, then live) until the command is terminal. A stream that breaks is resumed with
 * `after_sequence` = the last chunk received (with backoff), so nothing repeats and nothing
 * is lost. `merge` folds in a command returned by another call (CancelCommand).
 */
export function useCommandWatch(commandId: string): { state: WatchState; merge: (command: Command) => void } {
  const api = useApi();
  const [state, setState] = useState<WatchState>(initialWatchState);
  const current = useRef<WatchState>(initialWatchState);

  const update = useCallback((next: WatchState) => {
    current.current = next;
    setState(next);
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    update(initialWatchState);

    const fail = (err: unknown): void => {
      if (signal.aborted) return;
      update({ ...current.current, stream: "error", streamError: describeRpcError(err) });
      controller.abort();
    };

    // The stored record (GetCommand) and the event stream are asked for at once: WatchCommand
    // replays stored chunks and the current status itself, so the first live chunk never
    // waits for a round trip. Whatever arrives first, the other is merged into it.
    const loadRecord = async (): Promise<void> => {
      try {
        const stored = await api.commands.getCommand({ commandId }, { signal });
        if (!stored.command) throw new ConnectError("command missing in answer", Code.Internal);
        const prev = current.current;
        const record = fromStored(stored.command, [...stored.responses, ...prev.responses]);
        // A status that came with the stream is at least as new as the record.
        const next =
          prev.status === CommandStatus.UNSPECIFIED
            ? record
            : { ...record, command: { ...stored.command, status: prev.status }, status: prev.status, errorMessage: prev.errorMessage || record.errorMessage, failure: prev.failure ?? record.failure, phase: prev.phase || record.phase };
        update({ ...next, stream: prev.stream === "loading" ? "live" : prev.stream, streamError: prev.streamError });
      } catch (err) {
        fail(err);
      }
    };

    const follow = async (): Promise<void> => {
      let attempt = 0;
      while (!signal.aborted && !isTerminalStatus(current.current.status)) {
        try {
          const events = api.commands.watchCommand({ commandId, afterSequence: lastSequence(current.current) }, { signal });
          for await (const event of events) {
            attempt = 0;
            update(applyEvent({ ...current.current, stream: "live" }, event));
          }
        } catch (err) {
          if (signal.aborted) return;
          if (FINAL_CODES.has(ConnectError.from(err).code)) {
            fail(err);
            return;
          }
        }
        if (isTerminalStatus(current.current.status)) break;
        update({ ...current.current, stream: "reconnecting" });
        try {
          await sleep(reconnectDelay(attempt++), signal);
        } catch {
          return;
        }
      }
      if (signal.aborted) return;
      // The stored record is the truth at the end (completed_at, failure detail).
      try {
        const stored = await api.commands.getCommand({ commandId }, { signal });
        if (stored.command && isTerminalStatus(stored.command.status)) {
          const merged = fromStored(stored.command, [...stored.responses, ...current.current.responses]);
          update({ ...merged, stream: "ended" });
          return;
        }
      } catch {
        // Keep what the stream delivered.
      }
      if (!signal.aborted) update({ ...current.current, stream: "ended" });
    };

    void loadRecord();
    void follow();
    return () => controller.abort();
  }, [api, commandId, update]);

  const merge = useCallback(
    (command: Command) => {
      const prev = current.current;
      if (isTerminalStatus(prev.status) && prev.status !== command.status) return;
      update({ ...fromStored(command, prev.responses), stream: prev.stream });
    },
    [update],
  );

  return { state, merge };
}

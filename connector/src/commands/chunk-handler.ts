import { publishCommandEvent, responseEventFromRow } from "@sovd/domain";
import { CatalogValidationError, ErrorMessages, parseChunkPayload, type Chunk, type Failure } from "@sovd/proto";
import { corruptPayload } from "../faults.js";
import type { VehicleSession } from "../sessions/session.js";
import type { InFlight, ReceivedChunk } from "./in-flight.js";
import { commandFields, drop, failRunning, publishSafely, sendCancel, UNSTORED_ANSWER, type CommandDeps } from "./running.js";

/** Raw bytes of a malformed chunk kept in the audit row, at most (base64 of this many bytes). */
const MAX_AUDIT_RAW_BYTES = 4096;
/** The longest failure message from a vehicle that is stored. */
const MAX_VEHICLE_MESSAGE = 500;

/**
 * What the vehicle sends about a running command: chunks are validated against the catalog,
 * stored in sequence (group-committed across commands), then published; the final chunk
 * completes the command in the same statement. A malformed chunk fails the command with its
 * raw bytes in the audit row; a failure message from the vehicle fails it as it says.
 */
export interface ChunkHandler {
  onChunk(session: VehicleSession, chunk: Chunk, receivedAt: Date): void;
  onFailure(session: VehicleSession, failure: Failure): void;
}

/** The ChunkHandler of one command engine, on the deps its parts share. */
export function createChunkHandler(deps: CommandDeps): ChunkHandler {
  const failMalformed = (entry: InFlight, raw: Uint8Array, err: CatalogValidationError, sequence: number): Promise<void> => {
    const kept = raw.subarray(0, MAX_AUDIT_RAW_BYTES);
    return failRunning(deps, entry, {
      message: ErrorMessages.malformed,
      phase: "response",
      action: "command_failed",
      cancelVehicle: true,
      details: {
        raw_payload_base64: Buffer.from(kept).toString("base64"),
        raw_payload_bytes: raw.byteLength,
        raw_payload_truncated: raw.byteLength > kept.byteLength,
        validation_error: err.message,
        sequence_number: sequence,
        fault_injected: entry.corrupted,
      },
    });
  };

  /**
   * A run of chunks could not be written (the database is away): the command can no longer
   * complete, and it is the database's failure, not the vehicle's. It is failed now if the
   * database takes the write, else by its deadline timer with the same message.
   */
  const failUnstored = async (entry: InFlight, err: unknown): Promise<void> => {
    entry.storeFailed = true;
    deps.metrics.databaseErrors.inc();
    entry.session.logger.error({ err, ...commandFields(entry) }, "could not store the vehicle's chunks");
    try {
      await deps.ender.end(
        {
          commandId: entry.commandId,
          status: "failed",
          errorMessage: UNSTORED_ANSWER.message,
          failurePhase: UNSTORED_ANSWER.phase,
          audit: { action: UNSTORED_ANSWER.action, details: { chunks_received: entry.chunks, ...UNSTORED_ANSWER.details } },
          requestId: entry.requestId,
        },
        entry.session.logger,
      );
    } catch (endErr) {
      deps.metrics.databaseErrors.inc();
      entry.session.logger.warn({ err: endErr, ...commandFields(entry) }, "could not fail the command yet; its deadline will");
      return;
    }
    deps.inFlight.end(entry);
    sendCancel(entry.session, entry.commandId);
  };

  /** Stores one run of chunks; what was stored is published, then (for the final one) the end. */
  const storeRun = async (entry: InFlight, run: readonly ReceivedChunk[]): Promise<void> => {
    const logger = entry.session.logger;
    let outcome;
    try {
      outcome = await deps.chunks.push({
        commandId: entry.commandId,
        chunks: run.map((r) => ({
          commandId: entry.commandId,
          sequenceNumber: r.chunk.sequenceNumber,
          isFinal: r.chunk.isFinal,
          payload: r.payload,
          receivedAt: r.at,
        })),
      });
    } catch (err) {
      await failUnstored(entry, err);
      return;
    }
    if (!outcome.stored) {
      for (const r of run) drop(deps, outcome.reason, logger, { ...commandFields(entry), sequence: r.chunk.sequenceNumber, isFinal: r.chunk.isFinal });
      // Ended elsewhere (cancelled, swept): stop waiting for it and tell the vehicle to stop.
      if (outcome.reason === "after_terminal") {
        deps.inFlight.end(entry);
        sendCancel(entry.session, entry.commandId);
      }
      return;
    }
    entry.chunks += outcome.responses.length;
    for (const response of outcome.responses) {
      publishSafely(deps, "response event", logger, () => publishCommandEvent(deps.bus, responseEventFromRow(response), entry.requestId));
    }
    if (outcome.completed) {
      deps.inFlight.end(entry);
      deps.ender.ended(outcome.completed, logger);
    }
  };

  /**
   * Handles the chunks that arrived since the command's last write, in order. Consecutive
   * chunks that continue what is stored go to the database as one run (one statement for a
   * vehicle that answers in a burst); anything else (a repeat, a gap) goes alone, so the
   * database's guard decides it exactly as it would one chunk at a time.
   */
  const handleArrived = async (entry: InFlight, arrived: readonly ReceivedChunk[]): Promise<void> => {
    const logger = entry.session.logger;
    let run: ReceivedChunk[] = [];
    const flush = async (): Promise<void> => {
      if (run.length === 0) return;
      const r = run;
      run = [];
      await storeRun(entry, r);
    };
    for (const item of arrived) {
      const { chunk } = item;
      const fields = { ...commandFields(entry), sequence: chunk.sequenceNumber, isFinal: chunk.isFinal };
      if (entry.ended) {
        drop(deps, "after_terminal", logger, fields);
        continue;
      }
      if (entry.faults.timeout) {
        drop(deps, "fault_timeout", logger, fields);
        continue;
      }
      if (entry.storeFailed) {
        // An earlier run was lost with the database: what follows can never be in sequence.
        drop(deps, "out_of_sequence", logger, fields);
        continue;
      }
      let bytes = chunk.payload;
      if (entry.faults.malformed && !entry.corrupted) {
        entry.corrupted = true;
        bytes = corruptPayload(bytes);
      }
      try {
        item.payload = parseChunkPayload(entry.commandName, bytes, chunk.isFinal);
      } catch (err) {
        if (!(err instanceof CatalogValidationError)) throw err;
        await flush();
        if (entry.ended) {
          drop(deps, "after_terminal", logger, fields);
          continue;
        }
        drop(deps, "invalid_payload", logger, { ...fields, error: err.message });
        await failMalformed(entry, bytes, err, chunk.sequenceNumber);
        continue;
      }
      const last = run[run.length - 1];
      const continues =
        last !== undefined &&
        run[0]!.chunk.sequenceNumber === entry.chunks + 1 &&
        chunk.sequenceNumber === last.chunk.sequenceNumber + 1 &&
        !last.chunk.isFinal;
      if (last !== undefined && !continues) {
        await flush();
        if (entry.ended) {
          drop(deps, "after_terminal", logger, fields);
          continue;
        }
      }
      run.push(item);
    }
    await flush();
  };

  /** Chunks arrive into the entry's inbox; one step on its chain at a time takes all of them. */
  const drainInbox = async (entry: InFlight): Promise<void> => {
    while (entry.inbox.length > 0) await handleArrived(entry, entry.inbox.splice(0));
    entry.draining = false;
  };

  return {
    onChunk(session, chunk, receivedAt) {
      const entry = deps.inFlight.ofSession(session, chunk.commandId);
      if (!entry) {
        const reason = deps.inFlight.endedRecently(chunk.commandId) ? "after_terminal" : "unknown_command";
        return drop(deps, reason, session.logger, { commandId: chunk.commandId, sequence: chunk.sequenceNumber });
      }
      entry.inbox.push({ chunk, at: receivedAt, payload: {} });
      if (entry.draining) return;
      entry.draining = true;
      void deps.inFlight.run(entry, async () => {
        // One turn of the event loop first: the chunks read off the socket together are all
        // in the inbox then, and go to the database as one run.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await drainInbox(entry);
      });
    },

    onFailure(session, failure) {
      const entry = deps.inFlight.ofSession(session, failure.commandId);
      if (!entry) {
        session.logger.warn({ commandId: failure.commandId }, "failure for a command not in flight ignored");
        return;
      }
      void deps.inFlight.run(entry, async () => {
        if (entry.ended) return;
        if (entry.faults.timeout) return drop(deps, "fault_timeout", session.logger, { ...commandFields(entry), failure: true });
        const message = failure.message.trim().slice(0, MAX_VEHICLE_MESSAGE) || "Vehicle reported a failure";
        await failRunning(deps, entry, { message, phase: "response", action: "command_failed", details: { vehicle_message: message }, cancelVehicle: false });
      });
    },
  };
}

import type { JsonObject } from "@bufbuild/protobuf";
import { publishCommandEvent, responseEventFromRow } from "@sovd/domain";
import { CatalogValidationError, ErrorMessages, parseChunkPayload, type Chunk, type Failure } from "@sovd/proto";
import { corruptPayload } from "../faults.js";
import type { VehicleSession } from "../sessions/session.js";
import type { InFlight } from "./in-flight.js";
import { commandFields, drop, failRunning, publishSafely, sendCancel, type CommandDeps } from "./running.js";

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

  const handleChunk = async (entry: InFlight, chunk: Chunk, receivedAt: Date): Promise<void> => {
    const logger = entry.session.logger;
    const fields = { ...commandFields(entry), sequence: chunk.sequenceNumber, isFinal: chunk.isFinal };
    if (entry.ended) return drop(deps, "after_terminal", logger, fields);
    if (entry.faults.timeout) return drop(deps, "fault_timeout", logger, fields);
    let bytes = chunk.payload;
    if (entry.faults.malformed && !entry.corrupted) {
      entry.corrupted = true;
      bytes = corruptPayload(bytes);
    }
    let payload: JsonObject;
    try {
      payload = parseChunkPayload(entry.commandName, bytes, chunk.isFinal);
    } catch (err) {
      if (!(err instanceof CatalogValidationError)) throw err;
      drop(deps, "invalid_payload", logger, { ...fields, error: err.message });
      return failMalformed(entry, bytes, err, chunk.sequenceNumber);
    }
    const outcome = await deps.chunks.push({
      commandId: entry.commandId,
      sequenceNumber: chunk.sequenceNumber,
      isFinal: chunk.isFinal,
      payload,
      receivedAt,
    });
    if (!outcome.stored) {
      drop(deps, outcome.reason, logger, fields);
      // Ended elsewhere (cancelled, swept): stop waiting for it and tell the vehicle to stop.
      if (outcome.reason === "after_terminal") {
        deps.inFlight.end(entry);
        sendCancel(entry.session, entry.commandId);
      }
      return;
    }
    entry.chunks++;
    publishSafely(deps, "response event", logger, () => publishCommandEvent(deps.bus, responseEventFromRow(outcome.response), entry.requestId));
    if (outcome.completed) {
      deps.inFlight.end(entry);
      deps.ender.ended(outcome.completed, logger);
    }
  };

  return {
    onChunk(session, chunk, receivedAt) {
      const entry = deps.inFlight.ofSession(session, chunk.commandId);
      if (!entry) {
        const reason = deps.inFlight.endedRecently(chunk.commandId) ? "after_terminal" : "unknown_command";
        return drop(deps, reason, session.logger, { commandId: chunk.commandId, sequence: chunk.sequenceNumber });
      }
      void deps.inFlight.run(entry, () => handleChunk(entry, chunk, receivedAt));
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

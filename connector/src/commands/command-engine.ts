import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  executionSeconds,
  finishCommand,
  publishCommandEvent,
  publishTerminalEvents,
  statusEventFromRow,
  responseFromRow,
  type AuditAction,
  type Bus,
  type CommandRow,
  type Logger,
  type Pool,
} from "@sovd/platform";
import {
  CatalogValidationError,
  CommandEventSchema,
  ConnectorMessageSchema,
  ErrorMessages,
  parseChunkPayload,
  type Chunk,
  type DispatchRequest,
  type Failure,
  type StoredFailurePhase,
} from "@sovd/proto";
import { corruptPayload, FaultMemory, type FaultDecision, type FaultInjector } from "../faults.js";
import type { ConnectorMetrics, DropReason } from "../metrics.js";
import type { VehicleSession } from "../sessions/session.js";
import { listQueuedCommands, mayRunCommands, startCommand, storeChunk } from "./command-sql.js";

/** The answer to a dispatch request; `undefined` means "stay silent, another session answers". */
export interface DispatchOutcome {
  readonly reply?: { accepted: boolean; reason: string };
  /** Runs after the reply was sent: the status event, Execute down the stream, the deadline. */
  readonly start?: () => void;
}

/** The command lifecycle of one connector (ARCHITECTURE §3, §7); see createCommandEngine. */
export interface CommandEngine {
  /** Handles a DispatchRequest for a vehicle held by `session`. */
  dispatch(session: VehicleSession, request: DispatchRequest, requestId: string | undefined): Promise<DispatchOutcome>;
  /** Starts the vehicle's offline-queued commands, oldest first (on hello). */
  deliverQueued(session: VehicleSession): Promise<void>;
  /** A chunk the vehicle sent, read off the stream at `receivedAt`. */
  onChunk(session: VehicleSession, chunk: Chunk, receivedAt: Date): void;
  onFailure(session: VehicleSession, failure: Failure): void;
  /** The gateway cancelled a command: tell the vehicle, stop the deadline. */
  cancel(session: VehicleSession | undefined, commandId: string): void;
  /** The session's link is gone: its in-flight commands fail at once. */
  linkLost(session: VehicleSession): Promise<void>;
  /** Commands another path already ended (the sweep): stop tracking them, tell the vehicle. */
  forget(commandIds: readonly string[]): void;
  /** Refuses new dispatches from now on (shutdown). */
  stopAccepting(): void;
  inFlightCount(): number;
  /** Resolves when nothing is in flight, or after `timeoutMs`; true when idle. */
  whenIdle(timeoutMs: number): Promise<boolean>;
  /** Fails whatever is still in flight (end of the drain) and waits for it. */
  failAll(): Promise<void>;
  /** Waits until every started step (a chunk being stored, a failure being written) has finished. */
  settle(): Promise<void>;
  /** Stops every timer without touching the database: what a killed process leaves behind. */
  abandon(): void;
  /** Records a terminal row ended by another component of this connector (metrics). */
  recordTerminal(row: CommandRow): void;
}

interface InFlight {
  readonly commandId: string;
  readonly commandName: string;
  readonly session: VehicleSession;
  readonly faults: FaultDecision;
  readonly logger: Logger;
  readonly requestId: string | null;
  readonly timeoutMs: number;
  timer: NodeJS.Timeout | undefined;
  chunks: number;
  corrupted: boolean;
  ended: boolean;
  /** Everything that happens to one command runs in order on this chain. */
  chain: Promise<void>;
}

/** Raw bytes of a malformed chunk kept in the audit row, at most (base64 of this many bytes). */
export const MAX_AUDIT_RAW_BYTES = 4096;
/** The longest failure message from a vehicle that is stored. */
const MAX_VEHICLE_MESSAGE = 500;
/** How many ended command ids are remembered to label late chunks `after_terminal`. */
const RECENTLY_ENDED = 10_000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Runs commands on vehicle sessions: accepts dispatches (guarded pending -> in_progress),
 * sends Execute, validates and stores chunks in sequence, completes or fails the command,
 * holds one deadline timer per command in flight, injects the configured faults. Persist
 * first, then publish. Everything that happens to one command is serialized on its chain,
 * so a chunk, a timeout and a link drop never interleave.
 */
export function createCommandEngine(deps: {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  metrics: ConnectorMetrics;
  faults: FaultInjector;
}): CommandEngine {
  const { pool, bus, metrics } = deps;
  const inFlight = new Map<string, InFlight>();
  const recentlyEnded = new Set<string>();
  const faultMemory = new FaultMemory();
  const idleWaiters = new Set<() => void>();
  const steps = new Set<Promise<void>>();
  let accepting = true;
  let abandoned = false;

  const drop = (reason: DropReason, logger: Logger, fields: Record<string, unknown>): void => {
    metrics.chunksDropped.inc({ reason });
    logger.warn({ ...fields, reason }, "chunk dropped");
  };

  const safely = (what: string, logger: Logger, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      metrics.busErrors.inc();
      logger.error({ err }, `could not publish ${what}`);
    }
  };

  const recordTerminal = (row: CommandRow): void => {
    metrics.commandsExecuted.inc({ command: row.command_name, status: row.status });
    metrics.commandDuration.observe({ command: row.command_name }, executionSeconds(row));
  };

  const endTracking = (entry: InFlight): void => {
    if (entry.ended) return;
    entry.ended = true;
    clearTimeout(entry.timer);
    inFlight.delete(entry.commandId);
    recentlyEnded.add(entry.commandId);
    if (recentlyEnded.size > RECENTLY_ENDED) recentlyEnded.delete(recentlyEnded.values().next().value!);
    if (inFlight.size === 0) for (const wake of [...idleWaiters]) wake();
  };

  const onChain = (entry: InFlight, step: () => Promise<void>): Promise<void> => {
    const chain = entry.chain.then(step).catch((err: unknown) => {
      metrics.databaseErrors.inc();
      entry.logger.error({ err }, "command step failed");
    });
    entry.chain = chain;
    steps.add(chain);
    void chain.finally(() => steps.delete(chain));
    return chain;
  };

  const sendCancel = (session: VehicleSession, commandId: string): void => {
    session.send(create(ConnectorMessageSchema, { kind: { case: "cancel", value: { commandId } } }));
  };

  /** Fails a command that is still ours, then publishes; the vehicle is told to stop when asked. */
  const fail = async (
    entry: InFlight,
    f: { message: string; phase: StoredFailurePhase; action: AuditAction; details?: JsonObject; cancelVehicle: boolean },
  ): Promise<void> => {
    endTracking(entry);
    if (f.cancelVehicle) sendCancel(entry.session, entry.commandId);
    if (abandoned) return;
    const row = await finishCommand(pool, {
      commandId: entry.commandId,
      status: "failed",
      errorMessage: f.message,
      failurePhase: f.phase,
      audit: { action: f.action, details: { chunks_received: entry.chunks, ...f.details } },
      requestId: entry.requestId,
    });
    if (!row) return;
    recordTerminal(row);
    entry.logger.error({ errorMessage: f.message, phase: f.phase, action: f.action }, "command failed");
    safely("terminal events", entry.logger, () => publishTerminalEvents(bus, row));
  };

  const armDeadline = (entry: InFlight, deadline: Date): void => {
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, deadline.getTime() - Date.now()));
    entry.timer = setTimeout(() => {
      void onChain(entry, async () => {
        if (entry.ended) return;
        entry.logger.warn({ timeoutMs: entry.timeoutMs, chunks: entry.chunks }, "command deadline passed");
        await fail(entry, {
          message: ErrorMessages.timeout,
          phase: "response",
          action: "command_timeout",
          details: { timeout_ms: entry.timeoutMs },
          cancelVehicle: true,
        });
      });
    }, ms);
  };

  /** Registers a command that just went in_progress and returns what starts it on the vehicle. */
  const launch = (session: VehicleSession, row: CommandRow, faults: FaultDecision, requestId: string | null): (() => void) => {
    const entry: InFlight = {
      commandId: row.command_id,
      commandName: row.command_name,
      session,
      faults,
      requestId,
      timeoutMs: row.timeout_ms,
      logger: session.logger.child({ commandId: row.command_id, requestId }),
      timer: undefined,
      chunks: 0,
      corrupted: false,
      ended: false,
      chain: Promise.resolve(),
    };
    inFlight.set(entry.commandId, entry);
    armDeadline(entry, row.deadline_at);
    if (faults.timeout) {
      metrics.faultsInjected.inc({ fault: "timeout" });
      entry.logger.warn("fault injected: the vehicle's answer will be swallowed");
    }
    if (faults.malformed && !faults.timeout) {
      metrics.faultsInjected.inc({ fault: "malformed" });
      entry.logger.warn("fault injected: the first chunk will be corrupted");
    }
    return () => {
      safely("status event", entry.logger, () => publishCommandEvent(bus, statusEventFromRow(row), requestId));
      const sent = session.send(
        create(ConnectorMessageSchema, {
          kind: {
            case: "execute",
            value: {
              commandId: row.command_id,
              commandName: row.command_name,
              params: row.command_params,
              deadline: timestampFromDate(row.deadline_at),
              correlationId: requestId ?? "",
            },
          },
        }),
      );
      entry.logger.info({ command: row.command_name, deadline: row.deadline_at }, "command sent to vehicle");
      if (!sent || !session.isOpen) {
        void onChain(entry, () => fail(entry, { message: ErrorMessages.unreachable, phase: "delivery", action: "command_failed", cancelVehicle: false }));
      }
    };
  };

  /**
   * Fails commands still in flight as "Vehicle unreachable": phase `delivery` before any chunk,
   * `response` after (the link went away, or the connector is shutting down).
   */
  const failUnreachable = async (entries: readonly InFlight[], why: { reason: string; cancelVehicle: boolean }): Promise<void> => {
    await Promise.all(
      entries.map((entry) =>
        onChain(entry, async () => {
          if (entry.ended) return;
          await fail(entry, {
            message: ErrorMessages.unreachable,
            phase: entry.chunks > 0 ? "response" : "delivery",
            action: "command_failed",
            details: { reason: why.reason },
            cancelVehicle: why.cancelVehicle,
          });
        }),
      ),
    );
  };

  const failMalformed = async (entry: InFlight, raw: Uint8Array, err: CatalogValidationError, sequence: number): Promise<void> => {
    const kept = raw.subarray(0, MAX_AUDIT_RAW_BYTES);
    await fail(entry, {
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
    const fields = { sequence: chunk.sequenceNumber, isFinal: chunk.isFinal };
    if (entry.ended) return drop("after_terminal", entry.logger, fields);
    if (entry.faults.timeout) return drop("fault_timeout", entry.logger, fields);
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
      drop("invalid_payload", entry.logger, { ...fields, error: err.message });
      return failMalformed(entry, bytes, err, chunk.sequenceNumber);
    }
    const stored = await storeChunk(pool, {
      commandId: entry.commandId,
      sequenceNumber: chunk.sequenceNumber,
      isFinal: chunk.isFinal,
      payload,
      receivedAt,
    });
    if (!stored.stored) {
      drop(stored.reason, entry.logger, fields);
      // Ended elsewhere (cancelled, swept): stop waiting for it and tell the vehicle to stop.
      if (stored.reason === "after_terminal") {
        endTracking(entry);
        sendCancel(entry.session, entry.commandId);
      }
      return;
    }
    entry.chunks++;
    safely("response event", entry.logger, () =>
      publishCommandEvent(
        bus,
        create(CommandEventSchema, { commandId: entry.commandId, event: { case: "response", value: responseFromRow(stored.response) } }),
        entry.requestId,
      ),
    );
    if (!chunk.isFinal) return;
    endTracking(entry);
    const row = await finishCommand(pool, {
      commandId: entry.commandId,
      status: "completed",
      audit: { action: "command_completed", details: { chunks: entry.chunks } },
      requestId: entry.requestId,
    });
    if (!row) return;
    recordTerminal(row);
    entry.logger.info({ chunks: entry.chunks, seconds: executionSeconds(row) }, "command completed");
    safely("terminal events", entry.logger, () => publishTerminalEvents(bus, row));
  };

  const tracked = (session: VehicleSession, commandId: string): InFlight | undefined => {
    const entry = inFlight.get(commandId);
    return entry && entry.session === session ? entry : undefined;
  };

  const dropUntracked = (session: VehicleSession, commandId: string, fields: Record<string, unknown>): void => {
    drop(recentlyEnded.has(commandId) ? "after_terminal" : "unknown_command", session.logger, { commandId, ...fields });
  };

  return {
    async dispatch(session, request, requestId) {
      if (!accepting) return { reply: { accepted: false, reason: "connector is shutting down" } };
      if (request.vehicleId !== session.vehicleId) return { reply: { accepted: false, reason: "wrong vehicle" } };
      const logger = session.logger.child({ commandId: request.commandId, requestId });
      const running = inFlight.get(request.commandId);
      // A retried dispatch of a command this session already runs: the first reply was lost.
      if (running) return running.session === session ? { reply: { accepted: true, reason: "" } } : {};
      const faults = faultMemory.decide(request.commandId, () => deps.faults.draw());
      if (faults.unreachable) {
        metrics.faultsInjected.inc({ fault: "unreachable" });
        logger.warn("fault injected: dispatch rejected as unreachable");
        return { reply: { accepted: false, reason: "unreachable" } };
      }
      let row: CommandRow | undefined;
      try {
        row = await startCommand(pool, request.commandId, session.vehicleId);
      } catch (err) {
        metrics.databaseErrors.inc();
        logger.error({ err }, "could not start command");
        return { reply: { accepted: false, reason: "database unavailable" } };
      }
      if (!row) {
        const { rows } = await pool.query<{ status: string }>("SELECT status FROM commands WHERE command_id = $1 AND vehicle_id = $2", [
          request.commandId,
          session.vehicleId,
        ]);
        const status = rows[0]?.status;
        if (status === undefined) return { reply: { accepted: false, reason: "unknown command" } };
        // Another session of this vehicle (being replaced) took it and answers; stay silent.
        if (status === "in_progress") return {};
        return { reply: { accepted: false, reason: `command is ${status}` } };
      }
      const id = requestId || row.correlation_id || null;
      return { reply: { accepted: true, reason: "" }, start: launch(session, row, faults, id) };
    },

    async deliverQueued(session) {
      const queued = await listQueuedCommands(pool, session.vehicleId);
      for (const q of queued) {
        if (!session.isOpen || !accepting) return;
        const logger = session.logger.child({ commandId: q.command_id, requestId: q.correlation_id });
        if (!(await mayRunCommands(pool, q.user_id))) {
          const row = await finishCommand(pool, {
            commandId: q.command_id,
            status: "failed",
            errorMessage: ErrorMessages.unreachable,
            failurePhase: "dispatch",
            audit: { action: "command_failed", details: { reason: "submitter may no longer run commands" } },
            requestId: q.correlation_id,
          });
          if (row) {
            recordTerminal(row);
            logger.error("queued command failed: its submitter may no longer run commands");
            safely("terminal events", logger, () => publishTerminalEvents(bus, row));
          }
          continue;
        }
        const faults = faultMemory.decide(q.command_id, () => deps.faults.draw());
        if (faults.unreachable) {
          metrics.faultsInjected.inc({ fault: "unreachable" });
          logger.warn("fault injected: queued command left waiting as if unreachable");
          continue;
        }
        const row = await startCommand(pool, q.command_id, session.vehicleId);
        if (!row) continue;
        logger.info("queued command delivered");
        launch(session, row, faults, row.correlation_id)();
      }
    },

    onChunk(session, chunk, receivedAt) {
      const entry = tracked(session, chunk.commandId);
      if (!entry) return dropUntracked(session, chunk.commandId, { sequence: chunk.sequenceNumber });
      void onChain(entry, () => handleChunk(entry, chunk, receivedAt));
    },

    onFailure(session, failure) {
      const entry = tracked(session, failure.commandId);
      if (!entry) {
        session.logger.warn({ commandId: failure.commandId }, "failure for a command not in flight ignored");
        return;
      }
      void onChain(entry, async () => {
        if (entry.ended) return;
        if (entry.faults.timeout) return drop("fault_timeout", entry.logger, { failure: true });
        const message = failure.message.trim().slice(0, MAX_VEHICLE_MESSAGE) || "Vehicle reported a failure";
        await fail(entry, { message, phase: "response", action: "command_failed", details: { vehicle_message: message }, cancelVehicle: false });
      });
    },

    cancel(session, commandId) {
      const entry = inFlight.get(commandId);
      if (entry) {
        endTracking(entry);
        entry.logger.info("command cancelled; vehicle told to stop");
        sendCancel(entry.session, commandId);
      } else if (session) {
        sendCancel(session, commandId);
      }
    },

    async linkLost(session) {
      const mine = [...inFlight.values()].filter((e) => e.session === session);
      await failUnreachable(mine, { reason: "vehicle link closed", cancelVehicle: false });
    },

    forget(commandIds) {
      for (const id of commandIds) {
        const entry = inFlight.get(id);
        if (!entry) continue;
        endTracking(entry);
        sendCancel(entry.session, id);
      }
    },

    stopAccepting() {
      accepting = false;
    },

    inFlightCount: () => inFlight.size,

    whenIdle(timeoutMs) {
      if (inFlight.size === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (idle: boolean): void => {
          clearTimeout(timer);
          idleWaiters.delete(wake);
          resolve(idle);
        };
        const wake = (): void => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        idleWaiters.add(wake);
      });
    },

    async failAll() {
      await failUnreachable([...inFlight.values()], { reason: "connector shut down", cancelVehicle: true });
    },

    async settle() {
      while (steps.size > 0) await Promise.all([...steps]);
    },

    abandon() {
      abandoned = true;
      accepting = false;
      for (const entry of inFlight.values()) clearTimeout(entry.timer);
      inFlight.clear();
    },

    recordTerminal,
  };
}

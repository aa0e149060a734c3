import { appendChunks, createCommandEnder, listInterruptedCommands, startCommands, type CommandEnder, type CommandRow } from "@sovd/domain";
import { ErrorMessages } from "@sovd/proto";
import { createBatcher, type Bus, type Logger, type Pool } from "@sovd/platform";
import { FaultMemory, type FaultInjector } from "../faults.js";
import type { ConnectorMetrics } from "../metrics.js";
import type { VehicleSession } from "../sessions/session.js";
import { createChunkHandler, type ChunkHandler } from "./chunk-handler.js";
import { createDispatchHandler, type DispatchHandler } from "./dispatch-handler.js";
import { InFlightTable } from "./in-flight.js";
import { deliverQueued } from "./queued-delivery.js";
import { commandFields, failUnreachable, sendCancel, type CommandDeps } from "./running.js";

/**
 * The command lifecycle of one connector (architecture §3 "Execute"): the protocol
 * (dispatches and cancels from the bus, chunks and failures from vehicles, queued delivery)
 * and the lifecycle (link loss, the sweep's ends, drain, abandon). Persist first, then
 * publish; everything that happens to one command runs in order on its chain.
 */
export interface CommandEngine {
  /** Execute and cancel requests from the gateways, for a vehicle this connector holds. */
  readonly dispatch: DispatchHandler;
  /** Chunks and failures the vehicles send. */
  readonly answers: ChunkHandler;
  /** The one terminal path (the sweep uses it too). */
  readonly ender: CommandEnder;
  /** Starts the vehicle's offline-queued commands, oldest first (on hello). */
  deliverQueued(session: VehicleSession): Promise<void>;
  /**
   * A new session of the vehicle opened: the commands its earlier sessions left in progress
   * (here or on a connector that died) can never be answered, so they fail now instead of at
   * their deadline. Runs before the new session takes dispatches.
   */
  endInterrupted(session: VehicleSession): Promise<void>;
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
}

/** One engine per connector: its in-flight table, batchers and terminal path are shared by every session. */
export function createCommandEngine(opts: { pool: Pool; bus: Bus; logger: Logger; metrics: ConnectorMetrics; faults: FaultInjector }): CommandEngine {
  const { pool, metrics } = opts;
  // One statement for the session opens that arrive together (a reconnect storm).
  const interruptedChecks = createBatcher<string, CommandRow[]>({
    run: async (vehicleIds) => {
      const found = await listInterruptedCommands(pool, vehicleIds);
      return vehicleIds.map((id) => found.get(id) ?? []);
    },
    key: (vehicleId) => vehicleId,
  });
  const inFlight = new InFlightTable((err, entry) => {
    metrics.databaseErrors.inc();
    entry.session.logger.error({ err, ...commandFields(entry) }, "command step failed");
  });
  const deps: CommandDeps = {
    pool,
    bus: opts.bus,
    metrics,
    inFlight,
    faults: opts.faults,
    faultMemory: new FaultMemory(),
    ender: createCommandEnder({ db: pool, bus: opts.bus, logger: opts.logger, metrics: metrics.commands, onBusError: () => metrics.busErrors.inc() }),
    starts: createBatcher({ run: (requests) => startCommands(pool, requests), key: (r) => r.commandId }),
    chunks: createBatcher({ run: (chunks) => appendChunks(pool, chunks), key: (c) => c.commandId }),
    state: { accepting: true, abandoned: false },
  };

  return {
    dispatch: createDispatchHandler(deps),
    answers: createChunkHandler(deps),
    ender: deps.ender,
    deliverQueued: (session) => deliverQueued(deps, session),
    async endInterrupted(session) {
      const rows = await interruptedChecks.push(session.vehicleId);
      const reason = "the vehicle reconnected: the session that ran the command is gone";
      const here = rows.map((r) => inFlight.get(r.command_id)).filter((e): e is NonNullable<typeof e> => e !== undefined && e.session !== session);
      await failUnreachable(deps, here, { reason, cancelVehicle: false });
      for (const row of rows) {
        if (inFlight.get(row.command_id) || here.some((e) => e.commandId === row.command_id)) continue;
        session.logger.warn({ commandId: row.command_id, requestId: row.correlation_id }, "command of an earlier session of the vehicle failed");
        await deps.ender.end(
          {
            commandId: row.command_id,
            status: "failed",
            errorMessage: ErrorMessages.unreachable,
            failurePhase: row.last_sequence > 0 ? "response" : "delivery",
            audit: { action: "command_failed", details: { reason, chunks_received: row.last_sequence } },
            requestId: row.correlation_id,
          },
          session.logger,
        );
      }
    },
    linkLost: (session) =>
      failUnreachable(
        deps,
        inFlight.all().filter((e) => e.session === session),
        { reason: "vehicle link closed", cancelVehicle: false },
      ),
    forget(commandIds) {
      for (const id of commandIds) {
        const entry = inFlight.get(id);
        if (!entry) continue;
        inFlight.end(entry);
        sendCancel(entry.session, id);
      }
    },
    stopAccepting() {
      deps.state.accepting = false;
    },
    inFlightCount: () => inFlight.size,
    whenIdle: (timeoutMs) => inFlight.whenIdle(timeoutMs),
    failAll: () => failUnreachable(deps, inFlight.all(), { reason: "connector shut down", cancelVehicle: true }),
    settle: () => inFlight.settle(),
    abandon() {
      deps.state.abandoned = true;
      deps.state.accepting = false;
      inFlight.abandon();
    },
  };
}

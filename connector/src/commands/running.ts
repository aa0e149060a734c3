import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  publishCommandEvent,
  statusEventFromRow,
  type AppendOutcome,
  type AuditAction,
  type CommandEnder,
  type CommandRow,
  type ChunkRun,
  type StartOutcome,
  type StartRequest,
} from "@sovd/domain";
import type { Batcher, Bus, Logger, Pool } from "@sovd/platform";
import { ConnectorMessageSchema, ErrorMessages, type StoredFailurePhase } from "@sovd/proto";
import type { FaultDecision, FaultInjector, FaultMemory } from "../faults.js";
import type { ConnectorMetrics, DropReason } from "../metrics.js";
import type { VehicleSession } from "../sessions/session.js";
import type { InFlight, InFlightTable } from "./in-flight.js";

/** What every part of the command lifecycle of one connector shares. */
export interface CommandDeps {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly metrics: ConnectorMetrics;
  readonly ender: CommandEnder;
  readonly inFlight: InFlightTable;
  readonly faults: FaultInjector;
  readonly faultMemory: FaultMemory;
  /** pending/queued -> in_progress, group-committed across the dispatches that arrive together. */
  readonly starts: Batcher<StartRequest, StartOutcome>;
  /** Chunk writes, group-committed across commands (one run of chunks per command per batch). */
  readonly chunks: Batcher<ChunkRun, AppendOutcome>;
  readonly state: { accepting: boolean; abandoned: boolean };
}

/** The log fields of one command (no child logger per command: they cost on every command). */
export const commandFields = (entry: Pick<InFlight, "commandId" | "requestId">): Record<string, unknown> => ({
  commandId: entry.commandId,
  requestId: entry.requestId,
});

/** Counts and logs a chunk that is not stored. */
export function drop(deps: CommandDeps, reason: DropReason, logger: Logger, fields: Record<string, unknown>): void {
  deps.metrics.chunksDropped.inc({ reason });
  logger.warn({ ...fields, reason }, "chunk dropped");
}

/** Publishes without letting a bus failure end the step (the row is committed; watchers replay it). */
export function publishSafely(deps: CommandDeps, what: string, logger: Logger, publish: () => void): void {
  try {
    publish();
  } catch (err) {
    deps.metrics.busErrors.inc();
    logger.error({ err }, `could not publish ${what}`);
  }
}

/** Tells the vehicle to stop working on a command. */
export function sendCancel(session: VehicleSession, commandId: string): void {
  session.send(create(ConnectorMessageSchema, { kind: { case: "cancel", value: { commandId } } }));
}

/** How a running command fails. */
export interface Failing {
  readonly message: string;
  readonly phase: StoredFailurePhase;
  readonly action: AuditAction;
  readonly details?: JsonObject;
  /** Tell the vehicle to stop (it may still be working on it). */
  readonly cancelVehicle: boolean;
}

/** How a command fails whose answer from the vehicle could not be written. */
export const UNSTORED_ANSWER: Failing = {
  message: ErrorMessages.databaseUnavailable,
  phase: "response",
  action: "command_failed",
  details: { reason: "the vehicle's answer could not be stored" },
  cancelVehicle: true,
};

/** Fails a command that is still ours through the one terminal path; the vehicle is told to stop when asked. */
export async function failRunning(deps: CommandDeps, entry: InFlight, f: Failing): Promise<void> {
  deps.inFlight.end(entry);
  if (f.cancelVehicle) sendCancel(entry.session, entry.commandId);
  if (deps.state.abandoned) return;
  await deps.ender.end(
    {
      commandId: entry.commandId,
      status: "failed",
      errorMessage: f.message,
      failurePhase: f.phase,
      audit: { action: f.action, details: { chunks_received: entry.chunks, ...f.details } },
      requestId: entry.requestId,
    },
    entry.session.logger,
  );
}

/** Fails commands still in flight as "Vehicle unreachable": phase `delivery` before any chunk, `response` after. */
export async function failUnreachable(deps: CommandDeps, entries: readonly InFlight[], why: { reason: string; cancelVehicle: boolean }): Promise<void> {
  await Promise.all(
    entries.map((entry) =>
      deps.inFlight.run(entry, async () => {
        if (entry.ended) return;
        await failRunning(deps, entry, {
          message: ErrorMessages.unreachable,
          phase: entry.chunks > 0 ? "response" : "delivery",
          action: "command_failed",
          details: { reason: why.reason },
          cancelVehicle: why.cancelVehicle,
        });
      }),
    ),
  );
}

/**
 * The injected faults of a command, decided on its first dispatch and the same for every retry
 * (architecture §3 "Execute"). An injected unreachable is counted in faults_injected_total
 * once per command, when it is drawn; timeout and malformed when the command launches.
 */
export function decideFaults(deps: CommandDeps, commandId: string): FaultDecision {
  return deps.faultMemory.decide(
    commandId,
    () => deps.faults.draw(),
    (decision) => {
      if (decision.unreachable) deps.metrics.faultsInjected.inc({ fault: "unreachable" });
    },
  );
}

/**
 * Registers a command that just went in_progress (its deadline armed) and starts it on the
 * vehicle: the in_progress status event, then Execute down the stream. A stream that is
 * already gone fails it at once as undelivered.
 */
export function launch(deps: CommandDeps, session: VehicleSession, row: CommandRow, faults: FaultDecision, requestId: string | null): void {
  const entry = deps.inFlight.add(
    { commandId: row.command_id, commandName: row.command_name, session, faults, requestId, timeoutMs: row.timeout_ms },
    row.deadline_at,
    (e) => {
      if (e.storeFailed) {
        // The vehicle answered; the database lost it (architecture §4 "Statuses and error strings").
        return failRunning(deps, e, UNSTORED_ANSWER);
      }
      session.logger.warn({ ...commandFields(e), timeoutMs: e.timeoutMs, chunks: e.chunks }, "command deadline passed");
      return failRunning(deps, e, {
        message: ErrorMessages.timeout,
        phase: "response",
        action: "command_timeout",
        details: { timeout_ms: e.timeoutMs },
        cancelVehicle: true,
      });
    },
  );
  const fields = commandFields(entry);
  if (faults.timeout) {
    deps.metrics.faultsInjected.inc({ fault: "timeout" });
    session.logger.warn(fields, "fault injected: the vehicle's answer will be swallowed");
  }
  if (faults.malformed && !faults.timeout) {
    deps.metrics.faultsInjected.inc({ fault: "malformed" });
    session.logger.warn(fields, "fault injected: the first chunk will be corrupted");
  }
  publishSafely(deps, "status event", session.logger, () => publishCommandEvent(deps.bus, statusEventFromRow(row), requestId));
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
  session.logger.debug({ ...fields, command: row.command_name, deadline: row.deadline_at }, "command sent to vehicle");
  if (!sent || !session.isOpen) {
    void deps.inFlight.run(entry, () =>
      failRunning(deps, entry, { message: ErrorMessages.unreachable, phase: "delivery", action: "command_failed", cancelVehicle: false }),
    );
  }
}

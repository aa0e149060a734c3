import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { BusClosedError, BusTimeoutError, NoRespondersError, type Bus, type Logger, type Pool } from "@sovd/platform";
import { markQueued, publishCommandEvent, statusEventFromRow, type CommandEnder, type CommandRow } from "@sovd/domain";
import {
  DISPATCH_REASON_DATABASE,
  DispatchReplySchema,
  DispatchRequestSchema,
  ErrorMessages,
  executeSubject,
  findCommand,
  REQUEST_ID_HEADER,
} from "@sovd/proto";
import pRetry, { AbortError } from "p-retry";
import { isBusError, isDatabaseError } from "../rpc/index.js";
import type { GatewayMetrics } from "../metrics.js";
import type { CircuitBreakers } from "./circuit-breaker.js";

/** Retry and timeout settings of the dispatch (DISPATCH_* variables). */
export interface DispatchConfig {
  /** Attempts in all (3): the first plus retries. */
  readonly attempts: number;
  /** Delay before the first retry, doubled for each further one. */
  readonly backoffMs: number;
  /** How long one attempt waits for a connector's reply. */
  readonly requestTimeoutMs: number;
  /** How long close() lets in-flight dispatches finish before it stops them. */
  readonly shutdownGraceMs: number;
}

/** A connector answered the dispatch with "not accepted" (e.g. injected unreachable, draining). */
export class DispatchRejectedError extends Error {
  override readonly name = "DispatchRejectedError";
  constructor(readonly reason: string) {
    super(`dispatch rejected: ${reason || "no reason given"}`);
  }
}

/**
 * An attempt of a command that changes the vehicle timed out: a connector may have accepted
 * it, so it is not sent again (the system never sends it twice). The connector, or
 * the deadline sweep, ends it.
 */
export class AcceptanceUnknownError extends Error {
  override readonly name = "AcceptanceUnknownError";
}

/** The first attempt found no connector holding the vehicle and the submitter allowed queueing. */
class VehicleOfflineError extends Error {
  override readonly name = "VehicleOfflineError";
}

type StopReason = "cancelled" | "shutdown";

/** The part a failed dispatch is blamed on, and the message its command fails with. */
type Blame = "vehicle" | "bus" | "database";
const FAILURE_MESSAGES: Readonly<Record<Blame, string>> = {
  vehicle: ErrorMessages.unreachable,
  bus: ErrorMessages.busUnavailable,
  database: ErrorMessages.databaseUnavailable,
};


/** Who submitted, for the audit row of a dispatch failure. */
export interface DispatchClient {
  readonly ipAddress?: string;
  readonly userAgent?: string;
}

/** The background dispatch of submitted commands, one per gateway instance. */
export interface Dispatcher {
  /** Dispatches a stored `pending` command in the background; returns at once. */
  start(row: CommandRow, opts?: { queueTtlMs?: number; client?: DispatchClient }): void;
  /** Stops retrying a command (it was cancelled). */
  stop(commandId: string): void;
  /** Resolves when every dispatch started so far has ended (tests, shutdown). */
  idle(): Promise<void>;
  /** Lets in-flight dispatches finish within the grace time, then fails the rest cleanly. */
  close(): Promise<void>;
}

/**
 * Sends commands to whichever connector holds the vehicle (architecture §3 "Dispatch"): NATS
 * request/reply on `sovd.v1.vehicle.{id}.execute` with the request id in the headers.
 *
 * Retry policy: only the dispatch is retried, never the execution. No responder, an explicit
 * rejection and (for read-only commands) an attempt that timed out are retried with
 * exponential backoff; for a command that changes the vehicle a timed-out attempt is NOT
 * retried, because its acceptance is unknown (the connector may be running it). When every
 * attempt fails, or the vehicle's circuit breaker is open, the command ends `failed`,
 * "Vehicle unreachable", phase dispatch, audit `command_failed`, with its error and status events.
 */
export function createDispatcher(deps: {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  metrics: GatewayMetrics;
  breakers: CircuitBreakers;
  /** The one terminal path (a dispatch that failed for good). */
  ender: CommandEnder;
  config: DispatchConfig;
}): Dispatcher {
  const { pool, bus, logger, metrics, breakers, config } = deps;
  const inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let closing = false;

  async function fail(
    row: CommandRow,
    reason: string,
    attempts: number,
    client: DispatchClient | undefined,
    errorMessage: string = ErrorMessages.unreachable,
  ): Promise<void> {
    // Nothing happens when it ended meanwhile (cancelled, or a connector finished it): terminal is
    // terminal. The terminal path logs the failure; the audit row keeps the reason and attempts.
    await deps.ender.end(
      {
        commandId: row.command_id,
        status: "failed",
        errorMessage,
        failurePhase: "dispatch",
        audit: {
          action: "command_failed",
          details: { reason, attempts },
          ipAddress: client?.ipAddress,
          userAgent: client?.userAgent,
        },
        requestId: row.correlation_id,
      },
      logger,
    );
  }

  /**
   * Which part a dispatch failed on (architecture §4 "Statuses and error strings"): the bus
   * (its connection is lost, or a request timed out while the gateway cannot reach NATS), the
   * database (the connector could not write the start), or else the vehicle (no connector
   * holds it, or none answered).
   */
  async function whoFailed(err: unknown): Promise<Blame> {
    if (err instanceof DispatchRejectedError) return err.reason === DISPATCH_REASON_DATABASE ? "database" : "vehicle";
    if (err instanceof NoRespondersError) return "vehicle";
    if (isBusError(err)) return "bus";
    const reachable = await bus.ping().then(
      () => true,
      () => false,
    );
    return reachable ? "vehicle" : "bus";
  }

  async function queue(row: CommandRow, queueTtlMs: number): Promise<void> {
    const queued = await markQueued(pool, row.command_id, queueTtlMs);
    if (!queued) return;
    logger.info({ requestId: row.correlation_id, commandId: row.command_id, deadlineAt: queued.deadline_at }, "vehicle offline: command queued");
    publishCommandEvent(bus, statusEventFromRow(queued), queued.correlation_id);
  }

  async function run(row: CommandRow, signal: AbortSignal, queueTtlMs: number | undefined, client: DispatchClient | undefined): Promise<void> {
    // Fields, not a child logger: a child costs its bindings on every dispatch, and most dispatches log nothing.
    const ids = { requestId: row.correlation_id, commandId: row.command_id };
    const permit = breakers.acquire(row.vehicle_id);
    if (permit === "rejected") {
      logger.warn(ids, "circuit breaker open: failing fast");
      await fail(row, "circuit breaker open", 0, client);
      return;
    }
    const changesVehicle = findCommand(row.command_name)?.changesVehicle ?? true;
    const request = toBinary(
      DispatchRequestSchema,
      create(DispatchRequestSchema, {
        commandId: row.command_id,
        vehicleId: row.vehicle_id,
        commandName: row.command_name,
        params: row.command_params,
        deadline: timestampFromDate(row.deadline_at),
        correlationId: row.correlation_id ?? "",
        userId: row.user_id,
      }),
    );
    const headers = row.correlation_id ? { [REQUEST_ID_HEADER]: row.correlation_id } : undefined;
    let attempts = 0;
    try {
      await pRetry(
        async (attempt) => {
          attempts = attempt;
          let reply;
          try {
            reply = await bus.request(executeSubject(row.vehicle_id), request, { timeoutMs: config.requestTimeoutMs, headers, signal });
          } catch (err) {
            if (signal.aborted) throw err;
            if (err instanceof NoRespondersError && attempt === 1 && queueTtlMs !== undefined) throw new AbortError(new VehicleOfflineError());
            if (err instanceof BusTimeoutError && changesVehicle) {
              throw new AbortError(new AcceptanceUnknownError("dispatch timed out; not retried because the command changes the vehicle", { cause: err }));
            }
            if (err instanceof BusClosedError) metrics.busErrors.inc();
            throw err;
          }
          const answer = fromBinary(DispatchReplySchema, reply.data);
          if (!answer.accepted) throw new DispatchRejectedError(answer.reason);
        },
        {
          retries: config.attempts - 1,
          minTimeout: config.backoffMs,
          factor: 2,
          signal,
          unref: true,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            logger.warn({ ...ids, attempt: attemptNumber, retriesLeft, reason: error.message }, "dispatch attempt failed");
            if (retriesLeft > 0) metrics.dispatchRetries.inc();
          },
        },
      );
      breakers.recordSuccess(row.vehicle_id);
      logger.debug({ ...ids, attempts }, "dispatch accepted");
    } catch (err) {
      if (signal.aborted) {
        breakers.release(row.vehicle_id);
        const reason = signal.reason as StopReason;
        if (reason === "shutdown" && !changesVehicle) await fail(row, "gateway shutting down", attempts, client);
        return;
      }
      if (err instanceof VehicleOfflineError) {
        breakers.release(row.vehicle_id);
        await queue(row, queueTtlMs!);
        return;
      }
      const blame = await whoFailed(err);
      // Only the vehicle's own failures count towards its circuit breaker, not an outage of ours.
      if (blame === "vehicle") breakers.recordFailure(row.vehicle_id);
      else breakers.release(row.vehicle_id);
      if (err instanceof AcceptanceUnknownError) {
        logger.warn(ids, "dispatch of a vehicle-changing command timed out; left to the connector and the deadline sweep");
        return;
      }
      await fail(row, err instanceof Error ? err.message : String(err), attempts, client, FAILURE_MESSAGES[blame]);
    }
  }

  return {
    start(row, opts = {}) {
      const controller = new AbortController();
      if (closing) controller.abort("shutdown" satisfies StopReason);
      const done = run(row, controller.signal, opts.queueTtlMs, opts.client)
        .catch((err: unknown) => {
          if (isDatabaseError(err)) metrics.databaseErrors.inc();
          logger.error({ err, requestId: row.correlation_id, commandId: row.command_id }, "dispatch failed unexpectedly");
        })
        .finally(() => inFlight.delete(row.command_id));
      inFlight.set(row.command_id, { controller, done });
    },
    stop(commandId) {
      inFlight.get(commandId)?.controller.abort("cancelled" satisfies StopReason);
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight.values()].map((d) => d.done));
    },
    async close() {
      closing = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.idle(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, config.shutdownGraceMs);
        }),
      ]);
      clearTimeout(timer);
      for (const d of inFlight.values()) d.controller.abort("shutdown" satisfies StopReason);
      await this.idle();
    },
  };
}

import type { JsonObject } from "@bufbuild/protobuf";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { insertSubmitted, type CommandRow, type CommandTimeouts } from "@sovd/domain";
import type { Logger, Pool } from "@sovd/platform";
import { COMMAND_CATALOG, findCommand, normalizeParams, type SubmitCommandRequest } from "@sovd/proto";
import type { Principal } from "../auth/index.js";
import type { GatewayMetrics } from "../metrics.js";
import type { ClientInfo } from "../request-context.js";
import { InvalidArgumentError, isPlainText, isUuid, NotFoundError, PermissionDeniedError, ShuttingDownError } from "../rpc/index.js";
import type { Dispatcher } from "./dispatcher.js";

/** Bounds of the per-request durations of SubmitCommand. */
export interface CommandLimits {
  /** Largest `timeout` a request may ask for (MAX_TIMEOUT_MS, 10 min). */
  readonly maxTimeoutMs: number;
  /** Largest `queue_ttl` (MAX_QUEUE_TTL_MS, 24 h). */
  readonly maxQueueTtlMs: number;
}

const MIN_DURATION_MS = 1000;
const MAX_IDEMPOTENCY_KEY = 128;
/** The longest command name echoed back in an error. */
export const MAX_COMMAND_NAME = 64;

/** A protobuf Duration in ms, within [1 s, max]; invalid_argument naming `field` otherwise. */
function durationMs(d: Duration, field: string, maxMs: number): number {
  const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1_000_000);
  if (!Number.isFinite(ms) || ms < MIN_DURATION_MS || ms > maxMs) {
    throw new InvalidArgumentError(field, `must be between ${MIN_DURATION_MS / 1000}s and ${maxMs / 1000}s`);
  }
  return ms;
}

/** Viewers may read but never submit or cancel; the interceptor's table says so too. */
export const requireWriter = (principal: Principal): void => {
  // The auth interceptor checks roles per method; this guards the handler if it is ever mounted without it.
  if (principal.role === "viewer") throw new PermissionDeniedError("viewers cannot submit or cancel commands");
};

/** A stored submission: a new command (dispatch not started yet), or the first one of its idempotency key. */
export interface Submission {
  readonly row: CommandRow;
  readonly created: boolean;
  /** Starts the background dispatch of a new pending command (nothing for a queued or repeated one). */
  dispatch(): void;
}

/** What submitting needs. */
export interface SubmitDeps {
  readonly pool: Pool;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly dispatcher: Dispatcher;
  readonly timeouts: CommandTimeouts;
  readonly limits: CommandLimits;
  /** Aborted when the gateway shuts down: submissions are refused, watch streams end with `unavailable`. */
  readonly shutdownSignal: AbortSignal;
}

/**
 * SubmitCommand's rules (architecture §3 "Submit"), shared by SubmitCommand and
 * SubmitAndWatch: validate in the documented order, store the row with its audit row in one
 * statement (the vehicle must exist), and hand back the dispatch to start, so a caller that
 * watches can register before the first event can be published.
 */
export function createSubmit(deps: SubmitDeps): (req: SubmitCommandRequest, principal: Principal, client: ClientInfo) => Promise<Submission> {
  return async (req, principal, client) => {
    requireWriter(principal);
    if (deps.shutdownSignal.aborted) throw new ShuttingDownError();
    if (req.vehicleId === "") throw new InvalidArgumentError("vehicle_id", "is required");
    if (!isUuid(req.vehicleId)) throw new NotFoundError("vehicle");
    if (req.commandName === "") throw new InvalidArgumentError("command_name", "is required");
    const def = findCommand(req.commandName);
    if (!def) {
      throw new InvalidArgumentError(
        "command_name",
        `unknown command "${req.commandName.slice(0, MAX_COMMAND_NAME)}"; known: ${COMMAND_CATALOG.map((c) => c.name).join(", ")}`,
      );
    }
    const params = normalizeParams(def, req.params as JsonObject | undefined);
    const timeoutMs = req.timeout ? durationMs(req.timeout, "timeout", deps.limits.maxTimeoutMs) : (deps.timeouts[def.name] ?? def.defaultTimeoutMs);
    const queueTtlMs = req.queueTtl ? durationMs(req.queueTtl, "queue_ttl", deps.limits.maxQueueTtlMs) : undefined;
    const key = req.idempotencyKey;
    if (key.length > MAX_IDEMPOTENCY_KEY) throw new InvalidArgumentError("idempotency_key", `must be at most ${MAX_IDEMPOTENCY_KEY} characters`);
    if (!isPlainText(key)) throw new InvalidArgumentError("idempotency_key", "must not contain control characters");

    const stored = await insertSubmitted(deps.pool, {
      vehicleId: req.vehicleId,
      userId: principal.userId,
      commandName: def.name,
      params,
      timeoutMs,
      queueTtlMs,
      idempotencyKey: key === "" ? null : key,
      correlationId: client.requestId || null,
      client,
    });
    if (stored.kind === "vehicle_not_found") throw new NotFoundError("vehicle");
    if (stored.kind === "existing") return { row: stored.row, created: false, dispatch: () => undefined };
    const row = stored.row;
    deps.metrics.commandsSubmitted.inc({ command: def.name });
    deps.logger.info(
      { requestId: client.requestId, commandId: row.command_id, vehicleId: row.vehicle_id, command: def.name, status: row.status },
      "command submitted",
    );
    let started = false;
    return {
      row,
      created: true,
      dispatch() {
        if (started || row.status !== "pending") return;
        started = true;
        deps.dispatcher.start(row, { queueTtlMs, client });
      },
    };
  };
}

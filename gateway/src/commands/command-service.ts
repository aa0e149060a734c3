import { create, toBinary, type JsonObject } from "@bufbuild/protobuf";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  commandFromRow,
  getCommandRow,
  getCommandWithResponses,
  insertSubmitted,
  listCommandsPage,
  responseFromRow,
  type CommandEnder,
  type CommandRow,
  type CommandTimeouts,
} from "@sovd/domain";
import type { Bus, Logger, Pool } from "@sovd/platform";
import {
  CancelDispatchSchema,
  COMMAND_CATALOG,
  commandTypesOf,
  CommandStatus,
  ErrorMessages,
  REQUEST_ID_HEADER,
  cancelSubject,
  findCommand,
  isTerminal,
  isTerminalStatus,
  normalizeParams,
  statusFromProto,
  type CommandService,
  type StoredStatus,
} from "@sovd/proto";
import { canSeeCommand, requirePrincipal, type Principal } from "../auth/index.js";
import { FailedPreconditionError, InvalidArgumentError, isPlainText, isUuid, NotFoundError, PermissionDeniedError, ShuttingDownError } from "../rpc/index.js";
import type { GatewayMetrics } from "../metrics.js";
import { decodePageToken, encodePageToken, pageSize } from "../paging.js";
import { clientInfoKey } from "../request-context.js";
import { streamOriginKey, streamUrl } from "../stream-origin.js";
import type { Dispatcher } from "./dispatcher.js";
import type { CommandEventHub } from "./event-hub.js";
import { watchCommandEvents } from "./watch.js";

/** Bounds of the per-request durations of SubmitCommand. */
export interface CommandLimits {
  /** Largest `timeout` a request may ask for (MAX_TIMEOUT_MS, 10 min). */
  readonly maxTimeoutMs: number;
  /** Largest `queue_ttl` (MAX_QUEUE_TTL_MS, 24 h). */
  readonly maxQueueTtlMs: number;
}

/** Everything CommandService uses; one typed door, no container. */
export interface CommandServiceDeps {
  readonly pool: Pool;
  readonly bus: Bus;
  /** The gateway's one subscription to command events, fanned out to watchers. */
  readonly events: CommandEventHub;
  /** The one terminal path (cancel). */
  readonly ender: CommandEnder;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly dispatcher: Dispatcher;
  readonly timeouts: CommandTimeouts;
  readonly limits: CommandLimits;
  /** Aborted when the gateway shuts down: watch streams end with `unavailable`, submissions are refused. */
  readonly shutdownSignal: AbortSignal;
}

const MIN_DURATION_MS = 1000;
const MAX_IDEMPOTENCY_KEY = 128;
const MAX_NAME = 64;

/** A protobuf Duration in ms, within [1 s, max]; invalid_argument naming `field` otherwise. */
function durationMs(d: Duration, field: string, maxMs: number): number {
  const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1_000_000);
  if (!Number.isFinite(ms) || ms < MIN_DURATION_MS || ms > maxMs) {
    throw new InvalidArgumentError(field, `must be between ${MIN_DURATION_MS / 1000}s and ${maxMs / 1000}s`);
  }
  return ms;
}

/** The stored command if it exists and `principal` may see it; NotFoundError otherwise (ids reveal nothing, §9). */
async function visibleCommand(pool: Pool, principal: Principal, commandId: string): Promise<CommandRow> {
  if (!isUuid(commandId)) throw new NotFoundError("command");
  const row = await getCommandRow(pool, commandId);
  if (!row || !canSeeCommand(principal, row.user_id)) throw new NotFoundError("command");
  return row;
}

const requireWriter = (principal: Principal): void => {
  // The auth interceptor checks roles per method; this guards the handler if it is ever mounted without it.
  if (principal.role === "viewer") throw new PermissionDeniedError("viewers cannot submit or cancel commands");
};

/**
 * CommandService (architecture §3 "Flows"): the catalog, submit (validate, store + audit in one
 * transaction, answer at once, dispatch in the background), history, watch (replay then
 * live) and cancel. Visibility per canSeeCommand; what a caller may not see is not_found.
 */
export function createCommandService(deps: CommandServiceDeps): ServiceImpl<typeof CommandService> {
  const { pool, bus, logger, metrics, dispatcher } = deps;

  const commandTypes = commandTypesOf(deps.timeouts);

  return {
    listCommandTypes() {
      return { commandTypes };
    },

    async submitCommand(req, ctx) {
      const principal = requirePrincipal(ctx);
      requireWriter(principal);
      if (deps.shutdownSignal.aborted) throw new ShuttingDownError();
      const client = ctx.values.get(clientInfoKey);
      const origin = ctx.values.get(streamOriginKey);

      if (req.vehicleId === "") throw new InvalidArgumentError("vehicle_id", "is required");
      if (!isUuid(req.vehicleId)) throw new NotFoundError("vehicle");
      if (req.commandName === "") throw new InvalidArgumentError("command_name", "is required");
      const def = findCommand(req.commandName);
      if (!def) {
        throw new InvalidArgumentError(
          "command_name",
          `unknown command "${req.commandName.slice(0, MAX_NAME)}"; known: ${COMMAND_CATALOG.map((c) => c.name).join(", ")}`,
        );
      }
      const params = normalizeParams(def, req.params as JsonObject | undefined);
      const timeoutMs = req.timeout ? durationMs(req.timeout, "timeout", deps.limits.maxTimeoutMs) : (deps.timeouts[def.name] ?? def.defaultTimeoutMs);
      const queueTtlMs = req.queueTtl ? durationMs(req.queueTtl, "queue_ttl", deps.limits.maxQueueTtlMs) : undefined;
      const key = req.idempotencyKey;
      if (key.length > MAX_IDEMPOTENCY_KEY) throw new InvalidArgumentError("idempotency_key", `must be at most ${MAX_IDEMPOTENCY_KEY} characters`);
      if (!isPlainText(key)) throw new InvalidArgumentError("idempotency_key", "must not contain control characters");

      const reply = (row: CommandRow) => ({ command: commandFromRow(row), streamUrl: streamUrl(origin, row.command_id) });
      const stored = await insertSubmitted(pool, {
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
      if (stored.kind === "existing") return reply(stored.row);
      const row = stored.row;
      metrics.commandsSubmitted.inc({ command: def.name });
      logger.info(
        { requestId: client.requestId, commandId: row.command_id, vehicleId: row.vehicle_id, command: def.name, status: row.status },
        "command submitted",
      );
      if (row.status === "pending") dispatcher.start(row, { queueTtlMs, client });
      return reply(row);
    },

    async getCommand(req, ctx) {
      const principal = requirePrincipal(ctx);
      if (!isUuid(req.commandId)) throw new NotFoundError("command");
      const found = await getCommandWithResponses(pool, req.commandId);
      if (!found || !canSeeCommand(principal, found.row.user_id)) throw new NotFoundError("command");
      return { command: commandFromRow(found.row), responses: found.responses.map(responseFromRow) };
    },

    async listCommands(req, ctx) {
      const principal = requirePrincipal(ctx);
      const size = pageSize(req.pageSize, { default: 50, max: 200 });
      let vehicleId: string | undefined;
      if (req.vehicleId !== "") {
        if (!isUuid(req.vehicleId)) throw new InvalidArgumentError("vehicle_id", "must be a UUID");
        vehicleId = req.vehicleId;
      }
      let status: StoredStatus | undefined;
      if (req.status !== CommandStatus.UNSPECIFIED) {
        status = statusFromProto(req.status);
        if (!status) throw new InvalidArgumentError("status", "is not a command status");
      }
      if (req.commandName !== "") {
        if (req.commandName.length > MAX_NAME) throw new InvalidArgumentError("command_name", `must be at most ${MAX_NAME} characters`);
        if (!isPlainText(req.commandName)) throw new InvalidArgumentError("command_name", "must not contain control characters");
      }
      const { rows, next } = await listCommandsPage(
        pool,
        {
          userId: principal.role === "engineer" ? principal.userId : undefined,
          vehicleId,
          status,
          commandName: req.commandName || undefined,
          submittedAfter: req.submittedAfter ? timestampDate(req.submittedAfter) : undefined,
          submittedBefore: req.submittedBefore ? timestampDate(req.submittedBefore) : undefined,
        },
        { size, after: decodePageToken(req.pageToken, "commands", ["n", "s"]) },
      );
      return { commands: rows.map(commandFromRow), nextPageToken: next ? encodePageToken("commands", next) : "" };
    },

    async *watchCommand(req, ctx: HandlerContext) {
      const principal = requirePrincipal(ctx);
      if (!isUuid(req.commandId)) throw new NotFoundError("command");
      const signal = AbortSignal.any([ctx.signal, deps.shutdownSignal]);
      let ended = false;
      const events = watchCommandEvents({ pool, events: deps.events, logger, active: metrics.watchStreamsActive }, req.commandId, {
        afterSequence: req.afterSequence,
        signal,
        canSee: (row) => canSeeCommand(principal, row.user_id),
        kind: "connect",
      });
      for await (const event of events) {
        if (event.event.case === "status" && isTerminalStatus(event.event.value.status)) ended = true;
        yield event;
      }
      if (!ended && deps.shutdownSignal.aborted) {
        throw new ShuttingDownError("gateway is shutting down; resume with after_sequence");
      }
    },

    async cancelCommand(req, ctx) {
      const principal = requirePrincipal(ctx);
      requireWriter(principal);
      const client = ctx.values.get(clientInfoKey);
      const row = await visibleCommand(pool, principal, req.commandId);
      if (isTerminal(row.status)) throw new FailedPreconditionError(`command already ${row.status}`);
      const cancelled = await deps.ender.end({
        commandId: row.command_id,
        status: "cancelled",
        errorMessage: ErrorMessages.cancelled,
        audit: {
          action: "command_cancelled",
          userId: principal.userId,
          ipAddress: client.ipAddress,
          userAgent: client.userAgent,
          details: { cancelled_by: principal.username },
        },
        requestId: client.requestId,
      }, logger);
      if (!cancelled) {
        const now = await getCommandRow(pool, row.command_id);
        throw new FailedPreconditionError(`command already ${now?.status ?? "finished"}`);
      }
      dispatcher.stop(row.command_id);
      bus.publish(
        cancelSubject(row.vehicle_id),
        toBinary(CancelDispatchSchema, create(CancelDispatchSchema, { commandId: row.command_id, vehicleId: row.vehicle_id })),
        { [REQUEST_ID_HEADER]: client.requestId },
      );
      logger.info({ requestId: client.requestId, commandId: row.command_id, correlationId: row.correlation_id }, "command cancelled");
      return { command: commandFromRow(cancelled) };
    },
  };
}

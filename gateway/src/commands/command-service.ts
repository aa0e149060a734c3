import { create, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  commandFromRow,
  getCommandRow,
  getCommandWithResponses,
  listCommandsPage,
  responseFromRow,
  type CommandEnder,
  type CommandRow,
} from "@sovd/domain";
import type { Bus, Pool } from "@sovd/platform";
import {
  CancelDispatchSchema,
  commandTypesOf,
  CommandStatus,
  ErrorMessages,
  REQUEST_ID_HEADER,
  cancelSubject,
  isTerminal,
  isTerminalStatus,
  statusFromProto,
  SubmitCommandRequestSchema,
  type CommandEvent,
  type CommandService,
  type StoredStatus,
} from "@sovd/proto";
import { canSeeCommand, requirePrincipal, type Principal } from "../auth/index.js";
import { FailedPreconditionError, InvalidArgumentError, isPlainText, isUuid, NotFoundError, ShuttingDownError } from "../rpc/index.js";
import { decodePageToken, encodePageToken, pageSize } from "../paging.js";
import { clientInfoKey } from "../request-context.js";
import { streamOriginKey, streamUrl } from "../stream-origin.js";
import type { CommandEventHub, HubItem } from "./event-hub.js";
import { createSubmit, MAX_COMMAND_NAME, requireWriter, type SubmitDeps } from "./submit.js";
import { watchCommandEvents } from "./watch.js";

/** Everything CommandService uses (submit's deps and what watch and cancel add); one typed door, no container. */
export interface CommandServiceDeps extends SubmitDeps {
  readonly bus: Bus;
  /** The gateway's one subscription to command events, fanned out to watchers. */
  readonly events: CommandEventHub;
  /** The one terminal path (cancel). */
  readonly ender: CommandEnder;
}

/** The stored command if it exists and `principal` may see it; NotFoundError otherwise (ids reveal nothing). */
async function visibleCommand(pool: Pool, principal: Principal, commandId: string): Promise<CommandRow> {
  if (!isUuid(commandId)) throw new NotFoundError("command");
  const row = await getCommandRow(pool, commandId);
  if (!row || !canSeeCommand(principal, row.user_id)) throw new NotFoundError("command");
  return row;
}

/**
 * CommandService (architecture §3 "Flows"): the catalog, submit (submit.ts: validate, store +
 * audit in one statement, answer at once, dispatch in the background), submit-and-watch in one
 * call, history, watch (replay then live) and cancel. Visibility per canSeeCommand; what a caller may not see is not_found.
 */
export function createCommandService(deps: CommandServiceDeps): ServiceImpl<typeof CommandService> {
  const { pool, bus, logger, metrics, dispatcher } = deps;

  const commandTypes = commandTypesOf(deps.timeouts);
  const submit = createSubmit(deps);
  const reply = (row: CommandRow, ctx: HandlerContext) => ({ command: commandFromRow(row), streamUrl: streamUrl(ctx.values.get(streamOriginKey), row.command_id) });

  /** Replay then live until terminal; a stream cut by shutdown ends `unavailable` so the client resumes elsewhere. */
  async function* watch(
    ctx: HandlerContext,
    principal: Principal,
    commandId: string,
    afterSequence: number,
    from: { live?: AsyncIterableIterator<HubItem>; initial?: CommandRow },
  ): AsyncGenerator<CommandEvent> {
    let ended = false;
    const events = watchCommandEvents({ pool, events: deps.events, logger, active: metrics.watchStreamsActive }, commandId, {
      afterSequence,
      // The adapter aborts every handler's signal at shutdown (connectNodeAdapter's shutdownSignal).
      signal: ctx.signal,
      canSee: (row) => canSeeCommand(principal, row.user_id),
      kind: "connect",
      ...from,
    });
    for await (const event of events) {
      if (event.event.case === "status" && isTerminalStatus(event.event.value.status)) ended = true;
      yield event;
    }
    if (!ended && deps.shutdownSignal.aborted) throw new ShuttingDownError("gateway is shutting down; resume with after_sequence");
  }

  return {
    listCommandTypes() {
      return { commandTypes };
    },

    async submitCommand(req, ctx) {
      const submitted = await submit(req, requirePrincipal(ctx), ctx.values.get(clientInfoKey));
      submitted.dispatch();
      return reply(submitted.row, ctx);
    },

    async *submitAndWatch(req, ctx: HandlerContext) {
      const principal = requirePrincipal(ctx);
      const submitted = await submit(req.submit ?? create(SubmitCommandRequestSchema), principal, ctx.values.get(clientInfoKey));
      const { row } = submitted;
      // Registered before the dispatch starts: no event of this command can be missed, and a
      // new command has nothing stored yet, so its row is the whole replay (no query).
      const live = deps.events.watch(row.command_id, ctx.signal);
      try {
        submitted.dispatch();
        yield { kind: { case: "submitted", value: reply(row, ctx) } };
        for await (const event of watch(ctx, principal, row.command_id, 0, { live, initial: submitted.created ? row : undefined })) {
          yield { kind: { case: "event", value: event } };
        }
      } finally {
        void live.return?.();
      }
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
        if (req.commandName.length > MAX_COMMAND_NAME) throw new InvalidArgumentError("command_name", `must be at most ${MAX_COMMAND_NAME} characters`);
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
      yield* watch(ctx, principal, req.commandId, req.afterSequence, {});
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

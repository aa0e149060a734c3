import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { REQUEST_ID_HEADER, type BusMessage } from "@sovd/platform";
import { CancelDispatchSchema, DISPATCH_REASON_DATABASE, DispatchReplySchema, DispatchRequestSchema, type DispatchRequest } from "@sovd/proto";
import type { FaultDecision } from "../faults.js";
import type { VehicleSession } from "../sessions/session.js";
import { commandFields, decideFaults, launch, sendCancel, type CommandDeps } from "./running.js";

/** The reply to a dispatch; undefined means "stay silent: another session of the vehicle answers". */
type Reply = { readonly accepted: boolean; readonly reason: string } | undefined;

/** A decided dispatch: the reply, and what to do once it is sent. */
interface Decision {
  readonly reply: Reply;
  readonly start?: () => void;
}

/**
 * The bus side of running a command on a vehicle this connector holds: decodes the
 * gateway's DispatchRequest, decides (shutdown, wrong vehicle, injected unreachable, the
 * guarded pending -> in_progress), replies, and only then starts it on the vehicle. A
 * retried dispatch of a command whose start is still being written waits for that start
 * and gives the same answer, so a slow database never looks like an unreachable vehicle.
 */
export interface DispatchHandler {
  onExecute(session: VehicleSession, message: BusMessage): Promise<void>;
  onCancel(session: VehicleSession, message: BusMessage): void;
}

const ACCEPTED: Reply = { accepted: true, reason: "" };
const reject = (reason: string): Reply => ({ accepted: false, reason });

/** The DispatchHandler of one command engine, on the deps its parts share. */
export function createDispatchHandler(deps: CommandDeps): DispatchHandler {
  /** Starts being written now, by command id: a retried dispatch joins the first. */
  const starting = new Map<string, Promise<Reply>>();

  const busError = (session: VehicleSession, err: unknown, what: string): void => {
    deps.metrics.busErrors.inc();
    session.logger.error({ err }, what);
  };

  const decide = async (session: VehicleSession, request: DispatchRequest, requestId: string | undefined): Promise<Decision> => {
    if (!deps.state.accepting) return { reply: reject("connector is shutting down") };
    if (request.vehicleId !== session.vehicleId) return { reply: reject("wrong vehicle") };
    const running = deps.inFlight.get(request.commandId);
    // A retried dispatch of a command this session already runs: the first reply was lost.
    if (running) return { reply: running.session === session ? ACCEPTED : undefined };
    const pending = starting.get(request.commandId);
    if (pending) return { reply: await pending };

    const fields = { commandId: request.commandId, requestId };
    const faults: FaultDecision = decideFaults(deps, request.commandId);
    if (faults.unreachable) {
      session.logger.warn(fields, "fault injected: dispatch rejected as unreachable");
      return { reply: reject("unreachable") };
    }
    let start: (() => void) | undefined;
    const decided = (async (): Promise<Reply> => {
      let outcome;
      try {
        outcome = await deps.starts.push({ commandId: request.commandId, vehicleId: session.vehicleId });
      } catch (err) {
        deps.metrics.databaseErrors.inc();
        session.logger.error({ err, ...fields }, "could not start command");
        return reject(DISPATCH_REASON_DATABASE);
      }
      if (!outcome.started) {
        const status = outcome.status;
        if (status === undefined) return reject("unknown command");
        // Running elsewhere, or taken by another session of this vehicle (being replaced) between
        // our read and our write: that session answers.
        if (status === "in_progress" || status === "pending" || status === "queued") return undefined;
        return reject(`command is ${status}`);
      }
      const row = outcome.row;
      const id = requestId || row.correlation_id || null;
      start = () => launch(deps, session, row, faults, id);
      return ACCEPTED;
    })();
    starting.set(request.commandId, decided);
    try {
      return { reply: await decided, start };
    } finally {
      starting.delete(request.commandId);
    }
  };

  return {
    async onExecute(session, message) {
      let request: DispatchRequest;
      try {
        request = fromBinary(DispatchRequestSchema, message.data);
      } catch (err) {
        busError(session, err, "undecodable dispatch request");
        message.respond(toBinary(DispatchReplySchema, create(DispatchReplySchema, { accepted: false, reason: "undecodable request" })));
        return;
      }
      if (!session.isOpen) return;
      const requestId = request.correlationId || message.headers[REQUEST_ID_HEADER] || undefined;
      const decision = await decide(session, request, requestId).catch((err: unknown): Decision => {
        deps.metrics.databaseErrors.inc();
        session.logger.error({ err, ...commandFields({ commandId: request.commandId, requestId: requestId ?? null }) }, "dispatch failed");
        return { reply: reject("internal error") };
      });
      if (decision.reply) {
        message.respond(
          toBinary(DispatchReplySchema, create(DispatchReplySchema, decision.reply)),
          requestId ? { [REQUEST_ID_HEADER]: requestId } : {},
        );
      }
      decision.start?.();
    },

    onCancel(session, message) {
      let commandId: string;
      try {
        commandId = fromBinary(CancelDispatchSchema, message.data).commandId;
      } catch (err) {
        busError(session, err, "undecodable cancel");
        return;
      }
      const entry = deps.inFlight.get(commandId);
      if (entry) {
        deps.inFlight.end(entry);
        entry.session.logger.info(commandFields(entry), "command cancelled; vehicle told to stop");
        sendCancel(entry.session, commandId);
      } else {
        sendCancel(session, commandId);
      }
    },
  };
}

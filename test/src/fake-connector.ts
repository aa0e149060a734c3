import { create, fromBinary, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { type Bus, type BusSubscription, type Pool } from "@sovd/platform";
import {
  appendChunks,
  finishCommand,
  getCommandRow,
  publishCommandEvent,
  publishTerminalEvents,
  responseEventFromRow,
  startCommands,
  statusEventFromRow,
  type CommandRow,
  type ResponseRow,
} from "@sovd/domain";
import { DispatchReplySchema, DispatchRequestSchema, ErrorMessages, executeSubject, type DispatchRequest } from "@sovd/proto";

/** How the fake connector answers a vehicle's dispatches. */
export type DispatchAnswer = "accept" | "reject" | "silent";

/** What the fake connector saw of one vehicle's dispatches. */
export interface ServedVehicle {
  readonly dispatches: DispatchRequest[];
  /** Headers of each dispatch, in order. */
  readonly headers: Record<string, string>[];
  stop(): void;
}

/** How a command ends. */
export type Outcome = { status: "completed" } | { status: "failed"; message: string; phase: "delivery" | "response" };

/**
 * The connector's side of a command, done by hand, for gateway tests that decide what the
 * connector says and when. It writes through the real command store (the same guarded
 * statements as the connector), so gateway tests cannot pass against transitions the
 * connector would refuse. Unlike the connector it publishes a completion only when the test
 * says `finish`, so a test can order the last events itself.
 */
export interface FakeConnector {
  /** Answers the dispatches of one vehicle as the connector holding it would: accepted (and started), rejected ("draining"), or never. */
  serve(vehicleId: string, answer?: DispatchAnswer): Promise<ServedVehicle>;
  /** Marks an open command in_progress and publishes the status, as a connector that took it does; undefined when it was not open. */
  start(commandId: string): Promise<CommandRow | undefined>;
  /** Stores a chunk as the connector does (a final one completes the row), and publishes its event unless `publish` is false; throws if the store refused it. */
  chunk(commandId: string, sequence: number, payload: JsonObject, opts?: { isFinal?: boolean; publish?: boolean }): Promise<ResponseRow>;
  /** Ends a command as the connector does (row and audit row, then the events); a command its final chunk completed only gets its events; throws when it had otherwise ended. */
  finish(commandId: string, outcome: Outcome): Promise<CommandRow>;
  /** Stops answering every vehicle. */
  close(): void;
}

/** A fake connector writing to `pool` and publishing on `bus`, the gateway's database and bus. */
export function createFakeConnector(deps: { pool: Pool; bus: Bus }): FakeConnector {
  const { pool, bus } = deps;
  const subs: BusSubscription[] = [];
  /** The row of a command its final chunk completed (the store does that in the chunk's statement). */
  const completedByItsFinalChunk = async (commandId: string): Promise<CommandRow | undefined> => {
    const row = await getCommandRow(pool, commandId);
    return row?.status === "completed" ? row : undefined;
  };
  const fake: FakeConnector = {
    async serve(vehicleId, answer = "accept") {
      const sub = await bus.subscribe(executeSubject(vehicleId));
      subs.push(sub);
      const dispatches: DispatchRequest[] = [];
      const headers: Record<string, string>[] = [];
      void (async () => {
        for await (const m of sub) {
          const req = fromBinary(DispatchRequestSchema, m.data);
          dispatches.push(req);
          headers.push({ ...m.headers });
          if (answer === "silent") continue;
          if (answer === "accept") await fake.start(req.commandId);
          m.respond(toBinary(DispatchReplySchema, create(DispatchReplySchema, { accepted: answer === "accept", reason: answer === "reject" ? "draining" : "" })));
        }
      })();
      await bus.flush();
      return { dispatches, headers, stop: () => sub.unsubscribe() };
    },
    async start(commandId) {
      const open = await getCommandRow(pool, commandId);
      if (!open) return undefined;
      const [outcome] = await startCommands(pool, [{ commandId, vehicleId: open.vehicle_id }]);
      if (!outcome?.started) return undefined;
      publishCommandEvent(bus, statusEventFromRow(outcome.row), outcome.row.correlation_id);
      return outcome.row;
    },
    async chunk(commandId, sequence, payload, opts = {}) {
      const [outcome] = await appendChunks(pool, [
        { commandId, chunks: [{ commandId, sequenceNumber: sequence, isFinal: opts.isFinal ?? false, payload, receivedAt: new Date() }] },
      ]);
      if (!outcome?.stored) throw new Error(`chunk ${sequence} of ${commandId} not stored: ${outcome?.stored === false ? outcome.reason : "no answer"}`);
      const response = outcome.responses[0]!;
      if (opts.publish !== false) publishCommandEvent(bus, responseEventFromRow(response));
      return response;
    },
    async finish(commandId, outcome) {
      const row =
        outcome.status === "completed"
          ? ((await finishCommand(pool, { commandId, status: "completed", audit: { action: "command_completed" } })) ?? (await completedByItsFinalChunk(commandId)))
          : await finishCommand(pool, {
              commandId,
              status: "failed",
              errorMessage: outcome.message,
              failurePhase: outcome.phase,
              audit: { action: outcome.message === ErrorMessages.timeout ? "command_timeout" : "command_failed" },
            });
      if (!row) throw new Error(`command ${commandId} was already terminal`);
      publishTerminalEvents(bus, row);
      return row;
    },
    close() {
      for (const s of subs.splice(0)) s.unsubscribe();
    },
  };
  return fake;
}

import { create, fromBinary, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { type Bus, type BusSubscription, type Pool } from "@sovd/platform";
import { finishCommand, publishCommandEvent, publishTerminalEvents, responseFromRow, statusEventFromRow, type CommandRow, type ResponseRow } from "@sovd/domain";
import { CommandEventSchema, DispatchReplySchema, DispatchRequestSchema, ErrorMessages, executeSubject, type DispatchRequest } from "@sovd/proto";

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
 * connector says and when. Every row it writes is written here and nowhere else in the tests,
 * so moving to another command store changes this one file.
 */
export interface FakeConnector {
  /** Answers the dispatches of one vehicle as the connector holding it would: accepted (and started), rejected ("draining"), or never. */
  serve(vehicleId: string, answer?: DispatchAnswer): Promise<ServedVehicle>;
  /** Marks an open command in_progress and publishes the status, as a connector that took it does; undefined when it was not open. */
  start(commandId: string): Promise<CommandRow | undefined>;
  /** Stores a chunk as the connector does, and publishes its event unless `publish` is false. */
  chunk(commandId: string, sequence: number, payload: JsonObject, opts?: { isFinal?: boolean; publish?: boolean }): Promise<ResponseRow>;
  /** Ends a command as the connector does (row and audit row, then the events); throws when it had already ended. */
  finish(commandId: string, outcome: Outcome): Promise<CommandRow>;
  /** Stops answering every vehicle. */
  close(): void;
}

/** A fake connector writing to `pool` and publishing on `bus`, the gateway's database and bus. */
export function createFakeConnector(deps: { pool: Pool; bus: Bus }): FakeConnector {
  const { pool, bus } = deps;
  const subs: BusSubscription[] = [];
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
      const { rows } = await pool.query<CommandRow>(
        "UPDATE commands SET status = 'in_progress', started_at = now() WHERE command_id = $1 AND status IN ('pending', 'queued') RETURNING *",
        [commandId],
      );
      if (rows[0]) publishCommandEvent(bus, statusEventFromRow(rows[0]), rows[0].correlation_id);
      return rows[0];
    },
    async chunk(commandId, sequence, payload, opts = {}) {
      const { rows } = await pool.query<ResponseRow>(
        `INSERT INTO responses (command_id, response_payload, sequence_number, is_final) VALUES ($1, $2, $3, $4)
         RETURNING response_id, command_id, response_payload, sequence_number, is_final, received_at`,
        [commandId, JSON.stringify(payload), sequence, opts.isFinal ?? false],
      );
      await pool.query("UPDATE commands SET last_sequence = $2 WHERE command_id = $1", [commandId, sequence]);
      const row = rows[0]!;
      if (opts.publish !== false) {
        publishCommandEvent(bus, create(CommandEventSchema, { commandId, event: { case: "response", value: responseFromRow(row) } }));
      }
      return row;
    },
    async finish(commandId, outcome) {
      const row =
        outcome.status === "completed"
          ? await finishCommand(pool, { commandId, status: "completed", audit: { action: "command_completed" } })
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

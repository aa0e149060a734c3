import { toBinary } from "@bufbuild/protobuf";
import { createLogger, createMemoryBus, type Pool } from "@sovd/platform";
import { CommandEventSchema, CommandStatus, commandEventsSubject, type CommandEvent } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { createCommandEventHub } from "../commands/event-hub.js";
import { resumingWatch } from "./resuming-watch.js";
import { ID, label, response, status } from "../commands/test-events.js";


/** The two queries a watch makes, on stored responses that a test adds to; `down` makes them fail as a lost connection does. */
function flakyDb(stored: number[]) {
  const state = { down: false, failures: 0 };
  const rowsAfter = (after: number) =>
    stored.filter((s) => s > after).map((s) => ({ response_id: `r${s}`, command_id: ID, response_payload: { n: s }, sequence_number: s, is_final: false, received_at: new Date() }));
  const pool = {
    query: async (statement: string | { text: string }, values: unknown[]) => {
      if (state.down) {
        state.failures++;
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
      }
      const sql = typeof statement === "string" ? statement : statement.text;
      const after = values[1] as number;
      if (!sql.includes("FROM commands")) return { rows: rowsAfter(after), rowCount: 1 };
      const row = {
        command_id: ID, vehicle_id: "v", user_id: "u1", command_name: "ReadDTC", command_params: {}, status: "in_progress",
        error_message: null, failure_phase: null, timeout_ms: 30_000, idempotency_key: null, correlation_id: null, last_sequence: 0,
        submitted_at: new Date(), started_at: new Date(), completed_at: null, deadline_at: new Date(),
        responses: rowsAfter(after).map((r) => ({ ...r, received_at: r.received_at.toISOString() })),
      };
      return { rows: [row], rowCount: 1 };
    },
  };
  return { pool: pool as unknown as Pool, state };
}

describe("resumingWatch (the WebSocket bridge's watch)", () => {
  const logger = createLogger({ service: "test", level: "silent" });

  it("resumes after a database outage from the last delivered response: no gap, no duplicate, ends at the terminal status", async () => {
    const bus = createMemoryBus();
    const events = await createCommandEventHub({ bus, logger });
    const stored = [1];
    const { pool, state } = flakyDb(stored);
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of resumingWatch({ pool, events, logger }, ID, { canSee: () => true, kind: "test" }, 10)) seen.push(label(e));
    })();
    await expect.poll(() => seen).toEqual(["r1", "IN_PROGRESS"]);
    const publish = (e: CommandEvent) => bus.publish(commandEventsSubject(ID), toBinary(CommandEventSchema, e));
    // r2 was missed live; reading it back fails while the database is away.
    state.down = true;
    stored.push(2, 3);
    publish(response(3));
    await expect.poll(() => state.failures).toBeGreaterThan(1);
    state.down = false;
    await expect.poll(() => seen).toEqual(["r1", "IN_PROGRESS", "r2", "r3"]);
    publish(response(3));
    publish(status(CommandStatus.COMPLETED, 3));
    await done;
    expect(seen).toEqual(["r1", "IN_PROGRESS", "r2", "r3", "COMPLETED"]);
    expect(events.watcherCount()).toBe(0);
    await bus.close();
  });

  it("does not retry what is no outage", async () => {
    const bus = createMemoryBus();
    const events = await createCommandEventHub({ bus, logger });
    const pool = { query: async () => Promise.reject(new TypeError("a bug")) } as unknown as Pool;
    const stream = resumingWatch({ pool, events, logger }, ID, { canSee: () => true, kind: "test" }, 10);
    await expect(stream.next()).rejects.toBeInstanceOf(TypeError);
    await bus.close();
  });
});

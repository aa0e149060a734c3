import { create, toBinary } from "@bufbuild/protobuf";
import { createLogger, createMemoryBus, type Pool } from "@sovd/platform";
import { type CommandRow, type ResponseRow } from "@sovd/domain";
import { CommandEventSchema, CommandStatus, commandEventsSubject, type CommandEvent } from "@sovd/proto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { NotFoundError } from "../rpc/index.js";
import { createCommandEventHub, type CommandEventHub } from "./event-hub.js";
import { EventDeduper, PAST_DEADLINE_RECHECK_MS, watchCommandEvents } from "./watch.js";
import { ID, label, response, status } from "./test-events.js";


/** A stand-in for the pool: the command row (with its responses) and the responses alone, the two queries watch makes. */
function fakeDb(row: Partial<CommandRow> | undefined, responses: number[]) {
  const state = { row, responses, queries: 0 };
  const pool = {
    query: async (statement: string | { text: string }, values: unknown[]) => {
      const sql = typeof statement === "string" ? statement : statement.text;
      state.queries++;
      if (sql.includes("FROM commands")) {
        if (!state.row) return { rows: [], rowCount: 0 };
        const full: CommandRow = {
          command_id: ID,
          vehicle_id: "v",
          user_id: "u1",
          command_name: "ReadDTC",
          command_params: {},
          status: "in_progress",
          error_message: null,
          failure_phase: null,
          timeout_ms: 30_000,
          idempotency_key: null,
          correlation_id: null,
          last_sequence: 0,
          submitted_at: new Date(),
          started_at: new Date(),
          completed_at: null,
          deadline_at: new Date(Date.now() + 60_000),
          ...state.row,
        };
        const after = values[1] as number;
        const responses = state.responses
          .filter((s) => s > after)
          .map((s) => ({ response_id: `r${s}`, response_payload: { n: s }, sequence_number: s, is_final: false, received_at: new Date().toISOString() }));
        return { rows: [{ ...full, responses }], rowCount: 1 };
      }
      const after = values[1] as number;
      const rows: ResponseRow[] = state.responses
        .filter((s) => s > after)
        .map((s) => ({ response_id: `r${s}`, command_id: ID, response_payload: { n: s }, sequence_number: s, is_final: false, received_at: new Date() }));
      return { rows, rowCount: rows.length };
    },
  };
  return { pool: pool as unknown as Pool, state };
}

describe("EventDeduper", () => {
  it("delivers responses in order, drops repeats, flags a gap", () => {
    const d = new EventDeduper(2);
    expect(d.classify(response(2))).toBe("drop");
    expect(d.classify(response(3))).toBe("deliver");
    d.delivered(response(3));
    expect(d.classify(response(3))).toBe("drop");
    expect(d.classify(response(5))).toBe("gap");
  });

  it("drops a repeated or stale status and a second error, and everything after the terminal status", () => {
    const d = new EventDeduper(0);
    d.delivered(status(CommandStatus.IN_PROGRESS));
    expect(d.classify(status(CommandStatus.IN_PROGRESS))).toBe("drop");
    expect(d.classify(status(CommandStatus.PENDING))).toBe("drop");
    const error = create(CommandEventSchema, { commandId: ID, event: { case: "error", value: { errorMessage: "x" } } });
    expect(d.classify(error)).toBe("deliver");
    d.delivered(error);
    expect(d.classify(error)).toBe("drop");
    expect(d.classify(status(CommandStatus.FAILED))).toBe("deliver");
    d.delivered(status(CommandStatus.FAILED));
    expect(d.terminal).toBe(true);
    expect(d.classify(response(1))).toBe("drop");
  });
});

describe("watchCommandEvents", () => {
  const logger = createLogger({ service: "test", level: "silent" });
  const hub = async (): Promise<{ bus: ReturnType<typeof createMemoryBus>; events: CommandEventHub }> => {
    const bus = createMemoryBus();
    return { bus, events: await createCommandEventHub({ bus, logger }) };
  };

  it("replays, then streams live events without duplicates, reading a gap back from the database, ending at the terminal status", async () => {
    const { bus, events } = await hub();
    const { pool, state } = fakeDb({ status: "in_progress" }, [1, 2]);
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of watchCommandEvents({ pool, events, logger }, ID, { canSee: () => true, kind: "test" })) seen.push(label(e));
    })();
    await expect.poll(() => seen.length).toBe(3); // r1 r2 IN_PROGRESS
    const publish = (e: CommandEvent) => bus.publish(commandEventsSubject(ID), toBinary(CommandEventSchema, e));
    publish(response(2)); // duplicate of a replayed chunk
    publish(status(CommandStatus.IN_PROGRESS)); // duplicate status
    state.responses.push(3, 4);
    publish(response(4)); // 3 was missed live: read back from the database
    state.responses.push(5);
    publish(status(CommandStatus.COMPLETED, 5)); // 5 stored but not seen live: read before the end
    publish(response(6)); // after the end: never delivered
    await done;
    expect(seen).toEqual(["r1", "r2", "IN_PROGRESS", "r3", "r4", "r5", "COMPLETED"]);
    expect(events.watcherCount()).toBe(0);
    await bus.close();
  });

  it("reads nothing more at the end when every stored chunk was seen live", async () => {
    const { bus, events } = await hub();
    const { pool, state } = fakeDb({ status: "in_progress" }, []);
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of watchCommandEvents({ pool, events, logger }, ID, { canSee: () => true, kind: "test" })) seen.push(label(e));
    })();
    await expect.poll(() => seen.length).toBe(1); // IN_PROGRESS
    const publish = (e: CommandEvent) => bus.publish(commandEventsSubject(ID), toBinary(CommandEventSchema, e));
    publish(response(1));
    publish(response(2));
    publish(status(CommandStatus.COMPLETED, 2));
    await done;
    expect(seen).toEqual(["IN_PROGRESS", "r1", "r2", "COMPLETED"]);
    expect(state.queries).toBe(1); // the replay only
    await bus.close();
  });

  it("replays a finished command (error first when failed) and ends without waiting", async () => {
    const { bus, events } = await hub();
    const { pool } = fakeDb({ status: "failed", error_message: "Vehicle unreachable", completed_at: new Date() }, []);
    const seen: CommandEvent[] = [];
    for await (const e of watchCommandEvents({ pool, events, logger }, ID, { canSee: () => true, kind: "test" })) seen.push(e);
    expect(seen.map(label)).toEqual(["error", "FAILED"]);
    expect(seen[0]?.event.value).toMatchObject({ errorMessage: "Vehicle unreachable" });
    expect(events.watcherCount()).toBe(0);
    await bus.close();
  });

  it("answers NotFoundError for a missing or invisible command, releasing the subscription", async () => {
    const { bus, events } = await hub();
    for (const [row, canSee] of [
      [undefined, true],
      [{ status: "pending" as const }, false],
    ] as const) {
      const { pool } = fakeDb(row, []);
      const stream = watchCommandEvents({ pool, events, logger }, ID, { canSee: () => canSee, kind: "test" });
      await expect(stream.next()).rejects.toBeInstanceOf(NotFoundError);
      expect(events.watcherCount()).toBe(0);
    }
    await bus.close();
  });

  it("ends when its signal aborts and releases the subscription", async () => {
    const { bus, events } = await hub();
    const { pool } = fakeDb({ status: "in_progress" }, []);
    const abort = new AbortController();
    const stream = watchCommandEvents({ pool, events, logger }, ID, { canSee: () => true, kind: "test", signal: abort.signal });
    expect(label((await stream.next()).value as CommandEvent)).toBe("IN_PROGRESS");
    expect(events.watcherCount()).toBe(1);
    const next = stream.next();
    abort.abort();
    expect((await next).done).toBe(true);
    expect(events.watcherCount()).toBe(0);
    await bus.close();
  });

  describe("past the deadline", () => {
    afterEach(() => vi.useRealTimers());

    it("reads the database when the end was stored but never published, and ends", async () => {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
      const { bus, events } = await hub();
      const { pool, state } = fakeDb({ status: "in_progress", deadline_at: new Date(Date.now() + 1000) }, [1]);
      const seen: string[] = [];
      const done = (async () => {
        for await (const e of watchCommandEvents({ pool, events, logger }, ID, { canSee: () => true, kind: "test" })) seen.push(label(e));
      })();
      await vi.advanceTimersByTimeAsync(10);
      expect(seen).toEqual(["r1", "IN_PROGRESS"]);
      // The connector stored the last chunk and the end, then died before publishing them.
      state.responses.push(2);
      state.row = { status: "completed", last_sequence: 2, completed_at: new Date() };
      await vi.advanceTimersByTimeAsync(1000 + PAST_DEADLINE_RECHECK_MS - 100);
      expect(seen).toEqual(["r1", "IN_PROGRESS"]);
      await vi.advanceTimersByTimeAsync(200);
      await done;
      expect(seen).toEqual(["r1", "IN_PROGRESS", "r2", "COMPLETED"]);
      expect(events.watcherCount()).toBe(0);
      await bus.close();
    });

    it("reads again every few seconds while a command past its deadline is still open", async () => {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
      const { bus, events } = await hub();
      const { pool, state } = fakeDb({ status: "in_progress", deadline_at: new Date(Date.now() - 5000) }, []);
      const abort = new AbortController();
      const done = (async () => {
        for await (const e of watchCommandEvents({ pool, events, logger }, ID, { canSee: () => true, kind: "test", signal: abort.signal })) void e;
      })();
      await vi.advanceTimersByTimeAsync(10);
      expect(state.queries).toBe(1);
      await vi.advanceTimersByTimeAsync(3 * PAST_DEADLINE_RECHECK_MS);
      expect(state.queries).toBe(4);
      abort.abort();
      await done;
      await bus.close();
    });
  });
});

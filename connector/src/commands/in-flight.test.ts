import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeSession } from "../../test/fakes.js";
import { InFlightTable, type InFlight } from "./in-flight.js";

const NO_FAULTS = { timeout: false, unreachable: false, malformed: false };
const session = fakeSession("5d0e0000-0000-4000-8000-000000000001");

describe("InFlightTable", () => {
  let stepErrors: unknown[];
  let table: InFlightTable;
  /** What happened, in order: steps push their names, deadlines push `deadline <id>`. */
  let log: string[];

  const add = (commandId: string, inMs: number): InFlight =>
    table.add(
      { commandId, commandName: "ReadDTC", session, faults: NO_FAULTS, requestId: null, timeoutMs: inMs },
      new Date(Date.now() + inMs),
      async (entry) => {
        log.push(`deadline ${entry.commandId}`);
      },
    );

  beforeEach(() => {
    vi.useFakeTimers();
    stepErrors = [];
    log = [];
    table = new InFlightTable((err) => stepErrors.push(err));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires a deadline on the command's chain, after the step already running", async () => {
    const entry = add("c1", 1000);
    let releaseStep!: () => void;
    void table.run(entry, async () => {
      await new Promise<void>((resolve) => (releaseStep = resolve));
      log.push("step");
    });

    await vi.advanceTimersByTimeAsync(1000);
    expect(log).toEqual([]);

    releaseStep();
    await table.settle();
    expect(log).toEqual(["step", "deadline c1"]);
  });

  it("skips the deadline of a command that ended before it fired", async () => {
    const entry = add("c1", 1000);
    table.end(entry);
    await vi.advanceTimersByTimeAsync(5000);
    expect(log).toEqual([]);
  });

  it("skips the deadline when a step queued before it ends the command", async () => {
    const entry = add("c1", 1000);
    let releaseStep!: () => void;
    void table.run(entry, async () => {
      await new Promise<void>((resolve) => (releaseStep = resolve));
      table.end(entry);
    });
    await vi.advanceTimersByTimeAsync(1000);
    releaseStep();
    await table.settle();
    expect(log).toEqual([]);
  });

  it("ends a command once however often it is ended, and remembers it for late chunks", async () => {
    const a = add("a", 1000);
    add("b", 1000);

    table.end(a);
    table.end(a);
    expect(table.size).toBe(1);
    expect(table.get("a")).toBeUndefined();
    expect(table.endedRecently("a")).toBe(true);
    expect(table.endedRecently("b")).toBe(false);

    await vi.advanceTimersByTimeAsync(1000);
    expect(log).toEqual(["deadline b"]);
  });

  it("finds a command only on the session that runs it", () => {
    add("c1", 1000);
    expect(table.ofSession(session, "c1")?.commandId).toBe("c1");
    expect(table.ofSession(fakeSession(session.vehicleId), "c1")).toBeUndefined();
  });

  it("whenIdle: true at once when empty, true when the last command ends, false after the timeout", async () => {
    await expect(table.whenIdle(100)).resolves.toBe(true);

    const a = add("a", 60_000);
    const b = add("b", 60_000);
    const endsIdle = table.whenIdle(10_000);
    table.end(a);
    table.end(b);
    await expect(endsIdle).resolves.toBe(true);

    add("c", 60_000);
    const timesOut = table.whenIdle(500);
    await vi.advanceTimersByTimeAsync(500);
    await expect(timesOut).resolves.toBe(false);
  });

  it("settle waits for every step, including steps queued while it waits; a failed step is reported, not thrown", async () => {
    const entry = add("c1", 60_000);
    void table.run(entry, async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      log.push("first");
      void table.run(entry, async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        log.push("queued while settling");
      });
    });
    void table.run(entry, () => Promise.reject(new Error("step failed")));

    const settled = table.settle();
    await vi.advanceTimersByTimeAsync(300);
    await settled;
    expect(log).toEqual(["first", "queued while settling"]);
    expect(stepErrors).toEqual([new Error("step failed")]);
  });

  it("abandon forgets every command without firing its deadline", async () => {
    add("a", 1000);
    add("b", 1000);
    table.abandon();
    expect(table.size).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(log).toEqual([]);
  });
});

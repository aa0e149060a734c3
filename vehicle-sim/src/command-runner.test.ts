import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ExecuteSchema, parseChunkPayload, type Execute, type VehicleMessage } from "@sovd/proto";
import { captureLogs, fleetIdentity, seededRandom } from "@sovd/platform";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CommandRunner, GARBAGE_PAYLOAD } from "./command-runner.js";
import { VehicleState } from "./vehicle-state.js";

interface Sent {
  at: number;
  kind: string;
  commandId?: string;
  sequenceNumber?: number;
  isFinal?: boolean;
  payload?: Uint8Array;
  message?: string;
}

function setup(opts: { chunkIntervalMs?: number; delay?: { min: number; max: number } } = {}) {
  const sent: Sent[] = [];
  const logs = captureLogs({ service: "vehicle-sim" });
  const drops: string[] = [];
  const start = Date.now();
  const runner = new CommandRunner({
    state: new VehicleState(fleetIdentity(3), seededRandom(1)),
    chunkIntervalMs: opts.chunkIntervalMs ?? 500,
    networkDelayMs: opts.delay ?? { min: 0, max: 0 },
    random: seededRandom(2),
    logger: logs.logger,
    send: (m: VehicleMessage) => {
      const at = Date.now() - start;
      if (m.kind.case === "chunk") {
        const { commandId, sequenceNumber, isFinal, payload } = m.kind.value;
        sent.push({ at, kind: "chunk", commandId, sequenceNumber, isFinal, payload });
      } else if (m.kind.case === "failure") {
        const { commandId, message } = m.kind.value;
        sent.push({ at, kind: "failure", commandId, message });
      }
      else sent.push({ at, kind: m.kind.case ?? "none" });
    },
    dropLink: (reason) => drops.push(reason),
  });
  const chunksOf = (commandId: string): Sent[] => sent.filter((s) => s.kind === "chunk" && s.commandId === commandId);
  const payloadsOf = (name: string, commandId: string): JsonObject[] =>
    chunksOf(commandId).map((c) => parseChunkPayload(name, c.payload!, c.isFinal!));
  return { runner, sent, drops, logLines: logs.lines, chunksOf, payloadsOf };
}

const execute = (commandId: string, commandName: string, params: JsonObject = {}, extra: Partial<Execute> = {}): Execute =>
  create(ExecuteSchema, { commandId, commandName, params, correlationId: `req-${commandId}`, ...extra });

describe("CommandRunner", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2026-01-01T00:00:00Z") });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("waits the network delay, then spaces ReadDTC's chunks chunkIntervalMs apart", async () => {
    const { runner, chunksOf, payloadsOf } = setup({ chunkIntervalMs: 500, delay: { min: 700, max: 700 } });
    runner.execute(execute("c1", "ReadDTC", { ecuAddress: "0x10", format: "UDS" }));
    await vi.advanceTimersByTimeAsync(699);
    expect(chunksOf("c1")).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(chunksOf("c1").map((c) => c.at)).toEqual([700]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(chunksOf("c1").map((c) => [c.at, c.sequenceNumber, c.isFinal])).toEqual([
      [700, 1, false],
      [1200, 2, false],
      [1700, 3, true],
    ]);
    expect(payloadsOf("ReadDTC", "c1").map((p) => p.dtcCode ?? p.totalDtcs)).toEqual(["P0420", "P0171", 2]);
    expect(runner.inFlight).toBe(0);
  });

  it("draws the network delay from the configured range", async () => {
    const { runner, chunksOf } = setup({ delay: { min: 500, max: 1500 } });
    for (let i = 0; i < 20; i++) runner.execute(execute(`c${i}`, "ClearDTC"));
    await vi.advanceTimersByTimeAsync(2000);
    const firsts = Array.from({ length: 20 }, (_, i) => chunksOf(`c${i}`)[0]?.at);
    for (const at of firsts) {
      expect(at).toBeGreaterThanOrEqual(500);
      expect(at).toBeLessThanOrEqual(1500);
    }
    expect(new Set(firsts).size).toBeGreaterThan(1);
  });

  it("answers ReadDataByID samples:5 with 5 samples then the final chunk, and ClearDTC then ReadDTC with only the final count", async () => {
    const { runner, payloadsOf, chunksOf } = setup({ chunkIntervalMs: 100 });
    runner.execute(execute("d1", "ReadDataByID", { dataId: "0xF40C", samples: 5 }));
    await vi.advanceTimersByTimeAsync(1000);
    const data = payloadsOf("ReadDataByID", "d1");
    expect(data).toHaveLength(6);
    expect(data.slice(0, 5).every((p) => p.name === "Engine speed" && p.unit === "rpm")).toBe(true);
    expect(data[5]).toEqual({ status: "complete", samples: 5 });
    expect(chunksOf("d1").map((c) => c.sequenceNumber)).toEqual([1, 2, 3, 4, 5, 6]);

    runner.execute(execute("clear", "ClearDTC", { ecuAddress: "0x10" }));
    await vi.advanceTimersByTimeAsync(10);
    runner.execute(execute("read", "ReadDTC"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(payloadsOf("ClearDTC", "clear")).toEqual([{ status: "cleared", clearedCount: 2 }]);
    expect(chunksOf("read").map((c) => [c.sequenceNumber, c.isFinal])).toEqual([[1, true]]);
    expect(payloadsOf("ReadDTC", "read")).toEqual([{ status: "complete", totalDtcs: 0 }]);
  });

  it("runs several commands at once, each with its own sequence", async () => {
    const { runner, chunksOf } = setup({ chunkIntervalMs: 100 });
    runner.execute(execute("a", "ReadDataByID", { dataId: "0xF40D", samples: 3 }));
    runner.execute(execute("b", "ReadDTC"));
    expect(runner.inFlight).toBe(2);
    await vi.advanceTimersByTimeAsync(150);
    expect(chunksOf("a").map((c) => c.sequenceNumber)).toEqual([1, 2]);
    expect(chunksOf("b").map((c) => c.sequenceNumber)).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(chunksOf("a").map((c) => c.sequenceNumber)).toEqual([1, 2, 3, 4]);
    expect(chunksOf("b").map((c) => c.sequenceNumber)).toEqual([1, 2, 3]);
  });

  it("ignores a repeated Execute for a command it is running or already ran", async () => {
    const { runner, chunksOf, logLines } = setup({ chunkIntervalMs: 100 });
    runner.execute(execute("x", "ReadDTC"));
    await vi.advanceTimersByTimeAsync(50);
    runner.execute(execute("x", "ReadDTC"));
    await vi.advanceTimersByTimeAsync(1000);
    runner.execute(execute("x", "ReadDTC"));
    runner.execute(execute("cl", "ClearDTC"));
    await vi.advanceTimersByTimeAsync(1000);
    runner.execute(execute("cl", "ClearDTC"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(chunksOf("x").map((c) => c.sequenceNumber)).toEqual([1, 2, 3]);
    expect(chunksOf("cl")).toHaveLength(1);
    expect(logLines.filter((l) => l.msg === "repeated Execute ignored").map((l) => l.commandId)).toEqual(["x", "x", "cl"]);
  });

  it("stops a command's chunks on Cancel and leaves the others running", async () => {
    const { runner, chunksOf } = setup({ chunkIntervalMs: 100 });
    runner.execute(execute("long", "ReadDataByID", { dataId: "0xF405", samples: 10 }));
    runner.execute(execute("other", "ReadDataByID", { dataId: "0xF405", samples: 3 }));
    await vi.advanceTimersByTimeAsync(250);
    runner.cancel("long");
    await vi.advanceTimersByTimeAsync(2000);
    expect(chunksOf("long").map((c) => c.sequenceNumber)).toEqual([1, 2, 3]);
    expect(chunksOf("other").map((c) => c.sequenceNumber)).toEqual([1, 2, 3, 4]);
    expect(runner.inFlight).toBe(0);
  });

  it("cancelled during the network delay sends nothing and changes nothing", async () => {
    const { runner, sent } = setup({ delay: { min: 300, max: 300 } });
    runner.execute(execute("cl", "ClearDTC"));
    await vi.advanceTimersByTimeAsync(100);
    runner.cancel("cl");
    await vi.advanceTimersByTimeAsync(1000);
    runner.execute(execute("rd", "ReadDTC"));
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent.filter((s) => s.commandId === "cl")).toEqual([]);
    expect(sent.filter((s) => s.commandId === "rd")).toHaveLength(3);
  });

  it("answers an unknown command or bad params with a Failure naming the problem", async () => {
    const { runner, sent } = setup();
    runner.execute(execute("u", "FlashECU"));
    runner.execute(execute("p", "ReadDataByID", { dataId: "0xF40D", samples: 50 }));
    await vi.advanceTimersByTimeAsync(10);
    expect(sent).toEqual([
      { at: 0, kind: "failure", commandId: "u", message: "Unknown command FlashECU" },
      { at: 0, kind: "failure", commandId: "p", message: expect.stringContaining("params.samples") as unknown },
    ]);
  });

  it("logs every Execute with its correlation id as requestId", () => {
    const { runner, logLines } = setup();
    runner.execute(execute("r1", "ReadDTC"));
    expect(logLines).toContainEqual(expect.objectContaining({ msg: "Execute received", requestId: "req-r1", commandId: "r1", commandName: "ReadDTC" }));
  });

  it("stopAll ends every command but still ignores their ids afterwards", async () => {
    const { runner, chunksOf } = setup({ chunkIntervalMs: 100 });
    runner.execute(execute("s", "ReadDTC"));
    await vi.advanceTimersByTimeAsync(50);
    runner.stopAll();
    runner.execute(execute("s", "ReadDTC"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(chunksOf("s").map((c) => c.sequenceNumber)).toEqual([1]);
  });

  describe("misbehaviour", () => {
    it("silent: accepts and never answers", async () => {
      const { runner, sent } = setup();
      runner.misbehaviour = "silent";
      runner.execute(execute("m", "ReadDTC"));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(sent).toEqual([]);
    });

    it("drop-link: drops the link when the Execute arrives", async () => {
      const { runner, sent, drops } = setup();
      runner.misbehaviour = "drop-link";
      runner.execute(execute("m", "ReadDTC"));
      await vi.advanceTimersByTimeAsync(5000);
      expect(drops).toHaveLength(1);
      expect(sent).toEqual([]);
    });

    it("garbage: sends one chunk the connector cannot parse, then nothing", async () => {
      const { runner, chunksOf } = setup({ chunkIntervalMs: 100 });
      runner.misbehaviour = "garbage";
      runner.execute(execute("m", "ReadDTC"));
      await vi.advanceTimersByTimeAsync(2000);
      const chunks = chunksOf("m");
      expect(chunks.map((c) => [c.sequenceNumber, c.isFinal, c.payload])).toEqual([[1, false, GARBAGE_PAYLOAD]]);
      expect(() => parseChunkPayload("ReadDTC", chunks[0]!.payload!, false)).toThrow(/not UTF-8 JSON/);
    });

    it("out-of-sequence: skips number 2, and numbers a lone final chunk 2", async () => {
      const { runner, chunksOf } = setup({ chunkIntervalMs: 100 });
      runner.misbehaviour = "out-of-sequence";
      runner.execute(execute("m", "ReadDTC"));
      runner.execute(execute("one", "ClearDTC"));
      await vi.advanceTimersByTimeAsync(2000);
      expect(chunksOf("m").map((c) => c.sequenceNumber)).toEqual([1, 3, 4]);
      expect(chunksOf("one").map((c) => [c.sequenceNumber, c.isFinal])).toEqual([[2, true]]);
    });

    it("late: answers correctly, but only after the command's deadline", async () => {
      const { runner, chunksOf } = setup({ chunkIntervalMs: 100 });
      runner.misbehaviour = "late";
      runner.execute(execute("m", "ClearDTC", {}, { deadline: timestampFromMs(Date.now() + 2000) }));
      await vi.advanceTimersByTimeAsync(2000);
      expect(chunksOf("m")).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(200);
      expect(chunksOf("m").map((c) => [c.at, c.isFinal])).toEqual([[2100, true]]);
    });

    it("applies to commands that arrive after it is set, and 'none' restores normal answers", async () => {
      const { runner, chunksOf } = setup({ chunkIntervalMs: 100 });
      runner.misbehaviour = "silent";
      runner.execute(execute("quiet", "ClearDTC"));
      runner.misbehaviour = "none";
      runner.execute(execute("normal", "ReadDTC"));
      await vi.advanceTimersByTimeAsync(1000);
      expect(chunksOf("quiet")).toHaveLength(0);
      expect(chunksOf("normal")).toHaveLength(3);
    });
  });
});

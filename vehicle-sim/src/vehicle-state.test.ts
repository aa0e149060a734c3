import type { JsonObject } from "@bufbuild/protobuf";
import { parseChunkPayload } from "@sovd/proto";
import { fleetIdentity, seededRandom } from "@sovd/platform";
import { describe, expect, it } from "vitest";
import { CommandRejectedError, VehicleState, type AnswerPlan, type PlannedChunk } from "./vehicle-state.js";

const identity = fleetIdentity(7);
const newState = (): VehicleState => new VehicleState(identity, seededRandom(42));

/** Drains a plan, one chunk per "tick", as the runner would. */
function drain(plan: AnswerPlan, start = new Date("2026-01-01T00:00:00Z")): PlannedChunk[] {
  const out: PlannedChunk[] = [];
  for (let i = 0; i < 100; i++) {
    const c = plan.next(new Date(start.getTime() + i * 500));
    if (!c) return out;
    out.push(c);
  }
  throw new Error("plan never ended");
}

/** What the connector would accept, parsed from the bytes actually sent. */
const accepted = (name: string, chunks: PlannedChunk[]): JsonObject[] => chunks.map((c) => parseChunkPayload(name, c.payload, c.isFinal));

describe("VehicleState", () => {
  it("answers ReadDTC on a new vehicle with P0420, P0171, then the final count", () => {
    const chunks = drain(newState().answer("ReadDTC", { ecuAddress: "0x10", format: "UDS" }));
    expect(chunks.map((c) => [c.sequenceNumber, c.isFinal])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(accepted("ReadDTC", chunks)).toEqual([
      { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" },
      { dtcCode: "P0171", description: "System Too Lean (Bank 1)" },
      { status: "complete", totalDtcs: 2 },
    ]);
  });

  it("answers ClearDTC with one final chunk and forgets the codes, so ReadDTC then has only the final chunk", () => {
    const state = newState();
    const cleared = drain(state.answer("ClearDTC", { ecuAddress: "0x10" }));
    expect(cleared.map((c) => [c.sequenceNumber, c.isFinal])).toEqual([[1, true]]);
    expect(accepted("ClearDTC", cleared)).toEqual([{ status: "cleared", clearedCount: 2 }]);
    expect(state.dtcs).toEqual([]);

    const read = drain(state.answer("ReadDTC", {}));
    expect(read.map((c) => [c.sequenceNumber, c.isFinal])).toEqual([[1, true]]);
    expect(accepted("ReadDTC", read)).toEqual([{ status: "complete", totalDtcs: 0 }]);
    expect(new TextDecoder().decode(read[0]!.payload)).toBe('{"status":"complete","totalDtcs":0}');

    expect(accepted("ClearDTC", drain(state.answer("ClearDTC", {})))).toEqual([{ status: "cleared", clearedCount: 0 }]);
  });

  it("applies ClearDTC only when its chunk is produced, not when the command is planned", () => {
    const state = newState();
    const clear = state.answer("ClearDTC", {});
    expect(state.dtcs).toHaveLength(2);
    clear.next(new Date());
    expect(state.dtcs).toHaveLength(0);
  });

  it("answers ReadDataByID samples:5 with five progressive samples, then the final chunk", () => {
    const start = new Date("2026-01-01T00:00:00Z");
    const chunks = drain(newState().answer("ReadDataByID", { dataId: "0xF40D", samples: 5 }), start);
    expect(chunks.map((c) => c.sequenceNumber)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(chunks.map((c) => c.isFinal)).toEqual([false, false, false, false, false, true]);
    const payloads = accepted("ReadDataByID", chunks);
    expect(payloads[5]).toEqual({ status: "complete", samples: 5 });
    for (const [i, p] of payloads.slice(0, 5).entries()) {
      expect(p).toMatchObject({ dataId: "0xF40D", name: "Vehicle speed", unit: "km/h", sampledAt: new Date(start.getTime() + i * 500).toISOString() });
      expect(p.value).toBeGreaterThanOrEqual(0);
      expect(p.value).toBeLessThanOrEqual(160);
    }
  });

  it("defaults to one sample and reports the vehicle's own VIN", () => {
    const chunks = drain(newState().answer("ReadDataByID", { dataId: "0xf190" }));
    expect(accepted("ReadDataByID", chunks)).toEqual([
      { dataId: "0xF190", name: "VIN", value: identity.vin, unit: "", sampledAt: expect.any(String) as unknown },
      { status: "complete", samples: 1 },
    ]);
  });

  it.each([
    ["0xF40C", 600, 5000],
    ["0xF405", 80, 105],
    ["0xF442", 12.4, 14.8],
  ])("keeps %s plausible and varying over 20 samples", (dataId, min, max) => {
    const values = accepted("ReadDataByID", drain(newState().answer("ReadDataByID", { dataId, samples: 20 })))
      .slice(0, 20)
      .map((p) => p.value as number);
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(min);
      expect(v).toBeLessThanOrEqual(max);
    }
    expect(new Set(values).size).toBeGreaterThan(1);
  });

  it("rejects an unknown command and parameters outside the catalog before changing anything", () => {
    const state = newState();
    expect(() => state.answer("FlashECU", {})).toThrow(new CommandRejectedError("Unknown command FlashECU"));
    expect(() => state.answer("ReadDataByID", { dataId: "0x1234" })).toThrow(CommandRejectedError);
    expect(() => state.answer("ReadDataByID", { dataId: "0xF40D", samples: 21 })).toThrow(/params\.samples/);
    expect(() => state.answer("ClearDTC", { ecuAddress: "engine" })).toThrow(/params\.ecuAddress/);
    expect(state.dtcs).toHaveLength(2);
  });
});

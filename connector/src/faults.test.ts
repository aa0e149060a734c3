import { describe, expect, it } from "vitest";
import { parseChunkPayload } from "@sovd/proto";
import { corruptPayload, createFaultInjector, FaultMemory } from "./faults.js";

const DRAWS = 2000;
/** Four standard deviations of a binomial proportion: a correct injector fails this ~1 in 15,000 runs. */
const tolerance = (p: number): number => 4 * Math.sqrt((p * (1 - p)) / DRAWS);

describe("fault injection", () => {
  it("draws each fault at its configured rate over 2,000 commands", () => {
    const rates = { timeout: 0.1, unreachable: 0.05, malformed: 0.03 };
    const injector = createFaultInjector(rates, 12345);
    const counts = { timeout: 0, unreachable: 0, malformed: 0 };
    for (let i = 0; i < DRAWS; i++) {
      const d = injector.draw();
      if (d.timeout) counts.timeout++;
      if (d.unreachable) counts.unreachable++;
      if (d.malformed) counts.malformed++;
    }
    for (const fault of ["timeout", "unreachable", "malformed"] as const) {
      expect(Math.abs(counts[fault] / DRAWS - rates[fault])).toBeLessThan(tolerance(rates[fault]));
    }
  });

  it("gives the same decisions for the same seed and different ones for another seed", () => {
    const rates = { timeout: 0.5, unreachable: 0.5, malformed: 0.5 };
    const run = (seed: number) => {
      const injector = createFaultInjector(rates, seed);
      return Array.from({ length: 200 }, () => injector.draw());
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it("never injects with rates 0 and always with rates 1", () => {
    const off = createFaultInjector({ timeout: 0, unreachable: 0, malformed: 0 }, 1);
    const on = createFaultInjector({ timeout: 1, unreachable: 1, malformed: 1 }, 1);
    for (let i = 0; i < 500; i++) {
      expect(off.draw()).toEqual({ timeout: false, unreachable: false, malformed: false });
      expect(on.draw()).toEqual({ timeout: true, unreachable: true, malformed: true });
    }
  });

  it("corrupts a valid chunk so validation rejects it", () => {
    const valid = new TextEncoder().encode('{"status":"complete","totalDtcs":0}');
    expect(parseChunkPayload("ReadDTC", valid, true)).toEqual({ status: "complete", totalDtcs: 0 });
    expect(() => parseChunkPayload("ReadDTC", corruptPayload(valid), true)).toThrow(/not UTF-8 JSON/);
    expect(() => parseChunkPayload("ReadDTC", corruptPayload(new Uint8Array()), true)).toThrow();
  });

  it("keeps one decision per command across dispatch retries, and forgets the oldest past capacity", () => {
    const memory = new FaultMemory(2);
    let n = 0;
    const draw = () => ({ timeout: false, unreachable: n++ % 2 === 0, malformed: false });
    const first = memory.decide("a", draw);
    expect(memory.decide("a", draw)).toBe(first);
    memory.decide("b", draw);
    memory.decide("c", draw);
    expect(n).toBe(3);
    memory.decide("a", draw);
    expect(n).toBe(4);
  });
});

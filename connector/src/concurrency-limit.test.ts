import { describe, expect, it } from "vitest";
import { ConcurrencyLimit } from "./concurrency-limit.js";

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe("ConcurrencyLimit", () => {
  it("runs at most max tasks at once, the rest in arrival order, and frees slots on failure too", async () => {
    const limit = new ConcurrencyLimit(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      limit.run(async () => {
        started.push(i);
        await g.promise;
        if (i === 0) throw new Error("boom");
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([limit.active, limit.queued]).toEqual([2, 2]);
    gates[0]!.resolve();
    await expect(runs[0]).rejects.toThrow("boom");
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.resolve();
    gates[2]!.resolve();
    gates[3]!.resolve();
    expect(await Promise.all(runs.slice(1))).toEqual([1, 2, 3]);
    expect([limit.active, limit.queued]).toEqual([0, 0]);
  });

  it("refuses a limit below 1", () => {
    expect(() => new ConcurrencyLimit(0)).toThrow(RangeError);
  });
});

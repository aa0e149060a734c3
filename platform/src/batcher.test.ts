import { describe, expect, it } from "vitest";
import { createBatcher } from "./batcher.js";

/** A batch writer whose batches stay open until the test lets them finish. */
function gatedWriter() {
  const batches: string[][] = [];
  const gates: Array<() => void> = [];
  const run = async (items: string[]): Promise<string[]> => {
    batches.push([...items]);
    await new Promise<void>((resolve) => gates.push(resolve));
    return items.map((i) => i.toUpperCase());
  };
  const release = async (): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    for (const open of gates.splice(0)) open();
    await new Promise((r) => setImmediate(r));
  };
  return { batches, run, release };
}

describe("createBatcher", () => {
  it("sends a lone item at once and gathers what arrives while a batch is written", async () => {
    const w = gatedWriter();
    const b = createBatcher({ run: w.run, concurrency: 1 });
    const first = b.push("a");
    await new Promise((r) => setImmediate(r));
    expect(w.batches).toEqual([["a"]]);
    const more = [b.push("b"), b.push("c"), b.push("d")];
    await w.release();
    expect(await first).toBe("A");
    expect(w.batches).toEqual([["a"], ["b", "c", "d"]]);
    await w.release();
    expect(await Promise.all(more)).toEqual(["B", "C", "D"]);
    await b.idle();
  });

  it("never puts two items of one key into the same batch, and keeps their order", async () => {
    const w = gatedWriter();
    const b = createBatcher({ run: w.run, key: (i: string) => i[0]!, concurrency: 1 });
    const all = [b.push("x1"), b.push("x2"), b.push("y1"), b.push("x3")];
    for (let i = 0; i < 3; i++) await w.release();
    expect(await Promise.all(all)).toEqual(["X1", "X2", "Y1", "X3"]);
    expect(w.batches).toEqual([["x1", "y1"], ["x2"], ["x3"]]);
  });

  it("caps a batch at maxItems and rejects every item of a batch that failed", async () => {
    const sizes: number[] = [];
    const b = createBatcher({
      maxItems: 2,
      concurrency: 1,
      run: async (items: number[]) => {
        sizes.push(items.length);
        if (items.includes(3)) throw new Error("database away");
        return items;
      },
    });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => b.push(n)));
    expect(sizes).toEqual([2, 2, 1]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "rejected", "fulfilled"]);
  });
});

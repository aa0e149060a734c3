import { describe, expect, it } from "vitest";
import { createCircuitBreakers } from "./circuit-breaker.js";

describe("circuit breakers", () => {
  const setup = (maxEntries?: number) => {
    let clock = 1_000;
    const counts: number[] = [];
    const breakers = createCircuitBreakers({
      failureThreshold: 5,
      cooldownMs: 30_000,
      maxEntries,
      now: () => clock,
      onOpenCountChange: (n) => counts.push(n),
    });
    return { breakers, counts, advance: (ms: number) => (clock += ms) };
  };

  it("opens after 5 consecutive failures and rejects until the cool-down passed", () => {
    const { breakers, counts, advance } = setup();
    for (let i = 0; i < 4; i++) {
      expect(breakers.acquire("v1")).toBe("closed");
      breakers.recordFailure("v1");
    }
    expect(breakers.acquire("v1")).toBe("closed");
    breakers.recordFailure("v1");
    expect(breakers.acquire("v1")).toBe("rejected");
    expect(breakers.openCount()).toBe(1);
    expect(counts).toEqual([1]);
    advance(29_999);
    expect(breakers.acquire("v1")).toBe("rejected");
    expect(breakers.acquire("v2")).toBe("closed");
  });

  it("lets exactly one trial through after the cool-down; its success closes the breaker", () => {
    const { breakers, counts, advance } = setup();
    for (let i = 0; i < 5; i++) breakers.recordFailure("v1");
    advance(30_000);
    expect(breakers.acquire("v1")).toBe("trial");
    expect(breakers.acquire("v1")).toBe("rejected");
    breakers.recordSuccess("v1");
    expect(breakers.acquire("v1")).toBe("closed");
    expect(breakers.openCount()).toBe(0);
    expect(counts).toEqual([1, 0]);
  });

  it("a failed trial re-opens the breaker for another cool-down", () => {
    const { breakers, advance } = setup();
    for (let i = 0; i < 5; i++) breakers.recordFailure("v1");
    advance(30_000);
    expect(breakers.acquire("v1")).toBe("trial");
    breakers.recordFailure("v1");
    expect(breakers.acquire("v1")).toBe("rejected");
    advance(30_000);
    expect(breakers.acquire("v1")).toBe("trial");
    expect(breakers.openCount()).toBe(1);
  });

  it("a success resets the count of consecutive failures", () => {
    const { breakers } = setup();
    for (let i = 0; i < 4; i++) breakers.recordFailure("v1");
    breakers.recordSuccess("v1");
    for (let i = 0; i < 4; i++) breakers.recordFailure("v1");
    expect(breakers.acquire("v1")).toBe("closed");
  });

  it("keeps at most maxEntries vehicles, dropping the least recently touched", () => {
    const { breakers } = setup(2);
    for (let i = 0; i < 5; i++) breakers.recordFailure("a");
    for (let i = 0; i < 5; i++) breakers.recordFailure("b");
    expect(breakers.openCount()).toBe(2);
    breakers.recordFailure("c");
    expect(breakers.openCount()).toBe(1);
    expect(breakers.acquire("a")).toBe("closed");
    expect(breakers.acquire("b")).toBe("rejected");
  });
});

describe("circuit breaker trial release", () => {
  it("a released trial permit lets the next trial through", () => {
    let clock = 0;
    const breakers = createCircuitBreakers({ failureThreshold: 1, cooldownMs: 10, now: () => clock });
    breakers.recordFailure("v");
    clock = 10;
    expect(breakers.acquire("v")).toBe("trial");
    breakers.release("v");
    expect(breakers.acquire("v")).toBe("trial");
  });
});

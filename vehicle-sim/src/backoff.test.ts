import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.js";

const policy = { initialMs: 100, maxMs: 5000 };

describe("backoffDelay", () => {
  it("doubles per attempt between half and all of the ceiling, capped at the maximum", () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(policy, a, () => 0))).toEqual([50, 100, 200, 400]);
    expect([0, 1, 2, 3].map((a) => backoffDelay(policy, a, () => 0.999999))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(policy, 10, () => 0.5)).toBe(3750);
    expect(backoffDelay(policy, 1000, () => 1)).toBe(5000);
  });

  it("spreads a fleet that retries at the same attempt", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(policy, 4, Math.random)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createHeartbeatScheduler } from "./heartbeat-scheduler.js";

describe("createHeartbeatScheduler", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends each link's heartbeat at its own interval from one timer", () => {
    const scheduler = createHeartbeatScheduler();
    const fast: number[] = [];
    const slow: number[] = [];
    const start = Date.now();
    scheduler.register(100, () => fast.push(Date.now() - start));
    scheduler.register(1000, () => slow.push(Date.now() - start));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(2000);
    expect(fast).toHaveLength(20);
    expect(fast[0]).toBe(100);
    expect(slow).toEqual([1000, 2000]);
    scheduler.close();
  });

  it("stops a link's heartbeats when unregistered and runs no timer when empty", () => {
    const scheduler = createHeartbeatScheduler();
    let sent = 0;
    const stop = scheduler.register(50, () => sent++);
    vi.advanceTimersByTime(210);
    stop();
    vi.advanceTimersByTime(1000);
    expect(sent).toBe(4);
    expect(scheduler.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps one timer for a thousand links", () => {
    const scheduler = createHeartbeatScheduler();
    let sent = 0;
    for (let i = 0; i < 1000; i++) scheduler.register(10_000, () => sent++);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(sent).toBe(1000);
    scheduler.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

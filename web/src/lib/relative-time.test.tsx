import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RelativeTime } from "../components/relative-time.js";
import { formatRelative } from "./relative-time.js";

const now = new Date("2026-11-22T12:00:00Z");
const ago = (ms: number): Date => new Date(now.getTime() - ms);

describe("formatRelative", () => {
  it.each([
    [10_000, "just now"],
    [44_000, "just now"],
    [50_000, "50 seconds ago"],
    [60_000, "1 minute ago"],
    [5 * 60_000 + 20_000, "5 minutes ago"],
    [59 * 60_000, "59 minutes ago"],
    [60 * 60_000, "1 hour ago"],
    [3 * 60 * 60_000, "3 hours ago"],
    [24 * 60 * 60_000, "1 day ago"],
    [45 * 24 * 60 * 60_000, "1 month ago"],
    [800 * 24 * 60 * 60_000, "2 years ago"],
  ])("%i ms ago reads %s", (ms, text) => {
    expect(formatRelative(ago(ms), now)).toBe(text);
  });

  it("treats a little clock skew into the future as just now, more as the future", () => {
    expect(formatRelative(ago(-20_000), now)).toBe("just now");
    expect(formatRelative(ago(-5 * 60_000), now)).toBe("in 5 minutes");
  });
});

describe("RelativeTime", () => {
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it("keeps counting while the page stays open", () => {
    vi.useFakeTimers({ now });
    render(<RelativeTime date={ago(4 * 60_000)} intervalMs={15_000} />);
    expect(screen.getByText("4 minutes ago")).toBeTruthy();
    act(() => {
      vi.advanceTimersByTime(60_000);
    });
    expect(screen.getByText("5 minutes ago")).toBeTruthy();
    expect(screen.getByText("5 minutes ago").getAttribute("datetime")).toBe(ago(4 * 60_000).toISOString());
  });
});

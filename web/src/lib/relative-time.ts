const UNITS: readonly (readonly [limitMs: number, unitMs: number, name: string])[] = [
  [60 * 60_000, 60_000, "minute"],
  [24 * 60 * 60_000, 60 * 60_000, "hour"],
  [30 * 24 * 60 * 60_000, 24 * 60 * 60_000, "day"],
  [365 * 24 * 60 * 60_000, 30 * 24 * 60 * 60_000, "month"],
  [Number.POSITIVE_INFINITY, 365 * 24 * 60 * 60_000, "year"],
];

/**
 * "5 minutes ago": how long ago something happened, in the words the fleet view and the
 * failure messages use ("Vehicle offline. Last seen 5 minutes ago."). Under 45 seconds is
 * "just now"; a time slightly in the future (clock skew between browser and gateway) too.
 */
export function formatRelative(then: Date, now: Date): string {
  const diff = now.getTime() - then.getTime();
  if (diff < 45_000) {
    if (diff > -60_000) return "just now";
    return `in ${span(-diff)}`;
  }
  return `${span(diff)} ago`;
}

function span(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} seconds`;
  for (const [limit, unit, name] of UNITS) {
    if (ms < limit) {
      const n = Math.max(1, Math.floor(ms / unit));
      return `${n} ${name}${n === 1 ? "" : "s"}`;
    }
  }
  return "a long time";
}

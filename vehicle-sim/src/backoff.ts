import type { Random } from "@sovd/platform";

/** Reconnect timing of a vehicle: first retry after `initialMs`, doubling up to `maxMs`. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * The wait before reconnect attempt `attempt` (0 = first retry): exponential, capped at
 * `maxMs`, with "equal jitter" (half fixed, half random) so a fleet that lost its connector
 * all at once does not come back in one thundering herd, yet never retries in a hot loop.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: Random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

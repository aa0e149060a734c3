/**
 * Delay before reconnect attempt `attempt` (0-based) of a live stream: exponential from
 * `baseMs`, capped, with up to 20 % jitter so many tabs do not reconnect in lockstep after a
 * gateway restart.
 */
export function reconnectDelay(attempt: number, baseMs = 500, maxMs = 15_000, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(exp * (0.8 + 0.2 * random()));
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts (so a closed page stops waiting). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

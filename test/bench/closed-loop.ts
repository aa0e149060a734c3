/**
 * The two ways the bench drives anything: one operation at a time (latency), and a fixed
 * number in flight for a fixed time (throughput). Both are bounded in count and in time.
 */
import { monoMs } from "./stats.js";

/** Runs `op` `count` times one after another (after `warmup` unmeasured runs); the latency of each in ms. */
export async function sequentialLatencies(opts: { count: number; warmup: number; maxMs: number; op: (i: number) => Promise<void> }): Promise<number[]> {
  const out: number[] = [];
  const deadline = monoMs() + opts.maxMs;
  for (let i = 0; i < opts.warmup + opts.count && monoMs() < deadline; i++) {
    const t0 = monoMs();
    await opts.op(i);
    if (i >= opts.warmup) out.push(monoMs() - t0);
  }
  return out;
}

export interface ClosedLoopResult {
  /** Operations completed inside the measured window. */
  readonly ops: number;
  /** Length of the measured window. */
  readonly seconds: number;
  /** Operations completed over the whole run, warm-up included (CPU per operation divides by it). */
  readonly totalOps: number;
  /** Operations that threw, over the whole run. */
  readonly errors: number;
  readonly firstError?: string;
}

/**
 * `inFlight` loops, each starting its next `op` when the previous one ends, for `warmupMs`
 * unmeasured and then `durationMs` measured; at most `maxOps` operations in all.
 */
export async function closedLoop(opts: {
  inFlight: number;
  warmupMs: number;
  durationMs: number;
  maxOps: number;
  /** `i` counts operations over the run, `loop` is which of the `inFlight` loops runs it. */
  op: (i: number, loop: number) => Promise<void>;
}): Promise<ClosedLoopResult> {
  const start = monoMs();
  const windowStart = start + opts.warmupMs;
  const windowEnd = windowStart + opts.durationMs;
  let issued = 0;
  let ops = 0;
  let totalOps = 0;
  let errors = 0;
  let firstError: string | undefined;
  const runLoop = async (_: unknown, loop: number): Promise<void> => {
    while (issued < opts.maxOps && monoMs() < windowEnd) {
      const i = issued++;
      try {
        await opts.op(i, loop);
        totalOps++;
        const t = monoMs();
        if (t >= windowStart && t <= windowEnd) ops++;
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.inFlight }, runLoop));
  // Ran out of operations before the window ended: the window is as long as it really was.
  const seconds = (Math.min(windowEnd, monoMs()) - windowStart) / 1000;
  return { ops, seconds: Math.max(seconds, 1e-3), totalOps, errors, firstError };
}

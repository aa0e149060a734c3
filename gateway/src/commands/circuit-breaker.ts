/*
 * One circuit breaker per vehicle for dispatches (architecture §3 "Dispatch"): `failureThreshold`
 * consecutive failed dispatches open it; while open, dispatches fail at once; after
 * `cooldownMs` exactly one trial dispatch is let through, and its success closes the
 * breaker (its failure re-opens it for another cool-down).
 *
 * Hand-written rather than a library: opossum and friends keep a timer (and an event
 * emitter) per breaker, too costly for 10,000+ vehicles. Here a breaker is a small record
 * in one bounded map, with no timers at all: the cool-down is compared on the next attempt.
 * Vehicles with no recent failures have no entry.
 */
/** Thresholds of the breakers (BREAKER_FAILURE_THRESHOLD, BREAKER_COOLDOWN_MS) and the gauge hook. */
export interface CircuitBreakerOptions {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  /** Most vehicles tracked at once; the least recently touched entry is dropped beyond it. */
  readonly maxEntries?: number;
  readonly now?: () => number;
  /** Told the number of open breakers whenever it changes (the `circuit_breakers_open` gauge). */
  readonly onOpenCountChange?: (open: number) => void;
}

/** What a caller may do now for a vehicle. */
export type BreakerPermit = "closed" | "trial" | "rejected";

interface Entry {
  failures: number;
  openedAt: number | undefined;
  trialInFlight: boolean;
}

/** The per-vehicle breakers of one gateway instance. */
export interface CircuitBreakers {
  /** Asks to dispatch to `key`; a "trial" permit must be followed by recordSuccess/recordFailure. */
  acquire(key: string): BreakerPermit;
  recordSuccess(key: string): void;
  recordFailure(key: string): void;
  /** Gives back a trial permit whose dispatch ended with no verdict on the vehicle (cancelled, queued). */
  release(key: string): void;
  /** Breakers currently open (including one whose trial is running). */
  openCount(): number;
}

/** The bounded per-vehicle breaker map described above; no timers. */
export function createCircuitBreakers(opts: CircuitBreakerOptions): CircuitBreakers {
  const entries = new Map<string, Entry>();
  const now = opts.now ?? (() => Date.now());
  const maxEntries = opts.maxEntries ?? 100_000;
  let open = 0;

  const setOpen = (delta: number): void => {
    if (delta === 0) return;
    open += delta;
    opts.onOpenCountChange?.(open);
  };

  const remove = (key: string, entry: Entry): void => {
    entries.delete(key);
    if (entry.openedAt !== undefined) setOpen(-1);
  };

  /** Re-inserts to keep the map in least-recently-touched order, evicting the oldest when full. */
  const touch = (key: string, entry: Entry): void => {
    entries.delete(key);
    entries.set(key, entry);
    while (entries.size > maxEntries) {
      const [oldestKey, oldest] = entries.entries().next().value as [string, Entry];
      remove(oldestKey, oldest);
    }
  };

  return {
    acquire(key) {
      const entry = entries.get(key);
      if (!entry || entry.openedAt === undefined) return "closed";
      if (entry.trialInFlight || now() - entry.openedAt < opts.cooldownMs) return "rejected";
      entry.trialInFlight = true;
      touch(key, entry);
      return "trial";
    },
    recordSuccess(key) {
      const entry = entries.get(key);
      if (entry) remove(key, entry);
    },
    recordFailure(key) {
      const entry = entries.get(key) ?? { failures: 0, openedAt: undefined, trialInFlight: false };
      entry.failures += 1;
      if (entry.openedAt !== undefined) {
        // A failed trial (or a failure of a dispatch that started before the breaker opened): another cool-down.
        entry.openedAt = now();
        entry.trialInFlight = false;
      } else if (entry.failures >= opts.failureThreshold) {
        entry.openedAt = now();
        setOpen(1);
      }
      touch(key, entry);
    },
    release(key) {
      const entry = entries.get(key);
      if (entry) entry.trialInFlight = false;
    },
    openCount: () => open,
  };
}

/**
 * A source of numbers in [0, 1), like Math.random. Services and the simulator take one where
 * draws must be repeatable (fault injection, sensor values, network delays, backoff jitter).
 */
export type Random = () => number;

/**
 * mulberry32: a tiny, well-known 32-bit PRNG with good enough statistics for fault injection
 * and simulation, fully determined by its seed (FAULT_SEED, a vehicle's index).
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

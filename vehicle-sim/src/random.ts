/**
 * A source of numbers in [0, 1), like Math.random. The simulator takes one as a dependency
 * so tests can make sensor values, network delays and backoff jitter repeatable.
 */
export type Random = () => number;

/**
 * A small seeded generator (mulberry32): each vehicle seeds its sensor values from its
 * index, so a restarted fleet behaves the same and tests can predict the draws.
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

/** A draw from [min, max] (inclusive of both ends up to rounding). */
export function between(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}

import type { Random } from "@sovd/platform";

/**
 * The simulator takes a Random as a dependency so tests can make sensor values, network
 * delays and backoff jitter repeatable; each vehicle seeds its own from its index
 * (`seededRandom` of the platform, the same generator the connector's faults use).
 */
export { seededRandom, type Random } from "@sovd/platform";

/** A draw from [min, max] (inclusive of both ends up to rounding). */
export function between(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}

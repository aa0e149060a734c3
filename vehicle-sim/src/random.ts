/** The platform's seeded RNG, still imported from here by simulated-vehicle.ts. */
export { seededRandom, type Random } from "@sovd/platform";

import { seededRandom } from "@sovd/platform";
import type { FaultRates } from "./config.js";

/**
 * The faults injected into one command, decided once when it is dispatched
 * (architecture §3 "Execute").
 */
export interface FaultDecision {
  /** Swallow the vehicle's answer, so the real deadline fires. */
  readonly timeout: boolean;
  /** Reject the dispatch as unreachable, so the gateway's real unreachable path runs. */
  readonly unreachable: boolean;
  /** Corrupt the first chunk's bytes before validation, so the real validation fails. */
  readonly malformed: boolean;
}

/** Draws fault decisions from one seeded RNG. */
export interface FaultInjector {
  readonly rates: FaultRates;
  /** Three draws per call, always, so a seed gives the same sequence of decisions. */
  draw(): FaultDecision;
}

/** One injector per connector process: one RNG, so the seed alone decides every draw. */
export function createFaultInjector(rates: FaultRates, seed: number): FaultInjector {
  const next = seededRandom(seed);
  return {
    rates,
    draw() {
      const timeout = next() < rates.timeout;
      const unreachable = next() < rates.unreachable;
      const malformed = next() < rates.malformed;
      return { timeout, unreachable, malformed };
    },
  };
}

/**
 * The bytes an injected malformed fault sends to validation: half the payload followed by
 * bytes that are never valid UTF-8, so the real validation path is guaranteed to reject it.
 */
export function corruptPayload(bytes: Uint8Array): Uint8Array {
  const half = bytes.subarray(0, Math.floor(bytes.byteLength / 2));
  const out = new Uint8Array(half.byteLength + 2);
  out.set(half);
  out.set([0xff, 0xfe], half.byteLength);
  return out;
}

/**
 * Remembers the decision of recent commands, so a dispatch the gateway retries meets the
 * same faults ("decided once per command"). Bounded: the oldest decisions are forgotten.
 */
export class FaultMemory {
  private readonly decisions = new Map<string, FaultDecision>();
  constructor(private readonly capacity = 10_000) {}

  /**
   * The command's decision, drawn on its first dispatch; `onDrawn` runs only then, so what
   * it counts (faults_injected_total) counts commands, not the gateway's retries.
   */
  decide(commandId: string, draw: () => FaultDecision, onDrawn?: (decision: FaultDecision) => void): FaultDecision {
    const known = this.decisions.get(commandId);
    if (known) return known;
    const decision = draw();
    onDrawn?.(decision);
    this.decisions.set(commandId, decision);
    if (this.decisions.size > this.capacity) this.decisions.delete(this.decisions.keys().next().value!);
    return decision;
  }
}

/**
 * The ways a simulated vehicle can misbehave for real, so the
 * connector's timeout, link-loss and validation paths are exercised by an actual vehicle and
 * not only by injected faults. Set per vehicle at runtime with `vehicle.misbehave(mode)`;
 * a command keeps the mode that was set when its Execute arrived.
 */
export const MISBEHAVIOURS = [
  /** Answers as the catalog says (architecture §4 "Command catalog"). */
  "none",
  /** Accepts Execute and never answers: the command's deadline must fire. */
  "silent",
  /** Drops the stream when an Execute arrives (then reconnects with backoff). */
  "drop-link",
  /** Sends a first chunk whose payload is not UTF-8 JSON, then nothing more. */
  "garbage",
  /** Skips sequence number 2 (a single-chunk answer is numbered 2). */
  "out-of-sequence",
  /** Answers correctly, but only after the command's deadline has passed. */
  "late",
] as const;

/** One of MISBEHAVIOURS. */
export type Misbehaviour = (typeof MISBEHAVIOURS)[number];

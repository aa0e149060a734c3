import type { Command } from "@sovd/proto";

/** `google.protobuf.Timestamp` as the generated code shapes it (seconds are a bigint). */
export type Timestamp = NonNullable<Command["submittedAt"]>;

/** Milliseconds since the epoch of a protobuf Timestamp. */
export function timestampMs(ts: Timestamp): number {
  return Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000);
}

/** What a request's Timestamp field takes (`seconds` are a bigint). */
export interface TimestampInit {
  readonly seconds: bigint;
  readonly nanos: number;
}

/** A Timestamp initializer for a request field, from milliseconds since the epoch. */
export function timestampInit(ms: number): TimestampInit {
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** A Timestamp as a Date, or undefined when unset. */
export function toDate(ts: Timestamp | undefined): Date | undefined {
  return ts ? new Date(timestampMs(ts)) : undefined;
}

/** Local date and time for tables and tooltips, e.g. `2026-11-22 14:03:07`. */
export function formatDateTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/**
 * A duration as an engineer reads it: `800 ms`, `1.5 s`, `30 s`, `2 min`. Used for timeouts,
 * so whole seconds print without decimals.
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) {
    const s = ms / 1000;
    return `${Number.isInteger(s) ? s : Number(s.toFixed(1))} s`;
  }
  const min = ms / 60_000;
  return `${Number.isInteger(min) ? min : Number(min.toFixed(1))} min`;
}

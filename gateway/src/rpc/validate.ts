import { isUuid } from "@sovd/domain";
import { InvalidArgumentError } from "./errors.js";

export { isUuid };

/**
 * Bounds for hostile input: every request field is checked before it reaches SQL, a hash
 * function or a log line. Each failure is an InvalidArgumentError naming the field (the
 * client sees `invalid_argument`, "<field>: <problem>"), and never echoes the value (it may
 * be a secret, or megabytes).
 */

/** A required id field: a UUID, lower-cased; InvalidArgumentError otherwise. */
export function requireUuid(field: string, value: string): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  if (!isUuid(value)) throw new InvalidArgumentError(field, "must be a UUID");
  return value.toLowerCase();
}

/** An optional id filter: undefined when empty, a UUID otherwise. */
export function optionalUuid(field: string, value: string): string | undefined {
  return value === "" ? undefined : requireUuid(field, value);
}

// C0 controls and DEL. NUL in particular: PostgreSQL refuses it in text (SQLSTATE 22021),
// which would surface as a database failure instead of the caller's mistake.
/** True when a string holds no control characters (safe for text columns and log lines). */
export function isPlainText(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

/** A required string of bounded length (counted in characters). */
export function requireString(field: string, value: string, maxLength: number): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  if (value.length > maxLength) throw new InvalidArgumentError(field, `must be at most ${maxLength} characters`);
  return value;
}

/** A required name-like string (username, search text) that goes to SQL: bounded, no control characters. */
export function requireText(field: string, value: string, maxLength: number): string {
  requireString(field, value, maxLength);
  if (!isPlainText(value)) throw new InvalidArgumentError(field, "must not contain control characters");
  return value;
}

/** requireText for an optional filter: undefined when empty. */
export function optionalText(field: string, value: string, maxLength: number): string | undefined {
  return value === "" ? undefined : requireText(field, value, maxLength);
}

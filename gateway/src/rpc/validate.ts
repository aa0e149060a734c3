import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Bounds for hostile input (issue 4): every request field is checked before it reaches SQL,
 * a hash function or a log line. Each failure is `invalid_argument` naming the field, and
 * never echoes the value (it may be a secret, or megabytes).
 */

/** Longest username accepted (the `users.username` CHECK allows 64). */
export const MAX_USERNAME_LENGTH = 64;
/** Longest password accepted: scrypt of a megabyte is a cheap denial of service. */
export const MAX_PASSWORD_LENGTH = 256;
/** Longest access token (JWT) accepted in an `authorization` header or `?token=`. */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;
/** Opaque tokens this gateway mints (refresh tokens, stream tickets): base64url of 32 bytes. */
export const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{32,128}$/;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `invalid_argument` error of ARCHITECTURE §4, with the offending field named. */
export function invalidArgument(field: string, problem: string): ConnectError {
  return new ConnectError(`${field}: ${problem}`, Code.InvalidArgument);
}

/** True for a canonical UUID (what every id column of §8 holds); other ids never reach SQL (they would be a 22P02 error). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A required id field: a UUID, lower-cased; `invalid_argument` otherwise. */
export function requireUuid(field: string, value: string): string {
  if (value === "") throw invalidArgument(field, "is required");
  if (!isUuid(value)) throw invalidArgument(field, "must be a UUID");
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
  if (value === "") throw invalidArgument(field, "is required");
  if (value.length > maxLength) throw invalidArgument(field, `must be at most ${maxLength} characters`);
  return value;
}

/** A required name-like string (username, search text) that goes to SQL: bounded, no control characters. */
export function requireText(field: string, value: string, maxLength: number): string {
  requireString(field, value, maxLength);
  if (!isPlainText(value)) throw invalidArgument(field, "must not contain control characters");
  return value;
}

/** requireText for an optional filter: undefined when empty. */
export function optionalText(field: string, value: string, maxLength: number): string | undefined {
  return value === "" ? undefined : requireText(field, value, maxLength);
}

/** A refresh token or stream ticket as this gateway mints them; anything else is refused unread. */
export function requireOpaqueToken(field: string, value: string): string {
  if (value === "") throw invalidArgument(field, "is required");
  if (!OPAQUE_TOKEN.test(value)) throw invalidArgument(field, "is malformed");
  return value;
}

import { InvalidArgumentError } from "../rpc/index.js";

/**
 * Bounds of credentials, checked before anything reaches a hash function, SQL or a log line.
 * The generic request validators (UUIDs, plain text) are rpc/validate.ts.
 */

/** Longest username accepted (the `users.username` CHECK allows 64). */
export const MAX_USERNAME_LENGTH = 64;
/** Longest password accepted: scrypt of a megabyte is a cheap denial of service. */
export const MAX_PASSWORD_LENGTH = 256;
/** Longest access token (JWT) accepted in an `authorization` header or `?token=`. */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;
/** Opaque tokens this gateway mints (refresh tokens, stream tickets): base64url of 32 bytes. */
export const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{32,128}$/;

/** A refresh token or stream ticket as this gateway mints them; anything else is refused unread. */
export function requireOpaqueToken(field: string, value: string): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  if (!OPAQUE_TOKEN.test(value)) throw new InvalidArgumentError(field, "is malformed");
  return value;
}

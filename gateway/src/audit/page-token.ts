import { invalidArgument, isUuid } from "../auth/validate.js";

/**
 * Keyset page tokens for "newest first" lists ordered by (timestamp DESC, id DESC). The
 * position is the last row's timestamp in epoch microseconds (PostgreSQL's precision; a JS
 * Date would drop rows that share a millisecond) and its id. Opaque to clients: base64url JSON.
 */
export interface KeysetPosition {
  readonly micros: number;
  readonly id: string;
}

const MAX_TOKEN_LENGTH = 200;

export function encodePageToken(p: KeysetPosition): string {
  return Buffer.from(JSON.stringify([p.micros, p.id])).toString("base64url");
}

/** The position of a page token; undefined for ""; `invalid_argument` on `page_token` when it is not one of ours. */
export function decodePageToken(token: string): KeysetPosition | undefined {
  if (token === "") return undefined;
  const bad = () => invalidArgument("page_token", "is not a valid page token");
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (!Array.isArray(value) || value.length !== 2) throw bad();
  const [micros, id] = value as unknown[];
  if (typeof micros !== "number" || !Number.isSafeInteger(micros) || micros < 0 || typeof id !== "string" || !isUuid(id)) throw bad();
  return { micros, id };
}

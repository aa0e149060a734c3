import { InvalidArgumentError } from "./rpc/index.js";

/**
 * Opaque page tokens for keyset paging. A token is base64url of a versioned JSON tuple of
 * the last row's sort key, so clients cannot build or read them and the server can change
 * the format. A token that does not decode is `invalid_argument` naming `page_token`.
 */

/** Resolves `page_size` (0 = default) within 1..max; anything else is invalid_argument. */
export function pageSize(requested: number, opts: { default: number; max: number }): number {
  if (requested === 0) return opts.default;
  if (!Number.isInteger(requested) || requested < 1 || requested > opts.max) {
    throw new InvalidArgumentError("page_size", `must be between 1 and ${opts.max}`);
  }
  return requested;
}

/** Encodes the sort key of the last row of a page. */
export function encodePageToken(kind: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...key]), "utf8").toString("base64url");
}

/**
 * Decodes a token made by encodePageToken for the same `kind`, checking each element's type
 * (`shape`: "s" string, "n" integer). Empty token: undefined (first page).
 */
export function decodePageToken(token: string, kind: string, shape: readonly ("s" | "n")[]): (string | number)[] | undefined {
  if (token === "") return undefined;
  const fail = (): never => {
    throw new InvalidArgumentError("page_token", "is not a token from a previous page");
  };
  if (token.length > 512 || !/^[A-Za-z0-9_-]+$/.test(token)) fail();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    return fail();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length + 1 || parsed[0] !== kind) fail();
  const values = (parsed as unknown[]).slice(1);
  values.forEach((v, i) => {
    const ok = shape[i] === "s" ? typeof v === "string" && v.length <= 128 : Number.isSafeInteger(v);
    if (!ok) fail();
  });
  return values as (string | number)[];
}

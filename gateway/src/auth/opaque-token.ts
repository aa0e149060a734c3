import { createHash, randomBytes } from "node:crypto";

/**
 * Refresh tokens and stream tickets are random, opaque strings handed out once; only their
 * SHA-256 is stored, so a database dump is no set of live sessions. (A fast hash is enough:
 * 256 random bits cannot be guessed, unlike passwords.)
 */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: hashOpaqueToken(token) };
}

/** The stored form of an opaque token (hex SHA-256). */
export function hashOpaqueToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

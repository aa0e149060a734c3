import { randomUUID } from "node:crypto";
import { withTransaction, type Pool, type Queryable } from "@sovd/platform";
import { insertAudit, type AuditEntry } from "@sovd/domain";
import { hashOpaqueToken, newOpaqueToken } from "./opaque-token.js";
import type { Principal } from "./principal.js";
import { isRoleName } from "./roles.js";

/** Why a refresh token was refused; every kind answers `unauthenticated`. */
export class RefreshTokenError extends Error {
  override readonly name = "RefreshTokenError";
  constructor(readonly reason: "unknown" | "expired" | "revoked" | "reused" | "inactive") {
    super(`refresh token ${reason}`);
  }
}

/** What the audit rows of a refresh carry about the caller: address, user agent, request id. */
export type AuditContext = Pick<AuditEntry, "ipAddress" | "userAgent" | "requestId">;

/**
 * Rotating refresh tokens (architecture §7 "Gateway HTTP"). A family is one login; each use
 * rotates the token within its family; presenting a token that was already rotated means it
 * was copied, so the whole family is revoked (the thief's and the owner's session end
 * together).
 */
export interface RefreshTokens {
  /** Starts a family (a login) inside the caller's transaction. */
  startFamily(db: Queryable, userId: string): Promise<{ token: string; expiresAt: Date }>;
  /** Exchanges a token for the next one of its family; RefreshTokenError otherwise. */
  rotate(token: string, audit: AuditContext): Promise<{ user: Principal; token: string; expiresAt: Date }>;
  /** Revokes the family of a token if it belongs to `userId`; false when there was none. */
  revokeFamily(token: string, userId: string, audit: AuditContext): Promise<boolean>;
}

interface TokenRow {
  token_id: string;
  family_id: string;
  user_id: string;
  expires_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
  username: string;
  role: string;
  is_active: boolean;
}

type Rotation = { ok: true; user: Principal; token: string; expiresAt: Date } | { ok: false; reason: RefreshTokenError["reason"] };

/** Refresh tokens in `refresh_tokens`, expiring `ttlSeconds` after each is issued. */
export function createRefreshTokens(opts: { pool: Pool; ttlSeconds: number; now: () => Date }): RefreshTokens {
  const insert = async (db: Queryable, userId: string, familyId: string) => {
    const { token, hash } = newOpaqueToken();
    const expiresAt = new Date(opts.now().getTime() + opts.ttlSeconds * 1000);
    await db.query("INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)", [
      familyId,
      userId,
      hash,
      expiresAt,
    ]);
    return { token, expiresAt };
  };
  const revoke = (db: Queryable, familyId: string, at: Date) =>
    db.query("UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL", [familyId, at]);

  return {
    startFamily: (db, userId) => insert(db, userId, randomUUID()),

    async rotate(token, audit) {
      const result = await withTransaction(opts.pool, async (tx): Promise<Rotation> => {
        const now = opts.now();
        const { rows } = await tx.query<TokenRow>(
          `SELECT t.token_id, t.family_id, t.user_id, t.expires_at, t.rotated_at, t.revoked_at, u.username, u.role, u.is_active
             FROM refresh_tokens t JOIN users u ON u.user_id = t.user_id
            WHERE t.token_hash = $1
            FOR UPDATE OF t`,
          [hashOpaqueToken(token)],
        );
        const row = rows[0];
        if (!row) return { ok: false, reason: "unknown" };
        if (row.revoked_at) return { ok: false, reason: "revoked" };
        if (row.rotated_at) {
          // Reuse: the token was copied. Revoke the family and record it; committed before refusing.
          await revoke(tx, row.family_id, now);
          await insertAudit(tx, { action: "refresh_token_reuse", userId: row.user_id, details: { family_id: row.family_id }, ...audit });
          return { ok: false, reason: "reused" };
        }
        if (row.expires_at.getTime() <= now.getTime()) return { ok: false, reason: "expired" };
        if (!row.is_active || !isRoleName(row.role)) {
          await revoke(tx, row.family_id, now);
          return { ok: false, reason: "inactive" };
        }
        await tx.query("UPDATE refresh_tokens SET rotated_at = $2 WHERE token_id = $1", [row.token_id, now]);
        const next = await insert(tx, row.user_id, row.family_id);
        await insertAudit(tx, { action: "token_refreshed", userId: row.user_id, details: { family_id: row.family_id }, ...audit });
        return { ok: true, user: { userId: row.user_id, username: row.username, role: row.role }, ...next };
      });
      if (!result.ok) throw new RefreshTokenError(result.reason);
      return { user: result.user, token: result.token, expiresAt: result.expiresAt };
    },

    async revokeFamily(token, userId, audit) {
      return withTransaction(opts.pool, async (tx) => {
        const { rows } = await tx.query<{ family_id: string }>("SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2", [
          hashOpaqueToken(token),
          userId,
        ]);
        const familyId = rows[0]?.family_id;
        if (!familyId) return false;
        await revoke(tx, familyId, opts.now());
        await insertAudit(tx, { action: "user_logout", userId, details: { family_id: familyId }, ...audit });
        return true;
      });
    },
  };
}

import type { Pool } from "@sovd/platform";
import type { Principal } from "./principal.js";
import { isRoleName } from "./roles.js";
import { isUuid } from "../rpc/index.js";

/** A user as the interceptor needs it: does it still exist, is it active, what role now. */
export interface DirectoryUser extends Principal {
  readonly isActive: boolean;
}

/**
 * Looks users up for every authenticated call, so a deactivated user or a changed role takes
 * effect within `ttlMs` instead of when the 15-minute access token expires. The cache is per
 * gateway instance and short on purpose: it only saves the database a lookup per RPC.
 */
export interface UserDirectory {
  get(userId: string): Promise<DirectoryUser | undefined>;
  /** Forgets a user at once (e.g. after a failed refresh found it inactive). */
  forget(userId: string): void;
}

interface UserRow {
  user_id: string;
  username: string;
  role: string;
  is_active: boolean;
}

const MAX_ENTRIES = 10_000;

/** A directory over the `users` table with a per-instance TTL cache (ttlMs 0: no cache). */
export function createUserDirectory(opts: { pool: Pool; ttlMs: number; now: () => Date }): UserDirectory {
  const cache = new Map<string, { user: DirectoryUser | undefined; until: number }>();
  return {
    async get(userId) {
      if (!isUuid(userId)) return undefined;
      const t = opts.now().getTime();
      const hit = cache.get(userId);
      if (hit && hit.until > t) return hit.user;
      const { rows } = await opts.pool.query<UserRow>("SELECT user_id, username, role, is_active FROM users WHERE user_id = $1", [userId]);
      const row = rows[0];
      const user =
        row && isRoleName(row.role) ? { userId: row.user_id, username: row.username, role: row.role, isActive: row.is_active } : undefined;
      if (opts.ttlMs > 0) {
        if (cache.size >= MAX_ENTRIES) cache.clear();
        cache.set(userId, { user, until: t + opts.ttlMs });
      }
      return user;
    },
    forget(userId) {
      cache.delete(userId);
    },
  };
}

import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import type { Logger } from "pino";
import { withClient, type Pool } from "./database.js";

/** The migrations folder of the repository (platform/migrations). */
const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

/**
 * Applies pending migrations (node-pg-migrate, plain SQL files). Safe when several
 * processes start at once: node-pg-migrate holds a PostgreSQL advisory lock while it runs,
 * so the second process waits and then finds nothing to do.
 */
export async function migrate(pool: Pool, opts: { schema?: string; logger?: Logger } = {}): Promise<string[]> {
  return withClient(pool, async (client) => {
    const ran = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: "up",
      migrationsTable: "pgmigrations",
      schema: opts.schema ?? "public",
      createSchema: opts.schema !== undefined,
      checkOrder: true,
      // Wait for a concurrent migration (another replica, a parallel test) instead of failing.
      advisoryLockMode: "wait",
      logger: {
        debug: () => undefined,
        info: (msg: string) => opts.logger?.debug(msg),
        warn: (msg: string) => opts.logger?.warn(msg),
        error: (msg: string) => opts.logger?.error(msg),
      },
    });
    const names = ran.map((m) => m.name);
    if (names.length > 0) opts.logger?.info({ migrations: names }, "database migrated");
    return names;
  });
}

/** True when every migration in the folder has been applied; readiness checks it. */
export async function migrationsApplied(pool: Pool): Promise<boolean> {
  const { readdir } = await import("node:fs/promises");
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith(".sql"));
  const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pgmigrations");
  return rows[0]!.n >= files.length;
}

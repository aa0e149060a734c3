import { fleetIdentity, type Logger, type Pool } from "@sovd/platform";
import { hashPassword, verifyPassword } from "./passwords.js";

/** Development users (architecture §5 "Data"). Only ever seeded with NODE_ENV=development. */
export const DEVELOPMENT_USERS = [
  { username: "admin", password: "admin123", role: "admin" },
  { username: "engineer", password: "engineer123", role: "engineer" },
  { username: "engineer2", password: "engineer123", role: "engineer" },
  { username: "viewer", password: "viewer123", role: "viewer" },
] as const;

/** How many of the simulator's vehicles the seed registers up front. */
export const SEEDED_VEHICLES = 2;

export interface InitialUser {
  username: string;
  password: string;
  role: "viewer" | "engineer" | "admin";
}

/**
 * Creates users that do not exist yet (never overwrites a password that was changed) and
 * the seeded vehicles. Development passes DEVELOPMENT_USERS; production passes the users
 * named by INITIAL_ADMIN_USERNAME / INITIAL_ADMIN_PASSWORD, so no known password ships.
 */
export async function seed(pool: Pool, opts: { users: readonly InitialUser[]; vehicles: number; logger?: Logger }): Promise<void> {
  for (const u of opts.users) {
    const exists = await pool.query("SELECT 1 FROM users WHERE username = $1", [u.username]);
    if (exists.rowCount) continue;
    await pool.query(
      "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING",
      [u.username, await hashPassword(u.password), u.role],
    );
    opts.logger?.info({ username: u.username, role: u.role }, "user created");
  }
  for (let i = 0; i < opts.vehicles; i++) {
    const v = fleetIdentity(i);
    await pool.query(
      `INSERT INTO vehicles (vehicle_id, vin, make, model, year) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [v.vehicleId, v.vin, v.make, v.model, v.year],
    );
  }
}

/**
 * The development users still active with their published password (architecture §5
 * "Data"): a database that was once seeded in development and is now run outside it. The
 * gateway refuses to start on such a database outside development.
 */
export async function activeDevelopmentUsers(pool: Pool): Promise<string[]> {
  const found: string[] = [];
  for (const u of DEVELOPMENT_USERS) {
    const { rows } = await pool.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE username = $1 AND is_active", [u.username]);
    if (rows[0] && (await verifyPassword(u.password, rows[0].password_hash))) found.push(u.username);
  }
  return found;
}

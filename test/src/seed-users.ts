import type { RoleName } from "@sovd/gateway";
import { type Pool } from "@sovd/platform";
import { DEVELOPMENT_USERS, hashPassword } from "@sovd/domain";
import { TEST_PASSWORD } from "./secrets.js";

/** The four users every stack has. */
export type TestUsername = "viewer" | "engineer" | "engineer2" | "admin";

/** A user in the stack's database: what tests need to log in as it or find its rows. */
export interface TestUser {
  readonly userId: string;
  readonly username: string;
  readonly role: RoleName;
}

/** The four users of a stack by name. */
export type TestUsers = Readonly<Record<TestUsername, TestUser>>;

const ROLES: Readonly<Record<TestUsername, RoleName>> = { viewer: "viewer", engineer: "engineer", engineer2: "engineer", admin: "admin" };

/** Passwords of the development users the gateway seeds itself (NODE_ENV=development). */
export const SEEDED_PASSWORDS: Readonly<Record<string, string>> = Object.fromEntries(DEVELOPMENT_USERS.map((u) => [u.username, u.password]));

let passwordHash: Promise<string> | undefined;

/**
 * Inserts a user whose password is TEST_PASSWORD, the way an admin would create one. The
 * hash is computed once per worker: scrypt is slow on purpose, and tests create many users.
 */
export async function createTestUser(pool: Pool, username: string, role: RoleName, opts: { active?: boolean } = {}): Promise<TestUser> {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  const { rows } = await pool.query<{ user_id: string }>(
    "INSERT INTO users (username, password_hash, role, is_active) VALUES ($1, $2, $3, $4) RETURNING user_id",
    [username, await passwordHash, role, opts.active ?? true],
  );
  return { userId: rows[0]!.user_id, username, role };
}

/** Seeds viewer, engineer, engineer2 and admin with TEST_PASSWORD: the users of a test stack. */
export async function seedTestUsers(pool: Pool): Promise<TestUsers> {
  const users: Partial<Record<TestUsername, TestUser>> = {};
  for (const [username, role] of Object.entries(ROLES) as Array<[TestUsername, RoleName]>) users[username] = await createTestUser(pool, username, role);
  return users as TestUsers;
}

/** The four users as they are in the database, for a gateway that seeded them itself (development). */
export async function readTestUsers(pool: Pool): Promise<TestUsers> {
  const { rows } = await pool.query<{ user_id: string; username: string; role: RoleName }>(
    "SELECT user_id, username, role FROM users WHERE username = ANY($1)",
    [Object.keys(ROLES)],
  );
  const users = Object.fromEntries(rows.map((r) => [r.username, { userId: r.user_id, username: r.username, role: r.role }]));
  for (const name of Object.keys(ROLES)) if (!users[name]) throw new Error(`user ${name} was not seeded`);
  return users as unknown as TestUsers;
}

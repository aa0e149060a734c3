import { randomBytes, randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { getCommandRow, listResponseRows, type CommandRow, type ResponseRow } from "@sovd/domain";
import { createPool, fleetIdentity, migrate, startEmbeddedPostgres, type Pool, type VehicleIdentity } from "@sovd/platform";

/**
 * A migrated database of a unit test file's own, with the rows the connector works on. An
 * in-memory PGlite served over the wire (the embedded default), or, with DATABASE_URL set,
 * a fresh schema there, dropped at close (as test/src/infra.ts does). One connection either
 * way (`max: 1`, all PGlite allows), so a test can hold it to keep a write waiting. One per
 * file, rows apart per test: a second cluster in the same file would pay for the migrated
 * template of test/src/infra.ts, the first pays for initdb either way.
 */
export interface UnitDatabase extends AsyncDisposable {
  readonly pool: Pool;
  insertUser(role?: "viewer" | "engineer" | "admin"): Promise<string>;
  /** A vehicle no other test of the file uses, stored offline. */
  insertVehicle(): Promise<VehicleIdentity>;
  insertCommand(c: {
    vehicleId: string;
    commandName?: string;
    params?: JsonObject;
    status?: "pending" | "queued" | "in_progress" | "completed";
    timeoutMs?: number;
  }): Promise<string>;
  command(commandId: string): Promise<CommandRow>;
  responses(commandId: string): Promise<ResponseRow[]>;
  /** The audit rows of a command, oldest first. */
  audit(commandId: string): Promise<{ action: string; details: JsonObject }[]>;
  close(): Promise<void>;
}

/** Opens the test file's database (beforeAll; close it in afterAll). */
export async function openUnitDatabase(): Promise<UnitDatabase> {
  const { pool, close } = await openPool();
  let vehicles = 0;
  let defaultUser: string | undefined;
  const base = Math.floor(Math.random() * 900_000_000);
  const db: UnitDatabase = {
    pool,
    async insertUser(role = "engineer") {
      const { rows } = await pool.query<{ user_id: string }>(
        "INSERT INTO users (username, password_hash, role) VALUES ($1, 'not-a-hash', $2) RETURNING user_id",
        [`u-${randomUUID().slice(0, 12)}`, role],
      );
      return rows[0]!.user_id;
    },
    async insertVehicle() {
      const v = fleetIdentity(base + vehicles++);
      await pool.query("INSERT INTO vehicles (vehicle_id, vin, make, model, year) VALUES ($1, $2, $3, $4, $5)", [v.vehicleId, v.vin, v.make, v.model, v.year]);
      return v;
    },
    async insertCommand(c) {
      const userId = (defaultUser ??= await db.insertUser());
      const status = c.status ?? "pending";
      const { rows } = await pool.query<{ command_id: string }>(
        `INSERT INTO commands (vehicle_id, user_id, command_name, command_params, status, timeout_ms, correlation_id, deadline_at, started_at, completed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $6::int / 1000.0),
                 CASE WHEN $5 IN ('in_progress', 'completed') THEN now() END, CASE WHEN $5 = 'completed' THEN now() END)
         RETURNING command_id`,
        [c.vehicleId, userId, c.commandName ?? "ReadDTC", JSON.stringify(c.params ?? {}), status, c.timeoutMs ?? 30_000, `req-${randomUUID()}`],
      );
      return rows[0]!.command_id;
    },
    async command(commandId) {
      const row = await getCommandRow(pool, commandId);
      if (!row) throw new Error(`no command ${commandId}`);
      return row;
    },
    responses: (commandId) => listResponseRows(pool, commandId),
    async audit(commandId) {
      const { rows } = await pool.query<{ action: string; details: JsonObject }>(
        "SELECT action, details FROM audit_logs WHERE command_id = $1 ORDER BY created_at, audit_id",
        [commandId],
      );
      return rows;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return db;
}

async function openPool(): Promise<{ pool: Pool; close(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const schema = `u_${randomBytes(6).toString("hex")}`;
    const pool = createPool({ url, schema, max: 1 });
    await migrate(pool, { schema });
    return {
      pool,
      async close() {
        await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      },
    };
  }
  const embedded = await startEmbeddedPostgres();
  const pool = createPool({ url: embedded.url, max: 1 });
  await migrate(pool);
  return {
    pool,
    async close() {
      await pool.end();
      await embedded.close();
    },
  };
}

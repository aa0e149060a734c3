import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPool, fleetIdentity, migrate, type Pool } from "@sovd/platform";
import { hashPassword } from "@sovd/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueFleetBase } from "../src/index.js";
import { hasBinary, repoPath } from "./ops-files.js";

// scripts/backup.sh and scripts/restore.sh are what docs/runbooks/disaster_recovery.md tells
// an operator to run, so the test runs them for real: a scratch database on the server of
// DATABASE_URL is migrated and filled, backed up, restored into a fresh database, and the
// two must hold the same rows. Both databases are dropped afterwards.

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile("bash", [repoPath("scripts", script), ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!hasBinary("bash"))("backup/restore usage", () => {
  it("backup.sh without a database explains itself and exits 2", async () => {
    const r = await run("backup.sh", [], { DATABASE_URL: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("set DATABASE_URL or pass --url");
    expect(r.stderr).toContain("usage: backup.sh");
  });

  it("restore.sh needs a backup file and a target", async () => {
    const missing = await run("restore.sh", []);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("usage: restore.sh [--force] BACKUP_FILE TARGET_DATABASE_URL");
    const noFile = await run("restore.sh", ["/nonexistent/sovd.dump", "postgres://localhost/x"]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("not found");
  });
});

const databaseUrl = process.env.DATABASE_URL;
const tools = ["pg_dump", "pg_restore", "psql"].every(hasBinary);

/** Tables and the order that makes their rows comparable. */
const TABLES: Record<string, string> = {
  users: "user_id",
  vehicles: "vehicle_id",
  commands: "command_id",
  responses: "response_id",
  audit_logs: "audit_id",
  refresh_tokens: "token_id",
  stream_tickets: "ticket_hash",
  pgmigrations: "id",
};

describe.skipIf(!databaseUrl || !tools)("backup.sh + restore.sh round trip (real PostgreSQL)", () => {
  const suffix = randomBytes(5).toString("hex");
  const sourceDb = `sovd_backup_src_${suffix}`;
  const targetDb = `sovd_backup_dst_${suffix}`;
  const urlOf = (db: string): string => {
    const url = new URL(databaseUrl!);
    url.pathname = `/${db}`;
    return url.toString();
  };
  let admin: Pool;
  let dir: string;

  async function rows(url: string): Promise<Record<string, unknown[]>> {
    const pool = createPool({ url, max: 1 });
    try {
      const out: Record<string, unknown[]> = {};
      for (const [table, key] of Object.entries(TABLES)) {
        out[table] = (await pool.query(`SELECT to_jsonb(t) AS row FROM ${table} t ORDER BY ${key}`)).rows.map((r: { row: unknown }) => r.row);
      }
      return out;
    } finally {
      await pool.end();
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sovd-backup-"));
    admin = createPool({ url: databaseUrl!, max: 1 });
    await admin.query(`CREATE DATABASE ${sourceDb}`);
    await admin.query(`CREATE DATABASE ${targetDb}`);

    // A source database as the services leave it: migrated, with users, a fleet, commands,
    // their chunks and audit rows.
    const pool = createPool({ url: urlOf(sourceDb), max: 2 });
    try {
      await migrate(pool);
      const user = await pool.query<{ user_id: string }>(
        "INSERT INTO users (username, password_hash, role) VALUES ('engineer', $1, 'engineer') RETURNING user_id",
        [await hashPassword("engineer123")],
      );
      const userId = user.rows[0]!.user_id;
      const base = uniqueFleetBase();
      for (let i = 0; i < 3; i++) {
        const v = fleetIdentity(base + i);
        await pool.query("INSERT INTO vehicles (vehicle_id, vin, make, model, year) VALUES ($1, $2, $3, $4, $5)", [v.vehicleId, v.vin, v.make, v.model, v.year]);
        const commandId = randomUUID();
        await pool.query(
          `INSERT INTO commands (command_id, vehicle_id, user_id, command_name, command_params, status, timeout_ms, deadline_at, completed_at, correlation_id, last_sequence)
           VALUES ($1, $2, $3, 'ReadDTC', '{"ecuAddress":"0x10"}', 'completed', 30000, now() + interval '30 seconds', now(), $4, 2)`,
          [commandId, v.vehicleId, userId, `req-${i}`],
        );
        await pool.query(
          `INSERT INTO responses (command_id, response_payload, sequence_number, is_final) VALUES
             ($1, '{"dtcCode":"P0420","description":"Catalyst System Efficiency Below Threshold"}', 1, false),
             ($1, '{"status":"complete","totalDtcs":1}', 2, true)`,
          [commandId],
        );
        await pool.query(
          "INSERT INTO audit_logs (user_id, vehicle_id, command_id, action, details, request_id) VALUES ($1, $2, $3, 'command_completed', '{\"chunks\":2}', $4)",
          [userId, v.vehicleId, commandId, `req-${i}`],
        );
      }
    } finally {
      await pool.end();
    }
  });

  afterAll(async () => {
    for (const db of [sourceDb, targetDb]) {
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [db]);
      await admin.query(`DROP DATABASE IF EXISTS ${db}`);
    }
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  it("restores into a fresh database exactly the rows that were backed up, and refuses to overwrite", async () => {
    const file = join(dir, "sovd.dump");
    const backup = await run("backup.sh", ["--url", urlOf(sourceDb), file]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout.trim()).toBe(file);
    expect(existsSync(file)).toBe(true);
    expect(await readdir(dir), "no partial file left behind").toEqual(["sovd.dump"]);

    const restore = await run("restore.sh", [file, urlOf(targetDb)]);
    expect(restore.code, restore.stderr).toBe(0);

    const before = await rows(urlOf(sourceDb));
    const after = await rows(urlOf(targetDb));
    expect(before.vehicles).toHaveLength(3);
    expect(before.responses).toHaveLength(6);
    expect(before.audit_logs).toHaveLength(3);
    expect(before.pgmigrations!.length).toBeGreaterThan(0);
    expect(after).toEqual(before);

    // The restored database keeps its guarantees: the audit log is still append-only.
    const target = createPool({ url: urlOf(targetDb), max: 1 });
    try {
      await expect(target.query("DELETE FROM audit_logs")).rejects.toThrow(/append-only/);
    } finally {
      await target.end();
    }

    // A second restore into the now non-empty database is refused without --force...
    const again = await run("restore.sh", [file, urlOf(targetDb)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/refusing to restore into .*: it already has \d+ table\(s\)/);
    expect(await rows(urlOf(targetDb))).toEqual(before);

    // ...and replaces the dumped objects with it.
    const forced = await run("restore.sh", ["--force", file, urlOf(targetDb)]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await rows(urlOf(targetDb))).toEqual(before);
  });
});

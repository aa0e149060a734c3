/**
 * A PostgreSQL database of the bench's own on the server DATABASE_URL names, created per
 * run and dropped at the end: the services migrate into it, the bench never touches anyone
 * else's rows, and the per-database statistics (commits, inserted rows) are the bench's
 * alone. Statistics are read over a connection to the original database, so reading them
 * adds no transactions to the measured one.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export interface PgCounters {
  /** Committed transactions in the bench database. */
  readonly commits: number;
  readonly rollbacks: number;
  readonly rowsInserted: number;
  /** Statements executed (pg_stat_statements), undefined when the extension is not loaded. */
  readonly statements: number | undefined;
}

export interface BenchDatabase {
  readonly name: string;
  /** DATABASE_URL with the bench database in place of the original one. */
  readonly url: string;
  /** Why statement counts are missing, when they are. */
  readonly statementsNote: string | undefined;
  counters(): Promise<PgCounters>;
  /** Pids of the client backends connected to the bench database (their CPU is the services' database work). */
  backendPids(): Promise<number[]>;
  /** A query in the bench database itself (row counts of the services' tables). */
  query<T extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** `prefix` names the database, `applicationName` the run's own connections (the chaos suite reuses this). */
export async function createBenchDatabase(adminUrl: string, opts: { prefix?: string; applicationName?: string } = {}): Promise<BenchDatabase> {
  const name = `${opts.prefix ?? "sovd_bench"}_${randomBytes(5).toString("hex")}`;
  const app = opts.applicationName ?? "bench-admin";
  const admin = new pg.Client({ connectionString: adminUrl, application_name: app });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const own = new pg.Client({ connectionString: url.toString(), application_name: app });
  await own.connect();

  // pg_stat_statements answers only when the server preloads it; creating the extension
  // in the bench database (dropped with it) is harmless either way.
  let statementsNote: string | undefined;
  try {
    await own.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    await own.query("SELECT count(*) FROM pg_stat_statements");
  } catch (err) {
    const message = (err as Error).message;
    statementsNote = message.includes("shared_preload_libraries") ? "pg_stat_statements is not in shared_preload_libraries" : `pg_stat_statements: ${message.slice(0, 80)}`;
  }

  let dropped = false;
  return {
    name,
    url: url.toString(),
    statementsNote,
    async counters() {
      const { rows } = await admin.query<{ commits: string; rollbacks: string; inserted: string }>(
        "SELECT xact_commit AS commits, xact_rollback AS rollbacks, tup_inserted AS inserted FROM pg_stat_database WHERE datname = $1",
        [name],
      );
      let statements: number | undefined;
      if (statementsNote === undefined) {
        const r = await own.query<{ calls: string | null }>("SELECT sum(calls) AS calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)", [
          name,
        ]);
        statements = Number(r.rows[0]?.calls ?? 0);
      }
      const row = rows[0]!;
      return { commits: Number(row.commits), rollbacks: Number(row.rollbacks), rowsInserted: Number(row.inserted), statements };
    },
    async backendPids() {
      const { rows } = await admin.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND application_name <> $2",
        [name, app],
      );
      return rows.map((r) => r.pid);
    },
    async query<T extends pg.QueryResultRow>(sql: string, values?: unknown[]) {
      return (await own.query<T>(sql, values)).rows;
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await own.end().catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

import pg from "pg";
import type { Logger } from "pino";

/** Connection settings for one service's pool. */
export interface DatabaseOptions {
  url: string;
  /**
   * Schema to work in (search_path). Tests give each stack its own schema of one real
   * PostgreSQL database, so they never see each other's rows.
   */
  schema?: string;
  /** Pool size; 1 for the embedded PGlite, which is a single session. */
  max?: number;
  logger?: Logger;
  /** Counts pool errors (metrics). */
  onError?: (err: Error) => void;
  applicationName?: string;
}

export type Pool = pg.Pool;

/** A statement with a name: each connection parses and plans it once, then reuses the plan. */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

/** Anything that runs a parameterized query: a pool or a client inside a transaction. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(
    text: string | NamedStatement,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}
export type PoolClient = pg.PoolClient;

/** Schema names tests and operators may use; guards the search_path option against injection. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

// timestamptz and json come back as Date and parsed objects (pg defaults); bigint counts as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * A pg pool. No per-vehicle or per-request connections: everything shares this pool.
 * An idle client's error (server restart) is logged and counted, never crashes the process.
 */
export function createPool(opts: DatabaseOptions): Pool {
  if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) throw new Error(`invalid schema name "${opts.schema}"`);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    application_name: opts.applicationName,
    options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
  });
  pool.on("error", (err) => {
    opts.logger?.error({ err }, "database pool error");
    opts.onError?.(err);
  });
  // Every statement passes through a client's query(): counted there, for database_statements_total.
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      statements.set(pool, (statements.get(pool) ?? 0) + 1);
      return query(...args);
    };
  });
  return pool;
}

const statements = new WeakMap<Pool, number>();

/** Statements sent on `pool` since it was created (pool.query and every checked-out client). */
export function poolStatements(pool: Pool): number {
  return statements.get(pool) ?? 0;
}

/**
 * Runs `fn` with a client of its own. A checked-out client is not watched by the pool: if
 * the server ends its connection (a restart, `pg_terminate_backend`) it emits `'error'`,
 * which without a listener ends the process. Here the error is kept, the running query
 * rejects anyway, and the broken client is destroyed instead of going back to the pool.
 */
export async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on("error", onError);
  try {
    return await fn(client);
  } finally {
    client.off("error", onError);
    client.release(broken ?? false);
  }
}

/** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  });
}

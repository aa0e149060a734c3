import { randomBytes } from "node:crypto";
import { createPool, migrate, startEmbeddedPostgres, type Pool } from "@sovd/platform";
import { getCommandRow, type CommandRow } from "@sovd/domain";
import type { StoredStatus } from "@sovd/proto";

/** A pool of a service's own, and how to let it go. */
export interface ServicePool {
  readonly pool: Pool;
  close(): Promise<void>;
}

/**
 * A database of a test's own. With DATABASE_URL set: a fresh schema in that real PostgreSQL,
 * dropped afterwards. Unset: an in-memory PGlite served over the wire, as `npm start` does.
 * Migrations are applied either way, through the same code the services run at start.
 */
export interface TestDatabase extends AsyncDisposable {
  readonly url: string;
  /** The schema to pass to services (undefined for PGlite, which is fresh anyway). */
  readonly schema: string | undefined;
  /** A pool for the test's own assertions. */
  readonly pool: Pool;
  /** Pool size services should use (1 for PGlite, a single session). */
  readonly poolMax: number;
  /**
   * The pool a service gets, as a process of its own would open one: a new pool on the real
   * server (through `url` when given, e.g. a TcpProxy); on PGlite, a single session, the
   * shared `pool` unless another `url` is asked for.
   */
  servicePool(url?: string): ServicePool;
  close(): Promise<void>;
}

/** Creates the database of one test (see TestDatabase): migrated, empty, its own. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const schema = `t_${randomBytes(6).toString("hex")}`;
    const pool = createPool({ url, schema, max: 4 });
    await migrate(pool, { schema });
    const close = async (): Promise<void> => {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    };
    return { url, schema, pool, poolMax: 4, servicePool: (via = url) => ownPool(via, schema, 4), close, [Symbol.asyncDispose]: close };
  }
  const embedded = await startEmbeddedPostgres({ template: await migratedTemplate() });
  const pool = createPool({ url: embedded.url, max: 1 });
  await migrate(pool);
  const close = async (): Promise<void> => {
    await pool.end();
    await embedded.close();
  };
  const servicePool = (via = embedded.url): ServicePool => (via === embedded.url ? { pool, close: async () => undefined } : ownPool(via, undefined, 1));
  return { url: embedded.url, schema: undefined, pool, poolMax: 1, servicePool, close, [Symbol.asyncDispose]: close };
}

function ownPool(url: string, schema: string | undefined, max: number): ServicePool {
  const pool = createPool({ url, schema, max });
  return { pool, close: () => pool.end() };
}

let template: Promise<Blob> | undefined;

/**
 * A migrated, empty PGlite cluster, made once per test worker: every embedded test database
 * starts from it instead of running initdb again (seconds saved per test).
 */
function migratedTemplate(): Promise<Blob> {
  template ??= (async () => {
    const embedded = await startEmbeddedPostgres();
    const pool = createPool({ url: embedded.url, max: 1 });
    try {
      await migrate(pool);
    } finally {
      await pool.end();
    }
    const dump = await embedded.dump();
    await embedded.close();
    return dump;
  })();
  return template;
}

/** A command's row, read through the shared command store: what the services see. Throws when there is none. */
export async function commandRow(pool: Pool, commandId: string): Promise<CommandRow> {
  const row = await getCommandRow(pool, commandId);
  if (!row) throw new Error(`no command ${commandId}`);
  return row;
}

/** Polls a command's row until it has `status`; the row then, or an error naming what it is instead. */
export async function waitForCommandStatus(pool: Pool, commandId: string, status: StoredStatus, timeoutMs = 5000): Promise<CommandRow> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const row = await getCommandRow(pool, commandId);
    if (row?.status === status) return row;
    if (Date.now() > until) throw new Error(`command ${commandId} is ${row?.status}, not ${status}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

import { randomBytes } from "node:crypto";
import { createMemoryBus, createNatsBus, createPool, migrate, startEmbeddedPostgres, type Bus, type Pool } from "@sovd/platform";

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
  close(): Promise<void>;
}

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
    return { url, schema, pool, poolMax: 4, close, [Symbol.asyncDispose]: close };
  }
  const embedded = await startEmbeddedPostgres({ template: await migratedTemplate() });
  const pool = createPool({ url: embedded.url, max: 1 });
  await migrate(pool);
  const close = async (): Promise<void> => {
    await pool.end();
    await embedded.close();
  };
  return { url: embedded.url, schema: undefined, pool, poolMax: 1, close, [Symbol.asyncDispose]: close };
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

/** The bus tests run on: NATS when NATS_URL is set, the in-process bus otherwise. */
export async function createTestBus(name = "test"): Promise<Bus> {
  const url = process.env.NATS_URL;
  return url ? createNatsBus({ url, name }) : createMemoryBus();
}

/**
 * A vehicle index no other test uses, so vehicle subjects on a shared NATS server never
 * collide between test files running in parallel.
 */
export function uniqueFleetBase(): number {
  return 1_000_000 + Math.floor(Math.random() * 900_000_000);
}

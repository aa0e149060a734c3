import type { Logger } from "pino";
import type { Bus } from "./bus/bus.js";
import { createNatsBus } from "./bus/nats-bus.js";
import { redactUrl } from "./config.js";
import { createPool, type Pool } from "./db/database.js";

/** What a service needs from the outside world; `main.ts` opens it, `start*` receives it. */
export interface Infrastructure {
  readonly pool: Pool;
  readonly bus: Bus;
  close(): Promise<void>;
}

/**
 * Opens the pool and the NATS connection of a service that runs alone (`npm run gateway`,
 * `npm run connector`) against real servers. The all-in-one `npm start` builds its
 * embedded equivalents instead and passes them through the same `deps` door.
 */
export async function openInfrastructure(opts: {
  service: string;
  databaseUrl: string;
  natsUrl: string;
  logger: Logger;
  poolMax?: number;
  onDatabaseError?: (err: Error) => void;
  onBusStatus?: (event: { type: string; data?: unknown }) => void;
}): Promise<Infrastructure> {
  const pool = createPool({
    url: opts.databaseUrl,
    max: opts.poolMax ?? 10,
    logger: opts.logger,
    onError: opts.onDatabaseError,
    applicationName: opts.service,
  });
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    await pool.end();
    throw new Error(`cannot reach the database at ${redactUrl(opts.databaseUrl)}: ${(err as Error).message}`, { cause: err });
  }
  let bus: Bus;
  try {
    bus = await createNatsBus({ url: opts.natsUrl, name: opts.service, onStatus: opts.onBusStatus });
  } catch (err) {
    await pool.end();
    throw new Error(`cannot reach NATS at ${redactUrl(opts.natsUrl)}: ${(err as Error).message}`, { cause: err });
  }
  opts.logger.info({ database: redactUrl(opts.databaseUrl), nats: redactUrl(opts.natsUrl) }, "connected to database and NATS");
  return {
    pool,
    bus,
    async close() {
      await bus.close();
      await pool.end();
    },
  };
}

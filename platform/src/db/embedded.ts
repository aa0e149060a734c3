import { mkdir } from "node:fs/promises";
import type { Logger } from "pino";

/** An in-process PostgreSQL (PGlite) served over the wire protocol, for the embedded default. */
export interface EmbeddedPostgres {
  /** A `postgres://` URL any `pg` client can use (one session at a time: pool max 1). */
  readonly url: string;
  /** The whole data directory as a tarball, to start further instances from (`template`). */
  dump(): Promise<Blob>;
  close(): Promise<void>;
}

/**
 * Starts PGlite with its data in `dataDir` (or in memory when absent) and serves it with
 * pglite-socket on a free loopback port. The same `pg` code then runs against it as against
 * a real server. PGlite is a single session: the whole process shares one pool with
 * `max: 1` (the all-in-one passes that pool to every service).
 */
export async function startEmbeddedPostgres(
  opts: {
    dataDir?: string;
    logger?: Logger;
    /** A dump() of another instance to start from instead of an empty cluster (skips initdb: tests start in a fraction of the time). */
    template?: Blob;
  } = {},
): Promise<EmbeddedPostgres> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true });
  const db = await PGlite.create(opts.dataDir ?? "memory://", opts.template ? { loadDataDir: opts.template } : {});
  // maxConnections > 1 only so a pool can replace a connection it dropped after a query error
  // while the server is still detaching the old one; the process must share ONE pool of
  // max 1, because PGlite is a single session and concurrent connections would interleave.
  const server = new PGLiteSocketServer({ db, port: 0, host: "127.0.0.1", maxConnections: 4 });
  await server.start();
  const conn = server.getServerConn();
  opts.logger?.info({ dataDir: opts.dataDir ?? "memory", address: conn }, "embedded PostgreSQL (PGlite) started");
  return {
    url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    dump: () => db.dumpDataDir("none") as Promise<Blob>,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

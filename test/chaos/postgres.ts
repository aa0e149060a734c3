/**
 * The suite's PostgreSQL: a fresh database of its own, dropped at the end, on the server
 * DATABASE_URL names (the services reach it through a TCP proxy the suite can cut: "stop
 * PostgreSQL" without stopping a server others use), or on a cluster of the suite's own
 * (initdb under the temporary directory) that it really stops and starts. Either way the
 * suite reads and terminates only its own database's connections.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startTcpProxy, type TcpProxy } from "../src/tcp-proxy.js";
import { createBenchDatabase, type BenchDatabase } from "../bench/system/bench-database.js";
import { freePort } from "../bench/system/free-port.js";

export interface ChaosDatabase {
  /** The services' DATABASE_URL. */
  readonly url: string;
  /** How "stop PostgreSQL" is produced on this machine. */
  readonly stopMethod: string;
  query<T extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  /** pg_terminate_backend on every connection of the services (not the suite's own); how many. */
  terminateServices(): Promise<number>;
  /** PostgreSQL goes away (every connection dropped, new ones refused). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The suite's own connections carry this application_name; everything else in the database is a service. */
const SUITE_APP = "chaos-suite";

async function onServer(adminUrl: string): Promise<ChaosDatabase> {
  const db: BenchDatabase = await createBenchDatabase(adminUrl, { prefix: "sovd_chaos", applicationName: SUITE_APP });
  const target = new URL(db.url);
  const proxy: TcpProxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const url = new URL(db.url);
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  return {
    url: url.toString(),
    stopMethod: "TCP proxy between the services and PostgreSQL cut, then restored (the shared server keeps running)",
    query: (sql, values) => db.query(sql, values),
    async terminateServices() {
      const rows = await db.query<{ n: string }>(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> $1",
        [SUITE_APP],
      );
      return Number(rows[0]?.n ?? 0);
    },
    stop: () => proxy.cut(),
    start: () => proxy.restore(),
    async close() {
      await proxy.close().catch(() => undefined);
      await db.drop();
    },
  };
}

/** initdb refuses to run as root; then the cluster belongs to the `postgres` user. */
function clusterOwner(): { run: (bin: string, args: string[]) => void; uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return { run: (bin, args) => void execFileSync(bin, args, { stdio: "pipe" }) };
  const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (id.status !== 0) throw new Error("running as root without a postgres user: initdb cannot run");
  return { run: (bin, args) => void execFileSync("runuser", ["-u", "postgres", "--", bin, ...args], { stdio: "pipe" }), uid: Number(id.stdout), gid: Number(gid.stdout) };
}

/** Why a cluster of the suite's own cannot be made here, or undefined when it can. */
export function ownClusterUnavailable(): string | undefined {
  try {
    const bindir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
    if (!existsSync(join(bindir, "initdb"))) return `no initdb in ${bindir}`;
    clusterOwner();
    return undefined;
  } catch (err) {
    return (err as Error).message.split("\n")[0];
  }
}

async function ownCluster(): Promise<ChaosDatabase> {
  const bindir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
  const owner = clusterOwner();
  const dir = mkdtempSync(join(tmpdir(), "sovd-chaos-pg-"));
  const data = join(dir, "data");
  if (owner.uid !== undefined) chownSync(dir, owner.uid, owner.gid!);
  chmodSync(dir, 0o700);
  owner.run(join(bindir, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200`;
  const pgCtl = (args: string[]): void => owner.run(join(bindir, "pg_ctl"), ["-D", data, ...args]);
  const start = async (): Promise<void> => pgCtl(["-w", "-l", join(dir, "server.log"), "-o", options, "start"]);
  await start();
  const base = `postgres://postgres@127.0.0.1:${port}`;
  const admin = new pg.Client({ connectionString: `${base}/postgres`, application_name: SUITE_APP });
  await admin.connect();
  await admin.query("CREATE DATABASE sovd_chaos");
  await admin.end();
  const url = `${base}/sovd_chaos`;
  // A client per query: the suite's queries must work across the cluster's restarts.
  const query = async <T extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]> => {
    const c = new pg.Client({ connectionString: url, application_name: SUITE_APP });
    await c.connect();
    try {
      return (await c.query<T>(sql, values)).rows;
    } finally {
      await c.end();
    }
  };
  return {
    url,
    stopMethod: `the suite's own cluster (${dir}) stopped with pg_ctl stop -m fast, then started`,
    query,
    async terminateServices() {
      const rows = await query<{ n: string }>(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> $1",
        [SUITE_APP],
      );
      return Number(rows[0]?.n ?? 0);
    },
    stop: async () => pgCtl(["-w", "-m", "fast", "stop"]),
    start,
    async close() {
      try {
        pgCtl(["-w", "-m", "immediate", "stop"]);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * DATABASE_URL set (and no `own` asked): a database on that server. Otherwise a cluster of
 * the suite's own; when neither is possible the error says why.
 */
export async function openChaosDatabase(opts: { adminUrl: string | undefined; own: boolean }): Promise<ChaosDatabase> {
  if (opts.adminUrl && !opts.own) return onServer(opts.adminUrl);
  const why = ownClusterUnavailable();
  if (why) throw new Error(`no PostgreSQL for the chaos suite: DATABASE_URL is ${opts.adminUrl ? "set but --own-postgres was asked" : "unset"} and a cluster of its own cannot be made (${why})`);
  return ownCluster();
}

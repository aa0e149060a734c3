/**
 * Reference: PostgreSQL single-row INSERTs, each its own transaction with synchronous
 * commit (the server default, checked), through `pg` alone. Latency from one client, one at
 * a time; rows/s from 8 clients in one process, as a service's pool would be.
 */
import pg from "pg";
import { closedLoop, sequentialLatencies } from "../closed-loop.js";

/** A row about the size of a stored chunk. */
const PAYLOAD = JSON.stringify({ dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold", pad: "x".repeat(120) });
const TABLE = "bench_reference.rows";

export async function pgInsertClient(params: { url: string }) {
  const setup = new pg.Client({ connectionString: params.url, application_name: "bench-reference" });
  await setup.connect();
  await setup.query("CREATE SCHEMA IF NOT EXISTS bench_reference");
  await setup.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id bigserial PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await setup.query<{ synchronous_commit: string }>("SHOW synchronous_commit");
  const synchronousCommit = rows[0]!.synchronous_commit;
  let clients: pg.Client[] = [];
  const insert = async (c: pg.Client): Promise<void> => {
    await c.query(`INSERT INTO ${TABLE} (payload) VALUES ($1)`, [PAYLOAD]);
  };
  return {
    synchronousCommit: () => synchronousCommit,
    latency: (arg: { count: number; warmup: number }) => sequentialLatencies({ ...arg, maxMs: 60_000, op: () => insert(setup) }),
    /** Opens the clients of the throughput run; their backend pids, so the orchestrator can read their CPU. */
    async open(arg: { clients: number }): Promise<number[]> {
      clients = Array.from({ length: arg.clients }, () => new pg.Client({ connectionString: params.url, application_name: "bench-reference" }));
      await Promise.all(clients.map((c) => c.connect()));
      const pids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid));
      return pids;
    },
    throughput: (arg: { warmupMs: number; durationMs: number }) =>
      closedLoop({ inFlight: clients.length, ...arg, maxOps: 10_000_000, op: (_, loop) => insert(clients[loop]!) }),
    async close() {
      await Promise.all(clients.map((c) => c.end()));
      await setup.query("DROP SCHEMA IF EXISTS bench_reference CASCADE");
      await setup.end();
    },
  };
}

/** What every scenario of a run shares: the plan, the references, the servers and the run's directory. */
import type { Plan } from "../plan.js";
import type { References } from "../references/reference-figures.js";
import type { BenchDatabase } from "../system/bench-database.js";
import type { StackContext } from "../system/stack.js";

export interface Servers {
  readonly databaseUrl: string;
  readonly natsUrl: string;
}

export interface RunContext {
  readonly plan: Plan;
  readonly refs: References;
  /** The real PostgreSQL and NATS (DATABASE_URL, NATS_URL); undefined when not set. */
  readonly servers: Servers | undefined;
  /** Logs of every service of the run, and the embedded all-in-one's data. */
  readonly runDir: string;
  /** Node flags for every service (profiling). */
  readonly nodeFlags: readonly string[];
  /** Figures one scenario hands to another: S2e compares with S2. */
  readonly shared: { s2CommandsPerSec?: number; s2CpuUsPerCommand?: number };
  /** What was not measured as planned; the services' logs of the run are kept when any. */
  readonly problems: string[];
  /** The run's own database (created on first use, dropped at the end). */
  database(): Promise<BenchDatabase>;
}

/** The stack settings of a scenario that runs services on the real servers. */
export async function stackContext(ctx: RunContext): Promise<StackContext> {
  if (!ctx.servers) throw new Error("DATABASE_URL and NATS_URL are required");
  const db = await ctx.database();
  return { databaseUrl: db.url, natsUrl: ctx.servers.natsUrl, logDir: ctx.runDir, nodeFlags: ctx.nodeFlags };
}

/** A vehicle index range no one else on a shared NATS server uses (their subjects would collide). */
export function uniqueFirstIndex(count: number): number {
  return 1_000_000 + Math.floor(Math.random() * (900_000_000 - count));
}

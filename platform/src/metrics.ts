import { collectDefaultMetrics, Counter, Registry } from "prom-client";
import { poolStatements, type Pool } from "./db/database.js";

export { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * A fresh registry with the process defaults. Each service owns one, so the all-in-one
 * process still exposes each service's metrics on that service's own `/metrics`.
 */
export function createMetricsRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters fail `promtool check metrics`; the per-type gauges without
  // the suffix (nodejs_active_handles{type}, ...) carry the same information.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    registry.removeSingleMetric(name);
  }
  return registry;
}

/** Buckets for command durations (submit to terminal), 50 ms to 2 min. */
export const COMMAND_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120];

/**
 * `database_statements_total`: the statements this service sent on `pool`. With the commits
 * of pg_stat_database it says what a command costs the database, without pg_stat_statements.
 */
export function registerPoolMetrics(registry: Registry, pool: Pool): void {
  let seen = 0;
  new Counter({
    name: "database_statements_total",
    help: "SQL statements this service sent to PostgreSQL.",
    registers: [registry],
    collect() {
      const now = poolStatements(pool);
      this.inc(now - seen);
      seen = now;
    },
  });
}

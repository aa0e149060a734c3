import { migrationsApplied, type Bus, type HealthCheck, type Pool } from "@sovd/platform";
import type { GatewayMetrics } from "./metrics.js";
import { isDatabaseError } from "./rpc/index.js";

/**
 * What `/health/ready` checks (docs/architecture.md §7): the database answers, the bus
 * answers, the migrations are applied. A failing database or bus check is also counted in
 * database_errors_total / bus_errors_total.
 */
export function createHealthChecks(deps: { pool: Pool; bus: Bus; metrics: GatewayMetrics }): Record<string, HealthCheck> {
  const { pool, bus, metrics } = deps;
  return {
    database: async () => {
      try {
        await pool.query("SELECT 1");
      } catch (err) {
        if (isDatabaseError(err)) metrics.databaseErrors.inc();
        throw err;
      }
    },
    bus: async () => {
      try {
        await bus.ping();
      } catch (err) {
        metrics.busErrors.inc();
        throw err;
      }
    },
    migrations: async () => {
      if (!(await migrationsApplied(pool))) throw new Error("migrations pending");
    },
  };
}

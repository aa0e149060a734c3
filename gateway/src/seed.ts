import { type Logger, type Pool } from "@sovd/platform";
import { DEVELOPMENT_USERS, SEEDED_VEHICLES, seed } from "@sovd/domain";
import type { GatewayConfig } from "./config.js";

/**
 * The users (and vehicles) a gateway's database starts with, by its configuration: in
 * development the development users and the first simulator vehicles; otherwise the
 * INITIAL_ADMIN_USERNAME admin when one is configured; else nothing. Existing users are never
 * overwritten. Runs on a migrated database, before startGateway: main.ts, the all-in-one and
 * the test stacks call it, the gateway itself does not.
 */
export async function seedGatewayDatabase(
  pool: Pool,
  config: Pick<GatewayConfig, "development" | "initialAdmin">,
  opts: { logger?: Logger } = {},
): Promise<void> {
  if (config.development) {
    await seed(pool, { users: DEVELOPMENT_USERS, vehicles: SEEDED_VEHICLES, logger: opts.logger });
  } else if (config.initialAdmin) {
    await seed(pool, { users: [{ ...config.initialAdmin, role: "admin" }], vehicles: 0, logger: opts.logger });
  }
}

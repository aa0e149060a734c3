import { ConfigError, type Logger, type Pool } from "@sovd/platform";
import { activeDevelopmentUsers, DEVELOPMENT_USERS, SEEDED_VEHICLES, seed } from "@sovd/domain";
import type { GatewayConfig } from "./config.js";

/**
 * The users (and vehicles) a gateway's database starts with, by its configuration: in
 * development the development users and the first simulator vehicles; otherwise the
 * INITIAL_ADMIN_USERNAME admin when one is configured; else nothing. Existing users are never
 * overwritten. Outside development a database whose development users still log in with
 * their published passwords is refused (ConfigError naming NODE_ENV and the users). Runs on a migrated database, before startGateway: main.ts, the all-in-one and
 * the test stacks call it, the gateway itself does not.
 */
export async function seedGatewayDatabase(
  pool: Pool,
  config: Pick<GatewayConfig, "development" | "nodeEnv" | "initialAdmin">,
  opts: { logger?: Logger } = {},
): Promise<void> {
  if (config.development) {
    await seed(pool, { users: DEVELOPMENT_USERS, vehicles: SEEDED_VEHICLES, logger: opts.logger });
    return;
  }
  const published = await activeDevelopmentUsers(pool);
  if (published.length > 0) {
    throw new ConfigError(
      `NODE_ENV=${config.nodeEnv} refuses a database whose development users still have their published passwords (${published.join(", ")}): change their passwords or deactivate them, or run with NODE_ENV=development`,
    );
  }
  if (config.initialAdmin) {
    await seed(pool, { users: [{ ...config.initialAdmin, role: "admin" }], vehicles: 0, logger: opts.logger });
  }
}

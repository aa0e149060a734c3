/**
 * What every service stands on and no service owns
 * (architecture §1 "Workspaces and dependencies"): config parsing, logging, metrics, the
 * database pool and migrations, the bus, health checks, and the identities and secrets helpers
 * shared by the fleet and the services.
 */
export * from "./config.js";
export * from "./logger.js";
export * from "./metrics.js";
export * from "./request-id.js";
export * from "./async-queue.js";
export * from "./health.js";
export * from "./fleet-identity.js";
export * from "./bus/index.js";
export * from "./db/database.js";
export * from "./db/migrate.js";
export * from "./db/embedded.js";
export * from "./infrastructure.js";
export * from "./random.js";
export * from "./shutdown.js";
export * from "./batcher.js";

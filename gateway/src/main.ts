/**
 * `npm run gateway`: the gateway alone, against real PostgreSQL and NATS (DATABASE_URL and
 * NATS_URL required, architecture §4 "Environment variables"). Applies migrations and the seed
 * data, starts, and shuts down gracefully on SIGINT/SIGTERM. A bad setting exits with code 2
 * naming the variable, as the connector does.
 */
import { ConfigError, createLogger, createMetricsRegistry, exitOnSignals, migrate, openInfrastructure } from "@sovd/platform";
import { loadGatewayProcessConfig, type GatewayProcessConfig } from "./config.js";
import { startGateway } from "./gateway.js";
import { seedGatewayDatabase } from "./seed.js";

const SHUTDOWN_LIMIT_MS = 30_000;

async function main(): Promise<void> {
  let config: GatewayProcessConfig;
  try {
    config = loadGatewayProcessConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`gateway: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ service: "gateway", level: config.logLevel, pretty: config.logPretty });
  const registry = createMetricsRegistry();
  const infra = await openInfrastructure({
    service: "gateway",
    databaseUrl: config.databaseUrl,
    natsUrl: config.natsUrl,
    logger,
    onBusStatus: (event) => logger.info({ event: event.type }, "NATS status"),
  });
  await migrate(infra.pool, { logger });
  try {
    await seedGatewayDatabase(infra.pool, config.gateway, { logger });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`gateway: ${err.message}`);
      await infra.close();
      process.exit(2);
    }
    throw err;
  }
  const gateway = await startGateway(config.gateway, { pool: infra.pool, bus: infra.bus, logger, registry });

  exitOnSignals({
    logger,
    limitMs: SHUTDOWN_LIMIT_MS,
    stop: async () => {
      await gateway.close();
      await infra.close();
    },
  });
}

main().catch((err: unknown) => {
  console.error("gateway failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});

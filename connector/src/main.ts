/**
 * `npm run connector`: the connector alone, against real PostgreSQL and NATS (DATABASE_URL and
 * NATS_URL required). Applies migrations, starts, and shuts down gracefully on SIGINT/SIGTERM
 * (a second signal stops at once).
 */
import { ConfigError, createLogger, createMetricsRegistry, exitOnSignals, migrate, openInfrastructure } from "@sovd/platform";
import { startConnector } from "./connector.js";
import { loadConnectorProcessConfig, type ConnectorProcessConfig } from "./config.js";

async function main(): Promise<void> {
  let config: ConnectorProcessConfig;
  try {
    config = loadConnectorProcessConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`connector: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ service: "connector", level: config.logLevel, pretty: config.logPretty, instance: config.connector.connectorId });
  const registry = createMetricsRegistry({ service: "connector" });
  const infra = await openInfrastructure({
    service: "connector",
    databaseUrl: config.databaseUrl,
    natsUrl: config.natsUrl,
    logger,
    onBusStatus: (event) => logger.info({ event: event.type }, "NATS status"),
  });
  await migrate(infra.pool, { logger });
  const connector = await startConnector(config.connector, { pool: infra.pool, bus: infra.bus, logger, registry });

  exitOnSignals({
    logger,
    // Longer than the drain, so in-flight commands can finish.
    limitMs: config.connector.drainTimeoutMs + 20_000,
    stop: async () => {
      await connector.close();
      await infra.close();
    },
    abort: () => connector.abort(),
  });
}

main().catch((err: unknown) => {
  console.error("connector failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});

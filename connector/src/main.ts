/**
 * `npm run connector`: the connector alone, against real PostgreSQL and NATS (DATABASE_URL and
 * NATS_URL required). Applies migrations, starts, and shuts down gracefully on SIGINT/SIGTERM
 * (a second signal stops at once).
 */
import { ConfigError, createLogger, createMetricsRegistry, migrate, openInfrastructure } from "@sovd/platform";
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

  const shutdown = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shutdown.signal.aborted) {
      logger.warn({ signal }, "second signal: stopping at once");
      void connector.abort().finally(() => process.exit(1));
      return;
    }
    logger.info({ signal }, "shutting down");
    shutdown.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  await new Promise<void>((resolve) => shutdown.signal.addEventListener("abort", () => resolve(), { once: true }));
  await connector.close();
  await infra.close();
  logger.info("bye");
}

main().catch((err: unknown) => {
  console.error("connector failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});

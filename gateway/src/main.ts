/**
 * `npm run gateway`: the gateway alone, against the PostgreSQL and NATS named by DATABASE_URL
 * and NATS_URL (architecture §4 "Environment variables"). The composition root: reads the
 * environment, opens the infrastructure, starts the gateway, and shuts it down gracefully on
 * SIGINT/SIGTERM.
 */
import { ConfigError, createLogger, createMetricsRegistry, envString, envUrl, exitOnSignals, openInfrastructure } from "@sovd/platform";
import { loadGatewayConfig } from "./config.js";
import { startGateway } from "./gateway.js";

const SHUTDOWN_LIMIT_MS = 30_000;

async function main(): Promise<void> {
  const env = process.env;
  const config = loadGatewayConfig(env);
  const databaseUrl = envUrl(env, "DATABASE_URL", ["postgres:", "postgresql:"]) ?? envString(env, "DATABASE_URL");
  const natsUrl = envUrl(env, "NATS_URL", ["nats:", "tls:", "ws:", "wss:"]) ?? envString(env, "NATS_URL");
  const logger = createLogger({ service: "gateway", level: config.logLevel, pretty: config.logPretty });
  const registry = createMetricsRegistry();
  const infra = await openInfrastructure({ service: "gateway", databaseUrl, natsUrl, logger });
  const gateway = await startGateway(config, { pool: infra.pool, bus: infra.bus, logger, registry });

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
  // A bad variable names itself; anything else at start is a short message, not a stack.
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err instanceof Error ? err.message : err);
  process.exit(1);
});

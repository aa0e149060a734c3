/**
 * `npm run fleet -- --vehicles 50`: the fleet simulator on its own, dialling the connector at
 * CONNECTOR_URL. SIGINT/SIGTERM close every link cleanly before the process exits.
 */
import { ConfigError, createLogger, exitOnSignals } from "@sovd/platform";
import { loadFleetConfig } from "./config.js";
import { startFleet } from "./fleet.js";

async function main(): Promise<void> {
  const config = loadFleetConfig(process.env, process.argv.slice(2));
  const logger = createLogger({ service: "vehicle-sim", level: config.logLevel, pretty: config.logPretty });
  const fleet = await startFleet(config, { logger });

  exitOnSignals({ logger, limitMs: 10_000, stop: () => fleet.close() });
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err);
  process.exit(1);
});

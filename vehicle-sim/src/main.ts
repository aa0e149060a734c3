/**
 * `npm run fleet -- --vehicles 50`: the fleet simulator on its own, dialling the connector at
 * CONNECTOR_URL. SIGINT/SIGTERM close every link cleanly before the process exits.
 */
import { ConfigError, createLogger } from "@sovd/platform";
import { loadFleetConfig } from "./config.js";
import { startFleet } from "./fleet.js";

async function main(): Promise<void> {
  const config = loadFleetConfig(process.env, process.argv.slice(2));
  const logger = createLogger({ service: "vehicle-sim", level: config.logLevel, pretty: config.logPretty });
  const fleet = await startFleet(config, { logger });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error("shutdown took longer than 10 s; exiting");
      process.exit(1);
    }, 10_000);
    timer.unref();
    await fleet.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err);
  process.exit(1);
});

/**
 * `npm start`: the whole system in one process on the embedded default (architecture §5 "Data").
 * PostgreSQL is PGlite served over the wire protocol (data under .data/), the bus is the
 * in-process one, and gateway, connector and a demo fleet run side by side, the vehicles
 * still dialling the connector over gRPC on loopback. With DATABASE_URL / NATS_URL set, the
 * same composition uses the real servers. This is the one place that composes all three
 * services.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createLogger,
  createMemoryBus,
  createNatsBus,
  createPool,
  envLogLevel,
  envBool,
  exitOnSignals,
  migrate,
  redactUrl,
  startEmbeddedPostgres,
  type Bus,
  type EmbeddedPostgres,
  type Env,
} from "@sovd/platform";
import { loadConnectorConfig, startConnector } from "@sovd/connector";
import { loadGatewayConfig, seedGatewayDatabase, startGateway } from "@sovd/gateway";
import { loadFleetConfig, startFleet } from "@sovd/vehicle-sim";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The demo's defaults: development mode and the fault rates of a bad cellular network. */
const DEMO_DEFAULTS: Env = {
  NODE_ENV: "development",
  FAULT_TIMEOUT_RATE: "0.10",
  FAULT_UNREACHABLE_RATE: "0.05",
  FAULT_MALFORMED_RATE: "0.03",
  FLEET_SIZE: "5",
};

async function main(): Promise<void> {
  const env: Env = { ...DEMO_DEFAULTS, ...process.env };
  const logOptions = { level: envLogLevel(env), pretty: envBool(env, "LOG_PRETTY", false) };
  const logger = createLogger({ service: "all-in-one", ...logOptions });
  const serviceLogger = (service: string) => createLogger({ service, ...logOptions });

  if (!env.WEB_DIST_DIR && !existsSync(join(root, "web", "dist", "index.html"))) {
    logger.info("building the web app once (web/dist is missing)");
    const built = spawnSync("npm", ["run", "build", "-w", "web"], { cwd: root, stdio: "inherit" });
    if (built.status !== 0) throw new Error("building the web app failed (npm run build -w web)");
  }

  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    // DATA_DIR moves the embedded database (default .data/ in the repository).
    embedded = await startEmbeddedPostgres({ dataDir: join(env.DATA_DIR ?? join(root, ".data"), "pglite"), logger });
    databaseUrl = embedded.url;
  }
  // PGlite is one session: the whole process shares one pool of one connection.
  const pool = createPool({ url: databaseUrl, max: embedded ? 1 : 10, logger, applicationName: "sovd-all-in-one" });
  const bus: Bus = env.NATS_URL ? await createNatsBus({ url: env.NATS_URL, name: "sovd-all-in-one" }) : createMemoryBus();
  const gatewayConfig = loadGatewayConfig(env);
  await migrate(pool, { logger });
  await seedGatewayDatabase(pool, gatewayConfig, { logger });

  const connectorConfig = loadConnectorConfig(env);
  const connector = await startConnector(connectorConfig, { pool, bus, logger: serviceLogger("connector") });
  const gateway = await startGateway(gatewayConfig, { pool, bus, logger: serviceLogger("gateway") });
  const fleetConfig = loadFleetConfig({ ...env, CONNECTOR_URL: `127.0.0.1:${connector.grpcPort}` }, process.argv.slice(2));
  const fleet = await startFleet(fleetConfig, { logger: serviceLogger("vehicle-sim") });

  const url = `http://localhost:${gateway.port}`;
  console.log(
    [
      "",
      `  SOVD Fleet Gateway is running (${embedded ? "embedded PostgreSQL" : redactUrl(databaseUrl)}, ${bus.kind === "memory" ? "in-process bus" : "NATS"})`,
      "",
      `  Web app           ${url}   (engineer / engineer123, admin / admin123, viewer / viewer123)`,
      `  Connect API       ${url}/sovd.v1.CommandService/...   (gRPC: h2c on the same port)`,
      `  WebSocket bridge  ws://localhost:${gateway.port}/ws/responses/{command_id}?token=...`,
      `  Gateway ops       ${url}/metrics  ${url}/health/ready`,
      `  Connector         gRPC 127.0.0.1:${connector.grpcPort}, ops http://localhost:${connector.httpPort}/metrics`,
      `  Demo fleet        ${fleetConfig.vehicles} simulated vehicles`,
      "",
      "  Ctrl+C stops everything.",
      "",
    ].join("\n"),
  );

  exitOnSignals({
    logger,
    limitMs: 15_000,
    stop: async () => {
      await fleet.close();
      await gateway.close();
      await connector.close();
      await bus.close();
      await pool.end();
      await embedded?.close();
    },
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

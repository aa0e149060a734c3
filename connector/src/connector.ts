import { startSweeper } from "@sovd/domain";
import { startVehicleLinkServer } from "@sovd/link";
import { createMetricsRegistry, registerPoolMetrics, startOpsServer, type Bus, type Logger, type Pool, type Registry } from "@sovd/platform";
import { createCommandEngine } from "./commands/command-engine.js";
import type { ConnectorConfig } from "./config.js";
import { createFaultInjector } from "./faults.js";
import { createConnectorMetrics } from "./metrics.js";
import { createSessionManager } from "./sessions/session-manager.js";

/** What startConnector needs from outside; main.ts, `npm start` and tests pass it in. */
export interface ConnectorDeps {
  pool: Pool;
  bus: Bus;
  logger: Logger;
  /** Where the metrics go; a fresh registry (served on the ops port) when absent. */
  registry?: Registry;
}

/** A running connector. */
export interface Connector {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly registry: Registry;
  /** Vehicle sessions held now. */
  sessionCount(): number;
  /** Commands running on this connector now. */
  inFlightCount(): number;
  /**
   * Graceful shutdown: stop taking streams and dispatches, let in-flight commands finish for
   * up to DRAIN_TIMEOUT_MS, fail the rest ("Vehicle unreachable"), close the sessions
   * (vehicles go offline where the session is still theirs), stop the sweep, close servers.
   */
  close(): Promise<void>;
  /**
   * Stops at once and writes nothing: what a killed process leaves behind (its commands stay
   * open until some connector's sweep fails them by their deadline). For a second signal
   * during shutdown, and for tests of exactly that.
   */
  abort(): Promise<void>;
}

/**
 * Starts the connector (architecture §1 "Workspaces and dependencies"): the gRPC server
 * vehicles dial, the session and command lifecycle, the deadline sweep and the ops HTTP
 * server. Importing this module starts nothing.
 */
export async function startConnector(config: ConnectorConfig, deps: ConnectorDeps): Promise<Connector> {
  const logger = deps.logger.child({ connectorId: config.connectorId });
  const registry = deps.registry ?? createMetricsRegistry({ service: "connector" });
  const metrics = createConnectorMetrics(registry);
  registerPoolMetrics(registry, deps.pool);
  const commands = createCommandEngine({
    pool: deps.pool,
    bus: deps.bus,
    logger,
    metrics,
    faults: createFaultInjector(config.faultRates, config.faultSeed),
  });
  const sessions = createSessionManager({
    pool: deps.pool,
    bus: deps.bus,
    logger,
    metrics,
    commands,
    vehicleTokenSecret: config.vehicleTokenSecret,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    helloTimeoutMs: config.helloTimeoutMs,
    connectorId: config.connectorId,
  });
  const sweeper = startSweeper({
    pool: deps.pool,
    ender: commands.ender,
    logger,
    intervalMs: config.sweepIntervalMs,
    onSwept(swept) {
      metrics.commandSweeps.inc(swept.length);
      commands.forget(swept.map((s) => s.row.command_id));
    },
    onError: () => metrics.databaseErrors.inc(),
  });

  let link;
  let ops;
  try {
    await sessions.start();
    link = await startVehicleLinkServer({
      host: config.host,
      port: config.grpcPort,
      onLink: sessions.handle,
      onError: (err) => logger.error({ err }, "vehicle stream failed"),
    });
    ops = await startOpsServer({
      host: config.host,
      port: config.httpPort,
      registry,
      checks: { database: () => deps.pool.query("SELECT 1"), bus: () => deps.bus.ping() },
    });
  } catch (err) {
    link?.forceClose();
    await sweeper.stop();
    await sessions.abort();
    throw err;
  }
  const linkServer = link;
  const opsServer = ops;
  logger.info(
    { grpcPort: linkServer.port, httpPort: opsServer.port, faultRates: config.faultRates, faultSeed: config.faultSeed },
    "connector started",
  );

  let closing: Promise<void> | undefined;
  let aborting: Promise<void> | undefined;
  return {
    grpcPort: linkServer.port,
    httpPort: opsServer.port,
    registry,
    sessionCount: () => sessions.count(),
    inFlightCount: () => commands.inFlightCount(),
    close() {
      closing ??= (async () => {
        logger.info({ inFlight: commands.inFlightCount(), sessions: sessions.count() }, "connector draining");
        linkServer.stopAccepting();
        commands.stopAccepting();
        sessions.stopDispatch();
        const idle = await commands.whenIdle(config.drainTimeoutMs);
        if (!idle) {
          logger.warn({ inFlight: commands.inFlightCount() }, "drain timeout: failing the commands still in flight");
          await commands.failAll();
        }
        await sessions.closeAll();
        await commands.settle();
        await sweeper.stop();
        await linkServer.close(1000);
        await opsServer.close();
        logger.info("connector stopped");
      })();
      return closing;
    },
    abort() {
      aborting ??= (async () => {
        linkServer.stopAccepting();
        commands.abandon();
        await sweeper.stop();
        await sessions.abort();
        linkServer.forceClose();
        await opsServer.close();
        logger.warn("connector aborted");
      })();
      closing ??= aborting;
      return aborting;
    },
  };
}

import { setMaxListeners } from "node:events";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createCommandEnder, startSweeper } from "@sovd/domain";
import { createMetricsRegistry, registerPoolMetrics, type Bus, type Logger, type Pool, type Registry } from "@sovd/platform";
import { createAuditService } from "./audit/index.js";
import { createAuth } from "./auth/index.js";
import { createCircuitBreakers } from "./commands/circuit-breaker.js";
import { createCommandService } from "./commands/command-service.js";
import { createDispatcher } from "./commands/dispatcher.js";
import { createCommandEventHub, withLocalCommandEvents } from "./commands/event-hub.js";
import type { GatewayConfig } from "./config.js";
import { createHealthChecks } from "./health-checks.js";
import { createHttpHandlers, createWebAppFallback, rpcContextValues, startDualProtocolServer } from "./http/index.js";
import { createGatewayMetrics } from "./metrics.js";
import { createErrorInterceptor, createMetricsInterceptor, routes } from "./rpc/index.js";
import { createVehicleService } from "./vehicles/index.js";
import { createWsBridge } from "./ws/index.js";

/** What startGateway needs from outside; main.ts (or a test, or the all-in-one) opens it and closes it. */
export interface GatewayDeps {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Where the gateway's metrics go; a fresh registry (with process defaults) when absent. */
  readonly registry?: Registry;
}

/** A running gateway. */
export interface Gateway {
  /** The port it listens on (the real one when configured with 0). */
  readonly port: number;
  /** The registry its metrics are in (the one given in deps, or its own). */
  readonly registry: Registry;
  /** Watch streams (WatchCommand and WebSocket subscriptions) registered now: 0 once every watcher is gone. */
  watcherCount(): number;
  /** Graceful shutdown: stop accepting, end streams and WebSockets (1001), drain dispatches, close. The pool and bus stay open. */
  close(): Promise<void>;
}

/**
 * Starts the gateway on a migrated database (main.ts, the all-in-one and the tests migrate
 * and seed before): ONE port serving Connect, gRPC and gRPC-Web (HTTP/1.1 and cleartext
 * HTTP/2), the WebSocket bridge, the web app, `/health/*` and `/metrics`
 * (architecture §7 "Gateway HTTP"). This is the composition root; importing the module starts nothing.
 */
export async function startGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const { pool, bus, logger } = deps;
  const registry = deps.registry ?? createMetricsRegistry();
  const metrics = createGatewayMetrics(registry);
  registerPoolMetrics(registry, pool);
  const countPoolError = (): void => metrics.databaseErrors.inc();
  pool.on("error", countPoolError);
  const shutdown = new AbortController();
  // Every open watch stream listens on it (AbortSignal.any): no listener limit, it is not a leak.
  setMaxListeners(0, shutdown.signal);

  const auth = createAuth(config.auth, { pool, logger, registry });
  const breakers = createCircuitBreakers({
    failureThreshold: config.breaker.failureThreshold,
    cooldownMs: config.breaker.cooldownMs,
    onOpenCountChange: (open) => metrics.circuitBreakersOpen.set(open),
  });
  const events = await createCommandEventHub({ bus, logger, onBusError: () => metrics.busErrors.inc() });
  // What this gateway ends itself reaches its own watchers even while NATS is away.
  const commandBus = withLocalCommandEvents(bus, events);
  const ender = createCommandEnder({ db: pool, bus: commandBus, logger, metrics: metrics.commands, onBusError: () => metrics.busErrors.inc() });
  const dispatcher = createDispatcher({ pool, bus: commandBus, logger, metrics, breakers, ender, config: config.dispatch });
  // Commands past their deadline end even while no connector runs (one killed, all restarting).
  const sweeper = startSweeper({
    pool,
    ender,
    logger,
    intervalMs: config.sweepIntervalMs,
    onSwept: (swept) => {
      for (const s of swept) dispatcher.stop(s.row.command_id);
    },
    onError: () => metrics.databaseErrors.inc(),
  });
  const commands = createCommandService({
    pool,
    bus,
    events,
    ender,
    logger,
    metrics,
    dispatcher,
    timeouts: config.commandTimeouts,
    limits: config.limits,
    shutdownSignal: shutdown.signal,
  });
  const vehicles = createVehicleService({ pool, bus, logger, active: metrics.watchStreamsActive, shutdownSignal: shutdown.signal });
  const wsBridge = createWsBridge({ pool, events, logger, metrics, authenticate: auth.authenticateStream, config: config.ws, allowedOrigins: config.corsOrigins });

  const rpc = connectNodeAdapter({
    routes: routes({ auth: auth.authService, audit: createAuditService({ pool }), vehicles, commands }),
    // Outermost first: metrics see the final code; domain errors are mapped outside auth.
    interceptors: [createMetricsInterceptor(metrics), createErrorInterceptor({ logger, metrics }), auth.interceptor],
    readMaxBytes: config.readMaxBytes,
    shutdownSignal: shutdown.signal,
    contextValues: rpcContextValues({ trustProxy: config.trustProxy }),
    fallback: createWebAppFallback(config.webDistDir, logger),
  });
  const server = await startDualProtocolServer({
    port: config.port,
    host: config.host,
    ...createHttpHandlers({
      rpc,
      corsOrigins: config.corsOrigins,
      ops: { checks: createHealthChecks({ pool, bus, metrics }), registry },
      upgrade: (req, socket, head) => wsBridge.handleUpgrade(req, socket, head),
      logger,
    }),
  });
  logger.info(
    { port: server.port, development: config.development, corsOrigins: config.corsOrigins, webDistDir: config.webDistDir },
    "gateway listening (Connect, gRPC, gRPC-Web, WebSocket bridge)",
  );

  let closing: Promise<void> | undefined;
  return {
    port: server.port,
    registry,
    watcherCount: () => events.watcherCount(),
    close() {
      closing ??= (async () => {
        logger.info("gateway shutting down");
        shutdown.abort();
        const serverClosed = server.close(config.shutdownGraceMs);
        await wsBridge.close();
        await dispatcher.close();
        await sweeper.stop();
        await serverClosed;
        events.close();
        await auth.close();
        pool.off("error", countPoolError);
        logger.info("gateway stopped");
      })();
      return closing;
    },
  };
}

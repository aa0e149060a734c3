import { setMaxListeners } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { createContextValues, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  createMetricsRegistry,
  DEVELOPMENT_USERS,
  migrate,
  migrationsApplied,
  REQUEST_ID_HEADER,
  requestIdFrom,
  SEEDED_VEHICLES,
  seed,
  serveOpsEndpoint,
  type Bus,
  type HealthCheck,
  type Logger,
  type Pool,
  type Registry,
} from "@sovd/platform";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";
import { createAuditService } from "./audit/index.js";
import { createAuth } from "./auth/index.js";
import { createCircuitBreakers } from "./commands/circuit-breaker.js";
import { createCommandService } from "./commands/command-service.js";
import { createDispatcher } from "./commands/dispatcher.js";
import type { GatewayConfig } from "./config.js";
import { createGatewayMetrics } from "./metrics.js";
import { clientInfoKey } from "./request-context.js";
import { applyCors, createStaticHandler, securityHeaders, startDualProtocolServer } from "./http/index.js";
import { createErrorInterceptor, createMetricsInterceptor, isDatabaseError } from "./rpc/index.js";
import { safeHost, streamOriginFrom, streamOriginKey } from "./stream-origin.js";
import { createVehicleService } from "./vehicles/vehicle-service.js";
import { createWsBridge } from "./ws/ws-bridge.js";

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
  readonly registry: Registry;
  /** Graceful shutdown: stop accepting, end streams and WebSockets (1001), drain dispatches, close. The pool and bus stay open. */
  close(): Promise<void>;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

const hostOf = (req: AnyRequest): string => safeHost((req.headers[":authority"] as string | undefined) ?? req.headers.host);
const firstHeader = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

async function currentSchema(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ schema: string }>("SELECT current_schema() AS schema");
  return rows[0]!.schema;
}

/**
 * Starts the gateway (ARCHITECTURE §2): migrations and seed data, then ONE port serving
 * Connect, gRPC and gRPC-Web (HTTP/1.1 and cleartext HTTP/2), the WebSocket bridge, the web
 * app, `/health/*` and `/metrics`. Importing this module starts nothing.
 */
export async function startGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const { pool, bus } = deps;
  const logger = deps.logger;
  const registry = deps.registry ?? createMetricsRegistry();

  // Migrate in the schema the pool works in (tests give each stack its own schema).
  const schema = await currentSchema(pool);
  await migrate(pool, { schema: schema === "public" ? undefined : schema, logger });
  if (config.development) {
    await seed(pool, { users: DEVELOPMENT_USERS, vehicles: SEEDED_VEHICLES, logger });
  } else if (config.initialAdmin) {
    await seed(pool, { users: [{ ...config.initialAdmin, role: "admin" }], vehicles: 0, logger });
  }

  const metrics = createGatewayMetrics(registry);
  const countPoolError = (): void => metrics.databaseErrors.inc();
  pool.on("error", countPoolError);
  const shutdown = new AbortController();
  // Every open watch stream listens on it (AbortSignal.any): no listener limit, it is not a leak.
  setMaxListeners(0, shutdown.signal);
  const auth = createAuth(config.auth, { pool, logger, registry });
  const auditService = createAuditService({ pool });
  const breakers = createCircuitBreakers({
    failureThreshold: config.breaker.failureThreshold,
    cooldownMs: config.breaker.cooldownMs,
    onOpenCountChange: (open) => metrics.circuitBreakersOpen.set(open),
  });
  const dispatcher = createDispatcher({ pool, bus, logger, metrics, breakers, config: config.dispatch });
  const commandService = createCommandService({
    pool,
    bus,
    logger,
    metrics,
    dispatcher,
    timeouts: config.commandTimeouts,
    limits: config.limits,
    shutdownSignal: shutdown.signal,
  });
  const vehicleService = createVehicleService({ pool, bus, logger, active: metrics.watchStreamsActive, shutdownSignal: shutdown.signal });
  const wsBridge = createWsBridge({ pool, bus, logger, metrics, authenticate: auth.authenticateStream, config: config.ws });
  const serveStatic = createStaticHandler(config.webDistDir);
  const corsOrigins = new Set(config.corsOrigins);

  const checks: Record<string, HealthCheck> = {
    database: async () => {
      try {
        await pool.query("SELECT 1");
      } catch (err) {
        if (isDatabaseError(err)) metrics.databaseErrors.inc();
        throw err;
      }
    },
    bus: async () => {
      try {
        await bus.ping();
      } catch (err) {
        metrics.busErrors.inc();
        throw err;
      }
    },
    migrations: async () => {
      if (!(await migrationsApplied(pool))) throw new Error("migrations pending");
    },
  };

  const rpc = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      router.service(AuthService, auth.authService);
      router.service(AuditService, auditService);
      router.service(VehicleService, vehicleService);
      router.service(CommandService, commandService);
    },
    interceptors: [createMetricsInterceptor(metrics), createErrorInterceptor({ logger, metrics }), auth.interceptor],
    readMaxBytes: config.readMaxBytes,
    shutdownSignal: shutdown.signal,
    contextValues: (req) => {
      const forwarded = config.trustProxy ? firstHeader(req.headers["x-forwarded-for"])?.split(",")[0]?.trim() : undefined;
      const secure =
        (req.socket as { encrypted?: boolean }).encrypted === true ||
        (config.trustProxy && firstHeader(req.headers["x-forwarded-proto"]) === "https");
      return createContextValues()
        .set(clientInfoKey, {
          ipAddress: forwarded || req.socket.remoteAddress || "unknown",
          userAgent: (firstHeader(req.headers["user-agent"]) ?? "").slice(0, 512),
          requestId: firstHeader(req.headers[REQUEST_ID_HEADER]) ?? requestIdFrom(undefined),
        })
        .set(streamOriginKey, streamOriginFrom(hostOf(req), secure));
    },
    fallback: (req, res) => {
      if (req.httpVersionMajor === 2) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found");
        return;
      }
      serveStatic(req as IncomingMessage, res as ServerResponse).catch((err: unknown) => {
        logger.error({ err }, "serving a static file failed");
        res.destroy();
      });
    },
  });

  /** What every response gets: its request id (the caller's if sane) and the security headers. */
  const prepare = (req: AnyRequest, res: AnyResponse): void => {
    const requestId = requestIdFrom(firstHeader(req.headers[REQUEST_ID_HEADER]));
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    for (const [name, value] of Object.entries(securityHeaders(hostOf(req)))) res.setHeader(name, value as string);
  };

  const server = await startDualProtocolServer({
    port: config.port,
    host: config.host,
    http1: (req, res) => {
      prepare(req, res);
      if (applyCors(req, res, corsOrigins)) return;
      const path = (req.url ?? "/").split("?")[0]!;
      if (path.startsWith("/health/") || path === "/metrics") {
        serveOpsEndpoint(req, res, { checks, registry })
          .then((handled) => {
            if (!handled) res.writeHead(404, { "content-type": "text/plain" }).end("not found");
          })
          .catch((err: unknown) => {
            logger.error({ err }, "ops endpoint failed");
            if (!res.headersSent) res.writeHead(500).end();
          });
        return;
      }
      rpc(req, res);
    },
    http2: (req, res) => {
      prepare(req, res);
      rpc(req, res);
    },
    upgrade: (req, socket, head) => {
      if (!wsBridge.handleUpgrade(req, socket, head)) socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    },
  });
  logger.info(
    { port: server.port, development: config.development, corsOrigins: config.corsOrigins, webDistDir: config.webDistDir },
    "gateway listening (Connect, gRPC, gRPC-Web, WebSocket bridge)",
  );

  let closing: Promise<void> | undefined;
  return {
    port: server.port,
    registry,
    close() {
      closing ??= (async () => {
        logger.info("gateway shutting down");
        shutdown.abort();
        const serverClosed = server.close(config.shutdownGraceMs);
        await wsBridge.close();
        await dispatcher.close();
        await serverClosed;
        await auth.close();
        pool.off("error", countPoolError);
        logger.info("gateway stopped");
      })();
      return closing;
    },
  };
}

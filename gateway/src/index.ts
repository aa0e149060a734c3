/**
 * The gateway (architecture §1 "Workspaces and dependencies"): Connect/gRPC API, WebSocket
 * bridge, web app, ops endpoints. `startGateway(loadGatewayConfig(env), { pool, bus, logger })` is the one way to
 * run it, from `main.ts`, the all-in-one `npm start` and the tests alike; each of them first
 * migrates the database and calls `seedGatewayDatabase`.
 */
export { startGateway, type Gateway, type GatewayDeps } from "./gateway.js";
export { seedGatewayDatabase } from "./seed.js";
export {
  loadGatewayConfig,
  loadGatewayProcessConfig,
  VITE_DEV_ORIGIN,
  type GatewayConfig,
  type GatewayProcessConfig,
} from "./config.js";
export { createGatewayMetrics, type GatewayMetrics } from "./metrics.js";
export { watchCommandEvents, type WatchDeps, type WatchOptions } from "./commands/watch.js";
export { createCircuitBreakers, type CircuitBreakers, type BreakerPermit } from "./commands/circuit-breaker.js";
export { toWsEvent, type WsServerEvent, type WsClientAction } from "./ws/index.js";
export { clientInfoKey, type ClientInfo } from "./request-context.js";
export { createAuth, loadAuthConfig, InvalidTokenError, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type Auth, type RoleName } from "./auth/index.js";
export { streamOriginKey } from "./stream-origin.js";
export { createAuditService } from "./audit/index.js";
export { createErrorInterceptor } from "./rpc/index.js";

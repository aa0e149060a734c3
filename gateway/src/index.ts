/**
 * The gateway (docs/architecture.md §1, §7): Connect/gRPC API, WebSocket bridge, web app, ops
 * endpoints. `startGateway(loadGatewayConfig(env), { pool, bus, logger })` is the one way to
 * run it, from `main.ts`, the all-in-one `npm start` and the tests alike; each of them first
 * migrates the database and calls `seedGatewayDatabase`.
 */
export { startGateway, type Gateway, type GatewayDeps } from "./gateway.js";
export { seedGatewayDatabase } from "./seed.js";
export {
  loadGatewayConfig,
  loadGatewayProcessConfig,
  DEFAULT_WEB_DIST_DIR,
  VITE_DEV_ORIGIN,
  type GatewayConfig,
  type GatewayProcessConfig,
} from "./config.js";
export { createGatewayMetrics, type GatewayMetrics } from "./metrics.js";
export { watchCommandEvents, type WatchDeps, type WatchOptions } from "./commands/watch.js";
export { createCircuitBreakers, type CircuitBreakers, type BreakerPermit } from "./commands/circuit-breaker.js";
export { WsCloseCode, toWsEvent, type WsServerEvent, type WsClientAction } from "./ws/index.js";
export { clientInfoKey, type ClientInfo } from "./request-context.js";
export { streamOriginKey } from "./stream-origin.js";

/**
 * The gateway's HTTP layer under Connect (docs/architecture.md §7): one port for HTTP/1.1
 * and cleartext HTTP/2, what each request passes before Connect (request id, security
 * headers, CORS, ops endpoints), the web app fallback and the RPC context of each call.
 */
export { startDualProtocolServer, type DualProtocolServer, type DualProtocolServerOptions } from "./dual-protocol-server.js";
export { createHttpHandlers, createWebAppFallback, type HttpHandlersDeps } from "./handlers.js";
export { hostOf, rpcContextValues } from "./request-info.js";

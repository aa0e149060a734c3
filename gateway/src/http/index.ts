/**
 * The gateway's HTTP layer under Connect (docs/architecture.md §7): one port for HTTP/1.1
 * and cleartext HTTP/2, CORS, security headers and the built web app.
 */
export { startDualProtocolServer, type DualProtocolServer, type DualProtocolServerOptions } from "./dual-protocol-server.js";
export { createStaticHandler } from "./static-files.js";
export { applyCors } from "./cors.js";
export { securityHeaders } from "./security-headers.js";

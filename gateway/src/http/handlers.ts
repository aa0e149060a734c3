import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { REQUEST_ID_HEADER, requestIdFrom, serveOpsEndpoint, type HealthCheck, type Logger, type Registry } from "@sovd/platform";
import { applyCors } from "./cors.js";
import type { DualProtocolServerOptions } from "./dual-protocol-server.js";
import { firstHeader, hostOf, type AnyRequest } from "./request-info.js";
import { securityHeaders } from "./security-headers.js";
import { createStaticHandler } from "./static-files.js";

type AnyResponse = ServerResponse | Http2ServerResponse;

/** What sits behind the one port (docs/architecture.md §7). */
export interface HttpHandlersDeps {
  /** The Connect handler (connectNodeAdapter), for both protocols. */
  readonly rpc: (req: AnyRequest, res: AnyResponse) => void;
  /** Origins allowed to call from a browser (CORS_ORIGINS). */
  readonly corsOrigins: readonly string[];
  /** `/health/*` and `/metrics`. */
  readonly ops: { readonly checks: Record<string, HealthCheck>; readonly registry: Registry };
  /** HTTP/1.1 upgrades (the WebSocket bridge); false when the path is not its own. */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  readonly logger: Logger;
}

/** What every response gets: its request id (the caller's if sane, else new) and the security headers. */
function prepare(req: AnyRequest, res: AnyResponse): void {
  const requestId = requestIdFrom(firstHeader(req.headers[REQUEST_ID_HEADER]));
  req.headers[REQUEST_ID_HEADER] = requestId;
  res.setHeader(REQUEST_ID_HEADER, requestId);
  for (const [name, value] of Object.entries(securityHeaders(hostOf(req)))) res.setHeader(name, value as string);
}

/**
 * The request handlers of the dual-protocol server. HTTP/1.1: CORS, then the ops endpoints,
 * then Connect (which falls back to the web app); HTTP/2 (gRPC with prior knowledge):
 * Connect only; upgrades go to the WebSocket bridge or are answered 404.
 */
export function createHttpHandlers(deps: HttpHandlersDeps): Pick<DualProtocolServerOptions, "http1" | "http2" | "upgrade"> {
  const { rpc, ops, logger } = deps;
  const corsOrigins = new Set(deps.corsOrigins);
  return {
    http1: (req, res) => {
      prepare(req, res);
      if (applyCors(req, res, corsOrigins)) return;
      const path = (req.url ?? "/").split("?")[0]!;
      if (path.startsWith("/health/") || path === "/metrics") {
        serveOpsEndpoint(req, res, ops)
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
      if (!deps.upgrade(req, socket, head)) socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    },
  };
}

/**
 * connectNodeAdapter's `fallback` for paths that are not an RPC: the built web app on
 * HTTP/1.1 (WEB_DIST_DIR), a plain 404 on HTTP/2, which only gRPC clients use.
 */
export function createWebAppFallback(webDistDir: string, logger: Logger): NonNullable<ConnectNodeAdapterOptions["fallback"]> {
  const serveStatic = createStaticHandler(webDistDir);
  return (req, res) => {
    if (req.httpVersionMajor === 2) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    serveStatic(req as IncomingMessage, res as ServerResponse).catch((err: unknown) => {
      logger.error({ err }, "serving a static file failed");
      res.destroy();
    });
  };
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { cors as connectCors } from "@connectrpc/connect";
import { REQUEST_ID_HEADER } from "@sovd/platform";

const ALLOWED_HEADERS = [...connectCors.allowedHeaders, "authorization", REQUEST_ID_HEADER].join(", ");
const EXPOSED_HEADERS = [...connectCors.exposedHeaders, REQUEST_ID_HEADER, "retry-after"].join(", ");
const ALLOWED_METHODS = connectCors.allowedMethods.join(", ");

/**
 * CORS limited to the configured origins (CORS_ORIGINS), with the header lists connect-es
 * publishes for its protocols. Sets the response headers for an allowed origin; answers a
 * preflight itself (204, or 403 for an origin that is not allowed). Returns true when the
 * request was a preflight and is fully answered.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowedOrigins: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
  if (origin === undefined) return false;
  res.setHeader("vary", "Origin");
  const allowed = allowedOrigins.has(origin);
  if (allowed) {
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  }
  if (!preflight) return false;
  if (!allowed) {
    res.writeHead(403, { "content-type": "text/plain" }).end("origin not allowed");
    return true;
  }
  res.writeHead(204, {
    "access-control-allow-methods": ALLOWED_METHODS,
    "access-control-allow-headers": ALLOWED_HEADERS,
    "access-control-max-age": "7200",
  });
  res.end();
  return true;
}

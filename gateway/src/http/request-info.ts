import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { createContextValues, type ContextValues } from "@connectrpc/connect";
import { REQUEST_ID_HEADER, requestIdFrom } from "@sovd/platform";
import { clientInfoKey } from "../request-context.js";
import { safeHost, streamOriginFrom, streamOriginKey } from "../stream-origin.js";

/** A request of either side of the dual-protocol server. */
export type AnyRequest = IncomingMessage | Http2ServerRequest;

/** The first value of a header that may be repeated. */
export const firstHeader = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The (sanitized) host a request came to: HTTP/2 `:authority`, else `Host`. */
export const hostOf = (req: AnyRequest): string => safeHost((req.headers[":authority"] as string | undefined) ?? req.headers.host);

/**
 * connectNodeAdapter's `contextValues`: who is calling from where (clientInfoKey) and the
 * WebSocket origin they reached (streamOriginKey), for every Connect call. X-Forwarded-For and
 * X-Forwarded-Proto count only with `trustProxy` (TRUST_PROXY, behind a proxy that sets them).
 */
export function rpcContextValues(opts: { trustProxy: boolean }): (req: AnyRequest) => ContextValues {
  return (req) => {
    const forwarded = opts.trustProxy ? firstHeader(req.headers["x-forwarded-for"])?.split(",")[0]?.trim() : undefined;
    const secure =
      (req.socket as { encrypted?: boolean }).encrypted === true || (opts.trustProxy && firstHeader(req.headers["x-forwarded-proto"]) === "https");
    return createContextValues()
      .set(clientInfoKey, {
        ipAddress: forwarded || req.socket.remoteAddress || "unknown",
        userAgent: (firstHeader(req.headers["user-agent"]) ?? "").slice(0, 512),
        requestId: firstHeader(req.headers[REQUEST_ID_HEADER]) ?? requestIdFrom(undefined),
      })
      .set(streamOriginKey, streamOriginFrom(hostOf(req), secure));
  };
}

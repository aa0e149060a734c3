import { createContextKey } from "@connectrpc/connect";

/**
 * The public origin of this gateway as the caller reached it (`ws://host:port`, or `wss://`
 * over TLS or, with TRUST_PROXY, behind a proxy that sends `x-forwarded-proto: https`). SubmitCommand builds `stream_url` from it, so an
 * existing WebSocket client connects back to the address it already used.
 */
export const streamOriginKey = createContextKey<string>("ws://localhost", { description: "WebSocket origin of this gateway" });

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** A request's Host (or HTTP/2 `:authority`) if it is a plain host[:port]; "localhost" otherwise. */
export const safeHost = (host: string | undefined): string => (host && HOST.test(host) ? host : "localhost");

/**
 * The WebSocket origin from a request's Host (or HTTP/2 `:authority`) and protocol. A host
 * that is not a plain host[:port] is replaced by localhost: a header never injects into a URL.
 */
export function streamOriginFrom(host: string | undefined, secure: boolean): string {
  return `${secure ? "wss" : "ws"}://${safeHost(host)}`;
}

/** `stream_url` of a command: the WebSocket bridge address (architecture §4 "WebSocket messages"). */
export const streamUrl = (origin: string, commandId: string): string => `${origin}/ws/responses/${commandId}`;

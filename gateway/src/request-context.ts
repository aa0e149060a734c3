import { createContextKey } from "@connectrpc/connect";

/** Who is calling from where, for audit rows, rate limits and log lines. */
export interface ClientInfo {
  readonly ipAddress: string;
  readonly userAgent: string;
  /** The caller's x-request-id, or a fresh one; returned in the response header. */
  readonly requestId: string;
}

/**
 * Set by the gateway's HTTP layer for every Connect call (connectNodeAdapter `contextValues`),
 * read by interceptors and handlers.
 */
export const clientInfoKey = createContextKey<ClientInfo>(
  { ipAddress: "unknown", userAgent: "", requestId: "" },
  { description: "client address, user agent and request id" },
);

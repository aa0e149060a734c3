import { randomUUID } from "node:crypto";

/** Header name of the request id, on HTTP, gRPC metadata and NATS (architecture §8 "Observability"). */
export const REQUEST_ID_HEADER = "x-request-id";

/**
 * Keeps a caller's request id when it is sane (printable, at most 128 chars), so a client
 * can correlate; otherwise mints a new one. Never lets a header inject into logs.
 */
export function requestIdFrom(value: string | null | undefined): string {
  if (value && /^[A-Za-z0-9._:-]{1,128}$/.test(value)) return value;
  return randomUUID();
}

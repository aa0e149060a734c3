import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@sovd/platform";

/**
 * The one way an unexpected failure leaves an auth or audit handler (STYLE "Errors"): an
 * expected ConnectError passes as is; anything else (a database error, a bug) is logged with
 * its cause and becomes a bare `internal`, so no SQL, hash or stack trace reaches a client.
 */
export function toConnectError(err: unknown, logger: Logger, context: Record<string, unknown>): ConnectError {
  if (err instanceof ConnectError) return err;
  logger.error({ err, ...context }, "request failed");
  return new ConnectError("internal error", Code.Internal);
}

/** Wraps a unary handler with toConnectError. */
export function guarded<A extends unknown[], R>(
  logger: Logger,
  rpc: string,
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (err) {
      throw toConnectError(err, logger, { rpc });
    }
  };
}

import type { Logger } from "@sovd/platform";
import { toConnectError } from "../rpc/index.js";

/**
 * Wraps a unary auth/audit handler with the gateway's error mapping (errors.ts), so the
 * handler answers only Connect codes even where it is mounted without the gateway's error
 * interceptor (tests on the in-memory tier): never SQL, a hash or a stack trace.
 */
export function guarded<A extends unknown[], R>(
  logger: Logger,
  rpc: string,
  handler: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (err) {
      throw toConnectError(err, logger.child({ rpc }));
    }
  };
}

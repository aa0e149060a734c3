import { Code, ConnectError } from "@connectrpc/connect";
import { BusClosedError, type Logger } from "@sovd/platform";
import { CatalogValidationError } from "@sovd/proto";

/**
 * Domain failures of the gateway and the one place they become Connect codes. Handlers (and
 * the validators they call) throw these classes, never a ConnectError; `toConnectError` maps
 * them at the RPC edge (createErrorInterceptor, for every route); anything else is logged
 * with the request id and answered as `internal` with a generic message.
 */

/** Something the caller may not see or that does not exist: both answer the same, so ids reveal nothing. */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
  constructor(readonly what: string) {
    super(`${what} not found`);
  }
}

/** A request field is wrong; the message starts with the field name. */
export class InvalidArgumentError extends Error {
  override readonly name = "InvalidArgumentError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The command is in a state that does not allow the operation (e.g. cancelling a finished command). */
export class FailedPreconditionError extends Error {
  override readonly name = "FailedPreconditionError";
}

/** The caller is not (or no longer) authenticated; the message is the one the client sees. */
export class UnauthenticatedError extends Error {
  override readonly name = "UnauthenticatedError";
}

/** The caller is authenticated but their role does not allow the operation. */
export class PermissionDeniedError extends Error {
  override readonly name = "PermissionDeniedError";
}

/** The gateway is shutting down and takes no new work. */
export class ShuttingDownError extends Error {
  override readonly name = "ShuttingDownError";
  constructor(message = "gateway is shutting down, retry on another instance") {
    super(message);
  }
}

/**
 * An error and its causes, outermost first, walked along `cause` as connect-node's
 * node-error.ts does (a wrapper such as pg-pool's connection timeout keeps the driver's
 * error as its cause).
 */
function causeChain(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = err; e instanceof Error && !chain.includes(e); e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

// A server error is pg's DatabaseError (pg-protocol): a five-character SQLSTATE `code` and a
// `severity`. The code alone is not enough: a Node error code can also be five capitals (EPIPE).
const SQLSTATE = /^[0-9A-Z]{5}$/;
const isServerError = (e: Error): boolean => {
  const { code, severity } = e as { code?: unknown; severity?: unknown };
  return typeof code === "string" && SQLSTATE.test(code) && typeof severity === "string";
};

// Node's socket errors (`code` set by libuv/dns): the database cannot be reached or the
// connection broke. The only raw sockets behind a handler are pg's; NATS failures reach the
// gateway as the Bus's own errors.
const SOCKET_FAILURES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
const isSocketFailure = (e: Error): boolean => {
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && SOCKET_FAILURES.has(code);
};

// pg 8 and pg-pool 3 report these connection failures as a bare `new Error(text)`: no code,
// no class of their own (pg-pool's "timeout exceeded when trying to connect" has not even a
// cause), so the fixed text is all there is. They are compared whole, and only on a plain
// Error without a code, so no other message that merely mentions them matches.
const DRIVER_CONNECTION_FAILURES: ReadonlySet<string> = new Set([
  "timeout exceeded when trying to connect", // pg-pool: no pooled client within connectionTimeoutMillis
  "Connection terminated due to connection timeout", // pg-pool: a new connection took too long (cause: pg's error)
  "Connection terminated unexpectedly", // pg: the server or the network closed the connection
  "Connection terminated", // pg: the connection closed while the client was ending
  "Client has encountered a connection error and is not queryable", // pg: a query on a broken client
  "timeout expired", // pg: its own connectionTimeoutMillis timer ended the socket
]);
const isDriverConnectionFailure = (e: Error): boolean =>
  Object.getPrototypeOf(e) === Error.prototype && !("code" in e) && DRIVER_CONNECTION_FAILURES.has(e.message);

/** The SQLSTATE of a PostgreSQL server error anywhere on the cause chain; undefined when there is none. */
export function sqlState(err: unknown): string | undefined {
  const server = causeChain(err).find(isServerError);
  return server ? (server as Error & { code: string }).code : undefined;
}

/**
 * Whether `err` is a failure of the database (counted in database_errors_total, answered
 * `unavailable`): a PostgreSQL server error, a socket error of the connection, or one of the
 * driver's connection failures, anywhere along the cause chain.
 */
export function isDatabaseError(err: unknown): boolean {
  return causeChain(err).some((e) => isServerError(e) || isSocketFailure(e) || isDriverConnectionFailure(e));
}

/**
 * Whether an error is a failure of the bus itself (its connection lost or closed, anywhere on
 * the cause chain); "no responders" and a timeout are domain outcomes, not this.
 */
export const isBusError = (err: unknown): boolean => causeChain(err).some((e) => e instanceof BusClosedError);

/**
 * The Connect error a client sees for `err`. Unexpected errors are logged (with the request
 * id carried by `logger`) and reduced to a generic `internal`: never a stack trace or a
 * database message to a client.
 */
export function toConnectError(err: unknown, logger: Logger): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof NotFoundError) return new ConnectError(err.message, Code.NotFound);
  if (err instanceof InvalidArgumentError) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof CatalogValidationError) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof FailedPreconditionError) return new ConnectError(err.message, Code.FailedPrecondition);
  if (err instanceof UnauthenticatedError) return new ConnectError(err.message, Code.Unauthenticated);
  if (err instanceof PermissionDeniedError) return new ConnectError(err.message, Code.PermissionDenied);
  if (err instanceof ShuttingDownError) return new ConnectError(err.message, Code.Unavailable);
  // SQLSTATE class 22 (data exception: a NUL byte, a value out of range) is the caller's input
  // that slipped past validation, not an outage: say so instead of answering 503.
  if (sqlState(err)?.startsWith("22")) {
    logger.warn({ err }, "request value refused by the database");
    return new ConnectError("a request value is not acceptable", Code.InvalidArgument);
  }
  if (isDatabaseError(err) || isBusError(err)) {
    logger.error({ err }, "dependency failure");
    return new ConnectError("service temporarily unavailable", Code.Unavailable);
  }
  logger.error({ err }, "unexpected error");
  return new ConnectError("internal error", Code.Internal);
}

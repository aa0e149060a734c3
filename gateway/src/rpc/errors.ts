import { Code, ConnectError } from "@connectrpc/connect";
import { BusClosedError, type Logger } from "@sovd/platform";
import { CatalogValidationError } from "@sovd/proto";

/**
 * Domain failures of the gateway and the one place they become Connect codes (ARCHITECTURE
 * §4). Handlers throw these; `toConnectError` maps them at the RPC edge; anything else is
 * logged with the request id and answered as `internal` with a generic message.
 */

/** Something the caller may not see or that does not exist; ids reveal nothing (§9). */
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
  constructor() {
    super("gateway is shutting down, retry on another instance");
  }
}

/** A pg error (server-side SQLSTATE or a connection failure), counted in database_errors_total. */
export function isDatabaseError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return true;
  return /ECONNREFUSED|ECONNRESET|Connection terminated|timeout exceeded when trying to connect/i.test(err.message);
}

/** Whether an error is a failure of the bus itself (not "no responders" or a timeout, which are domain outcomes). */
export const isBusError = (err: unknown): boolean => err instanceof BusClosedError;

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
  if (isDatabaseError(err) && /^22/.test(String((err as { code?: unknown }).code))) {
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

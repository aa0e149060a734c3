import { Code, ConnectError } from "@connectrpc/connect";

/** A server-side complaint about one field of a request (`invalid_argument` names it). */
export interface FieldError {
  /** The form field it belongs to: a param name, or `vehicle`, `command`, `timeout`. */
  readonly field: string;
  readonly message: string;
}

/**
 * Finds the field an `invalid_argument` error names, so the form can show it next to that
 * field. SubmitCommand names the offending field in the message (architecture §3 "Flows",
 * Submit), in the catalog's spelling: `params.samples: must be at most 20`,
 * `vehicle_id: ...`. Returns undefined when no field is named.
 */
export function fieldErrorFrom(err: unknown): FieldError | undefined {
  const error = ConnectError.from(err);
  if (error.code !== Code.InvalidArgument) return undefined;
  const text = error.rawMessage;
  const param = /params\.([A-Za-z0-9_]+)\s*:?\s*(.*)/.exec(text);
  if (param?.[1]) return { field: param[1], message: tidy(param[2] ?? "", text) };
  const top = /\b(vehicle_id|command_name|timeout|queue_ttl|idempotency_key)\b\s*:?\s*(.*)/.exec(text);
  if (top?.[1]) {
    const field = { vehicle_id: "vehicle", command_name: "command", queue_ttl: "timeout", timeout: "timeout", idempotency_key: "command" }[top[1]];
    if (field) return { field, message: tidy(top[2] ?? "", text) };
  }
  return undefined;
}

const tidy = (rest: string, whole: string): string => (rest.trim() === "" ? whole : rest.trim());

/**
 * Words for a failed call that a user can act on. The browser gets a Connect code and a
 * message meant for developers; this maps the codes to sentences instead of showing them.
 */
export function describeRpcError(err: unknown): string {
  if (err instanceof UserFacingError) return err.message;
  const error = ConnectError.from(err);
  switch (error.code) {
    case Code.Unauthenticated:
      return "Your session has expired. Please sign in again.";
    case Code.PermissionDenied:
      return "Your role does not allow this.";
    case Code.NotFound:
      return "Not found, or not visible to you.";
    case Code.ResourceExhausted:
      return "Too many requests. Wait a minute and try again.";
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
      return error.rawMessage;
    case Code.Unavailable:
      return "The gateway cannot be reached. Check your connection and try again.";
    case Code.DeadlineExceeded:
      return "The gateway took too long to answer. Try again.";
    case Code.Canceled:
      return "The request was cancelled.";
    default:
      return "Something went wrong on the gateway. Try again; if it keeps happening, tell an administrator.";
  }
}

/** A failure found in the browser whose message is written for the user (e.g. an unknown VIN). */
export class UserFacingError extends Error {
  override readonly name: string = "UserFacingError";
}

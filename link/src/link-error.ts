import { status as GrpcStatus } from "@grpc/grpc-js";

/**
 * Why the connector ends a vehicle's stream, in the vocabulary of ARCHITECTURE §4. Each maps
 * to exactly one gRPC status (grpc status numbers equal Connect codes, but the mapping is
 * spelled out here and pinned by a table test).
 */
export type LinkErrorCode =
  | "unauthenticated"
  | "permission_denied"
  | "invalid_argument"
  | "failed_precondition"
  | "already_exists"
  | "deadline_exceeded"
  | "aborted"
  | "unavailable"
  | "internal";

const TO_GRPC: Readonly<Record<LinkErrorCode, GrpcStatus>> = {
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
  permission_denied: GrpcStatus.PERMISSION_DENIED,
  invalid_argument: GrpcStatus.INVALID_ARGUMENT,
  failed_precondition: GrpcStatus.FAILED_PRECONDITION,
  already_exists: GrpcStatus.ALREADY_EXISTS,
  deadline_exceeded: GrpcStatus.DEADLINE_EXCEEDED,
  aborted: GrpcStatus.ABORTED,
  unavailable: GrpcStatus.UNAVAILABLE,
  internal: GrpcStatus.INTERNAL,
};

/** The gRPC status a vehicle receives for a link error code. */
export const grpcStatusOf = (code: LinkErrorCode): GrpcStatus => TO_GRPC[code];

/**
 * An expected reason to end a vehicle's stream; its message is what the vehicle reads.
 * Anything else that ends a stream is reported as `internal` with a generic message.
 */
export class LinkError extends Error {
  override readonly name = "LinkError";
  constructor(
    readonly code: LinkErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The status sent for any error: a LinkError as it is, anything else as `internal` without detail. */
export function statusOfError(err: unknown): { code: GrpcStatus; details: string } {
  if (err instanceof LinkError) return { code: grpcStatusOf(err.code), details: err.message };
  return { code: GrpcStatus.INTERNAL, details: "internal error" };
}

import { status as GrpcStatus } from "@grpc/grpc-js";

/**
 * Why a vehicle link ended, in words instead of gRPC status numbers. The connector ends a
 * stream with one of these; a vehicle reads the status it receives as one of these. Each code
 * is exactly one gRPC status (grpc status numbers equal Connect codes, but the mapping is
 * spelled out here and pinned by a table test), and every non-OK gRPC status has a code, so a
 * client can name whatever the transport reports.
 */
export type LinkErrorCode =
  | "cancelled"
  | "unknown"
  | "invalid_argument"
  | "deadline_exceeded"
  | "not_found"
  | "already_exists"
  | "permission_denied"
  | "resource_exhausted"
  | "failed_precondition"
  | "aborted"
  | "out_of_range"
  | "unimplemented"
  | "internal"
  | "unavailable"
  | "data_loss"
  | "unauthenticated";

const TO_GRPC: Readonly<Record<LinkErrorCode, GrpcStatus>> = {
  cancelled: GrpcStatus.CANCELLED,
  unknown: GrpcStatus.UNKNOWN,
  invalid_argument: GrpcStatus.INVALID_ARGUMENT,
  deadline_exceeded: GrpcStatus.DEADLINE_EXCEEDED,
  not_found: GrpcStatus.NOT_FOUND,
  already_exists: GrpcStatus.ALREADY_EXISTS,
  permission_denied: GrpcStatus.PERMISSION_DENIED,
  resource_exhausted: GrpcStatus.RESOURCE_EXHAUSTED,
  failed_precondition: GrpcStatus.FAILED_PRECONDITION,
  aborted: GrpcStatus.ABORTED,
  out_of_range: GrpcStatus.OUT_OF_RANGE,
  unimplemented: GrpcStatus.UNIMPLEMENTED,
  internal: GrpcStatus.INTERNAL,
  unavailable: GrpcStatus.UNAVAILABLE,
  data_loss: GrpcStatus.DATA_LOSS,
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
};

/** The same table read backwards: the code a received gRPC status stands for. */
const FROM_GRPC: ReadonlyMap<number, LinkErrorCode> = new Map(
  (Object.entries(TO_GRPC) as Array<[LinkErrorCode, GrpcStatus]>).map(([code, grpc]) => [grpc, code]),
);

/** The gRPC status a link error code is sent as; the server side of the table. */
export const grpcStatusOf = (code: LinkErrorCode): GrpcStatus => TO_GRPC[code];

/**
 * The gRPC name of a code's status (`UNAUTHENTICATED`), so logs keep the names operators know
 * from gRPC tooling.
 */
export const grpcStatusName = (code: LinkErrorCode): string => GrpcStatus[TO_GRPC[code]];

/**
 * An expected reason to end a vehicle's stream; its message is what the other side reads.
 * On the connector anything else that ends a stream is reported as `internal` with a generic
 * message; on a vehicle every non-OK status it receives arrives as a LinkError.
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

/**
 * The client side of the table: undefined for OK, otherwise the LinkError a received status
 * stands for (a number outside the table, which gRPC reserves, reads as `unknown`).
 */
export function linkErrorOfStatus(status: { code: number; details: string }): LinkError | undefined {
  if (status.code === GrpcStatus.OK) return undefined;
  return new LinkError(FROM_GRPC.get(status.code) ?? "unknown", status.details);
}

import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { grpcStatusOf, LinkError, statusOfError, type LinkErrorCode } from "./link-error.js";

describe("link error status mapping", () => {
  const table: Array<[LinkErrorCode, number, string]> = [
    ["unauthenticated", status.UNAUTHENTICATED, "UNAUTHENTICATED"],
    ["permission_denied", status.PERMISSION_DENIED, "PERMISSION_DENIED"],
    ["invalid_argument", status.INVALID_ARGUMENT, "INVALID_ARGUMENT"],
    ["failed_precondition", status.FAILED_PRECONDITION, "FAILED_PRECONDITION"],
    ["already_exists", status.ALREADY_EXISTS, "ALREADY_EXISTS"],
    ["deadline_exceeded", status.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"],
    ["aborted", status.ABORTED, "ABORTED"],
    ["unavailable", status.UNAVAILABLE, "UNAVAILABLE"],
    ["internal", status.INTERNAL, "INTERNAL"],
  ];

  it.each(table)("%s -> gRPC %i (%s)", (code, expected, name) => {
    expect(grpcStatusOf(code)).toBe(expected);
    expect(status[expected]).toBe(name);
  });

  it("sends a LinkError's message and hides anything else behind internal", () => {
    expect(statusOfError(new LinkError("permission_denied", "hello.vehicle_id does not match the token"))).toEqual({
      code: status.PERMISSION_DENIED,
      details: "hello.vehicle_id does not match the token",
    });
    expect(statusOfError(new Error("connection refused at 10.0.0.1"))).toEqual({ code: status.INTERNAL, details: "internal error" });
  });
});

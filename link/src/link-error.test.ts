import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { grpcStatusName, grpcStatusOf, LinkError, linkErrorOfStatus, statusOfError, type LinkErrorCode } from "./link-error.js";

describe("link error status mapping", () => {
  const table: Array<[LinkErrorCode, number, string]> = [
    ["cancelled", status.CANCELLED, "CANCELLED"],
    ["unknown", status.UNKNOWN, "UNKNOWN"],
    ["invalid_argument", status.INVALID_ARGUMENT, "INVALID_ARGUMENT"],
    ["deadline_exceeded", status.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"],
    ["not_found", status.NOT_FOUND, "NOT_FOUND"],
    ["already_exists", status.ALREADY_EXISTS, "ALREADY_EXISTS"],
    ["permission_denied", status.PERMISSION_DENIED, "PERMISSION_DENIED"],
    ["resource_exhausted", status.RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"],
    ["failed_precondition", status.FAILED_PRECONDITION, "FAILED_PRECONDITION"],
    ["aborted", status.ABORTED, "ABORTED"],
    ["out_of_range", status.OUT_OF_RANGE, "OUT_OF_RANGE"],
    ["unimplemented", status.UNIMPLEMENTED, "UNIMPLEMENTED"],
    ["internal", status.INTERNAL, "INTERNAL"],
    ["unavailable", status.UNAVAILABLE, "UNAVAILABLE"],
    ["data_loss", status.DATA_LOSS, "DATA_LOSS"],
    ["unauthenticated", status.UNAUTHENTICATED, "UNAUTHENTICATED"],
  ];

  it.each(table)("%s <-> gRPC %i (%s)", (code, expected, name) => {
    expect(grpcStatusOf(code)).toBe(expected);
    expect(status[expected]).toBe(name);
    expect(grpcStatusName(code)).toBe(name);
    const received = linkErrorOfStatus({ code: expected, details: "why" });
    expect(received).toBeInstanceOf(LinkError);
    expect(received).toMatchObject({ code, message: "why" });
  });

  it("covers every non-OK gRPC status, and OK is no error", () => {
    const nonOk = Object.values(status).filter((v): v is number => typeof v === "number" && v !== status.OK);
    expect(table.map(([, n]) => n).sort((a, b) => a - b)).toEqual(nonOk.sort((a, b) => a - b));
    expect(linkErrorOfStatus({ code: status.OK, details: "OK" })).toBeUndefined();
    expect(linkErrorOfStatus({ code: 42, details: "from the future" })).toMatchObject({ code: "unknown", message: "from the future" });
  });

  it("sends a LinkError's message and hides anything else behind internal", () => {
    expect(statusOfError(new LinkError("permission_denied", "hello.vehicle_id does not match the token"))).toEqual({
      code: status.PERMISSION_DENIED,
      details: "hello.vehicle_id does not match the token",
    });
    expect(statusOfError(new Error("connection refused at 10.0.0.1"))).toEqual({ code: status.INTERNAL, details: "internal error" });
  });
});

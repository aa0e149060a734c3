import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { isUuid, optionalText, optionalUuid, requireOpaqueToken, requireString, requireText, requireUuid } from "./validate.js";

function codeAndMessage(fn: () => unknown): [Code, string] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    return [(err as ConnectError).code, (err as ConnectError).rawMessage];
  }
  throw new Error("accepted");
}

describe("validators", () => {
  it("name the field and never echo the value", () => {
    const huge = "x".repeat(10_000);
    expect(codeAndMessage(() => requireString("username", huge, 64))).toEqual([Code.InvalidArgument, "username: must be at most 64 characters"]);
    expect(codeAndMessage(() => requireString("password", "", 256))).toEqual([Code.InvalidArgument, "password: is required"]);
    expect(codeAndMessage(() => requireOpaqueToken("refresh_token", "secret value!"))).toEqual([Code.InvalidArgument, "refresh_token: is malformed"]);
    expect(codeAndMessage(() => requireUuid("command_id", "1; DROP TABLE users"))).toEqual([Code.InvalidArgument, "command_id: must be a UUID"]);
  });

  it("recognise UUIDs", () => {
    expect(isUuid("5d0e0000-0000-4000-8000-000000000001")).toBe(true);
    expect(isUuid("1; DROP TABLE commands")).toBe(false);
  });

  it("refuse control characters in text that reaches SQL", () => {
    expect(codeAndMessage(() => requireText("username", "ad\u0000min", 64))).toEqual([Code.InvalidArgument, "username: must not contain control characters"]);
    expect(codeAndMessage(() => optionalText("query", "\u001b[31m", 64))).toEqual([Code.InvalidArgument, "query: must not contain control characters"]);
    expect(optionalText("query", "", 64)).toBeUndefined();
    expect(requireText("username", "Jürgen-Ølsen", 64)).toBe("Jürgen-Ølsen");
  });

  it("accept well-formed values", () => {
    const id = "7D3B9A52-5A43-4C1E-9A59-2F1AC3E0A001";
    expect(requireUuid("command_id", id)).toBe(id.toLowerCase());
    expect(optionalUuid("user_id", "")).toBeUndefined();
    expect(requireOpaqueToken("ticket", "A".repeat(43))).toBe("A".repeat(43));
  });
});

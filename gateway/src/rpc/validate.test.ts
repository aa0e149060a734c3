import { Code } from "@connectrpc/connect";
import { createLogger } from "@sovd/platform";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, toConnectError } from "./errors.js";
import { isUuid, optionalText, optionalUuid, requireString, requireText, requireUuid } from "./validate.js";

const logger = createLogger({ service: "test", level: "silent" });

/** What a client sees for the refusal: the Connect code and message. */
function codeAndMessage(fn: () => unknown): [Code, string] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const connect = toConnectError(err, logger);
    return [connect.code, connect.rawMessage];
  }
  throw new Error("accepted");
}

describe("validators", () => {
  it("name the field and never echo the value", () => {
    const huge = "x".repeat(10_000);
    expect(codeAndMessage(() => requireString("username", huge, 64))).toEqual([Code.InvalidArgument, "username: must be at most 64 characters"]);
    expect(codeAndMessage(() => requireString("password", "", 256))).toEqual([Code.InvalidArgument, "password: is required"]);
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
  });
});

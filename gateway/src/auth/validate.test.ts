import { Code } from "@connectrpc/connect";
import { createLogger } from "@sovd/platform";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, toConnectError } from "../rpc/index.js";
import { requireOpaqueToken } from "./validate.js";

const logger = createLogger({ service: "test", level: "silent" });

describe("credential validators", () => {
  it("refuse a malformed opaque token without echoing it", () => {
    let err: unknown;
    try {
      requireOpaqueToken("refresh_token", "secret value!");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const connect = toConnectError(err, logger);
    expect([connect.code, connect.rawMessage]).toEqual([Code.InvalidArgument, "refresh_token: is malformed"]);
  });

  it("accept a token as this gateway mints them", () => {
    expect(requireOpaqueToken("ticket", "A".repeat(43))).toBe("A".repeat(43));
  });
});

import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./rpc/index.js";
import { decodePageToken, encodePageToken, pageSize } from "./paging.js";

describe("page tokens", () => {
  it("round-trip the sort key of the last row", () => {
    const token = encodePageToken("c", [1_700_000_000_123_456, "5d0e0000-0000-4000-8000-000000000001"]);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, "c", ["n", "s"])).toEqual([1_700_000_000_123_456, "5d0e0000-0000-4000-8000-000000000001"]);
  });

  it("an empty token is the first page", () => {
    expect(decodePageToken("", "v", ["s"])).toBeUndefined();
  });

  it.each([
    ["garbage", "!!!"],
    ["not JSON", Buffer.from("nope").toString("base64url")],
    ["another kind", encodePageToken("v", ["SVDFLEET000000001"])],
    ["wrong types", encodePageToken("c", ["x", "y"])],
    ["too long", "a".repeat(600)],
  ])("rejects %s as invalid_argument naming page_token", (_, token) => {
    expect(() => decodePageToken(token, "c", ["n", "s"])).toThrow(InvalidArgumentError);
    expect(() => decodePageToken(token, "c", ["n", "s"])).toThrow(/^page_token: /);
  });

  it("page sizes default when 0 and are bounded", () => {
    expect(pageSize(0, { default: 50, max: 500 })).toBe(50);
    expect(pageSize(500, { default: 50, max: 500 })).toBe(500);
    expect(() => pageSize(501, { default: 50, max: 500 })).toThrow(/^page_size: must be between 1 and 500/);
  });
});

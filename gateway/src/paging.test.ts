import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./rpc/index.js";
import { sql } from "@sovd/platform";
import { decodePageToken, encodePageToken, keysetQuery, pageSize, type Queryable } from "./paging.js";

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

describe("keysetQuery", () => {
  /** A Queryable that records the query and answers `rows`. */
  const fakeDb = (rows: object[]) => {
    const calls: { text: string; values: unknown[] }[] = [];
    const db = {
      query: (text: string, values: unknown[]) => {
        calls.push({ text, values });
        return Promise.resolve({ rows });
      },
    } as unknown as Queryable;
    return { db, calls };
  };

  it("numbers the parameters of every condition itself, the LIMIT last", async () => {
    const list = keysetQuery("v", ["s"]);
    list.where(sql`(vin LIKE ${"A%"} OR lower(make) LIKE ${"a%"} OR lower(model) LIKE ${"a%"})`);
    list.where(sql`vin > ${"VIN1"}`);
    const { db, calls } = fakeDb([]);
    await list.page(db, { select: "SELECT vin FROM vehicles", orderBy: "vin", size: 10, keyOf: (r: { vin: string }) => [r.vin] });
    expect(calls).toEqual([
      {
        text: "SELECT vin FROM vehicles WHERE (vin LIKE $1 OR lower(make) LIKE $2 OR lower(model) LIKE $3) AND vin > $4 ORDER BY vin LIMIT $5",
        values: ["A%", "a%", "a%", "VIN1", 11],
      },
    ]);
  });

  it("without conditions there is no WHERE", async () => {
    const { db, calls } = fakeDb([]);
    await keysetQuery("v", ["s"]).page(db, { select: "SELECT vin FROM vehicles", orderBy: "vin", size: 2, keyOf: (r: { vin: string }) => [r.vin] });
    expect(calls[0]).toEqual({ text: "SELECT vin FROM vehicles ORDER BY vin LIMIT $1", values: [3] });
  });

  it("returns at most size rows, and a token of the last one only when there is more", async () => {
    const keyOf = (r: { vin: string }): [string] => [r.vin];
    const q = { select: "SELECT vin FROM vehicles", orderBy: "vin", size: 2, keyOf };
    const more = await keysetQuery("v", ["s"]).page(fakeDb([{ vin: "A" }, { vin: "B" }, { vin: "C" }]).db, q);
    expect(more.rows).toEqual([{ vin: "A" }, { vin: "B" }]);
    expect(decodePageToken(more.nextPageToken, "v", ["s"])).toEqual(["B"]);
    const last = await keysetQuery("v", ["s"]).page(fakeDb([{ vin: "A" }, { vin: "B" }]).db, q);
    expect(last).toEqual({ rows: [{ vin: "A" }, { vin: "B" }], nextPageToken: "" });
  });

  it("after(): the decoded key, undefined on the first page, invalid_argument for a token that fails the check", () => {
    const list = keysetQuery("a", ["n", "s"]);
    const valid = ([us, id]: [number, string]) => us >= 0 && id.length === 36;
    expect(list.after("", valid)).toBeUndefined();
    const id = "5d0e0000-0000-4000-8000-000000000001";
    expect(list.after(encodePageToken("a", [5, id]), valid)).toEqual([5, id]);
    expect(() => list.after(encodePageToken("a", [-1, id]), valid)).toThrow("page_token: is not a token from a previous page");
    expect(() => list.after(encodePageToken("v", ["x"]))).toThrow(InvalidArgumentError);
  });
});

import { describe, expect, it } from "vitest";
import { CatalogValidationError, findCommand, normalizeParams, parseChunkPayload } from "./catalog.js";

const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

describe("normalizeParams", () => {
  const readDtc = findCommand("ReadDTC")!;
  const readData = findCommand("ReadDataByID")!;

  it("fills defaults", () => {
    expect(normalizeParams(readDtc, {})).toEqual({ ecuAddress: "0x10", format: "UDS" });
    expect(normalizeParams(readData, { dataId: "0xf40d" })).toEqual({ dataId: "0xF40D", samples: 1 });
  });

  it.each([
    [{ dataId: "0xF40D", samples: 21 }, "params.samples: must be at most 20"],
    [{ dataId: "0xF40D", samples: 1.5 }, "params.samples: must be an integer"],
    [{ samples: 2 }, "params.dataId: is required"],
    [{ dataId: "0x1234" }, "params.dataId: must be one of"],
    [{ dataId: "F40D" }, "params.dataId: must match"],
    [{ dataId: "0xF40D", color: "red" }, "params.color: unknown parameter"],
  ])("rejects %j naming the field", (params, message) => {
    const err = (() => {
      try {
        normalizeParams(readData, params);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(CatalogValidationError);
    expect((err as Error).message).toContain(message);
  });
});

describe("parseChunkPayload", () => {
  it("accepts the answers of section 6", () => {
    expect(parseChunkPayload("ReadDTC", bytes({ dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" }), false)).toMatchObject({
      dtcCode: "P0420",
    });
    expect(parseChunkPayload("ReadDTC", bytes({ status: "complete", totalDtcs: 2 }), true)).toEqual({ status: "complete", totalDtcs: 2 });
    expect(parseChunkPayload("ClearDTC", bytes({ status: "cleared", clearedCount: 2 }), true)).toEqual({ status: "cleared", clearedCount: 2 });
    expect(
      parseChunkPayload("ReadDataByID", bytes({ dataId: "0xF40D", name: "Vehicle speed", value: 42, unit: "km/h", sampledAt: "2026-01-01T00:00:00Z" }), false),
    ).toMatchObject({ value: 42 });
  });

  it.each([
    ["ReadDTC", "{not json", false, "is not UTF-8 JSON"],
    ["ReadDTC", "[1,2]", false, "is not a JSON object"],
    ["ReadDTC", { dtcCode: "X9999", description: "?" }, false, "expected {dtcCode, description}"],
    ["ReadDTC", { status: "complete" }, true, "totalDtcs"],
    ["ClearDTC", { status: "cleared", clearedCount: 1 }, false, "one final chunk"],
    ["ReadDataByID", { dataId: "0xF40D" }, false, "expected {dataId, name, value, unit, sampledAt}"],
  ])("rejects a malformed %s chunk", (command, payload, isFinal, message) => {
    expect(() => parseChunkPayload(command, bytes(payload), isFinal)).toThrow(message);
  });

  it("rejects invalid UTF-8 and oversized payloads", () => {
    expect(() => parseChunkPayload("ReadDTC", new Uint8Array([0xff, 0xfe, 0x7b]), false)).toThrow("UTF-8");
    expect(() => parseChunkPayload("ReadDTC", new Uint8Array(70 * 1024).fill(32), false)).toThrow("larger than");
  });
});

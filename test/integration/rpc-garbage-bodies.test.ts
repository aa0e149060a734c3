import { connect as http2Connect } from "node:http2";
import { beforeAll, describe, expect, it } from "vitest";
import { useStack } from "../src/index.js";

/**
 * A body that is not the method's protobuf message is the caller's mistake on every protocol
 * the gateway serves: invalid_argument naming the message type, never internal
 * (architecture §4 "RPC errors").
 */

/** Bytes no protobuf message decodes from: a field tag whose varint never ends. */
const GARBAGE = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** A length-delimited field longer than the bytes that follow. */
const TRUNCATED = Buffer.from([0x0a, 0x7f, 0x61]);

const envelope = (flags: number, data: Uint8Array): Buffer => {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(data.byteLength, 1);
  return Buffer.concat([head, data]);
};

/** Splits a body into its envelopes: [flags, data]. */
function envelopes(body: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push([body[at]!, body.subarray(at + 5, at + 5 + length)]);
    at += 5 + length;
  }
  return out;
}

describe("garbage protobuf bodies answer invalid_argument", () => {
  const stack = useStack({ fakeConnector: true });
  let token: string;
  beforeAll(async () => {
    token = (await stack.login("engineer")).accessToken;
  });

  const post = (path: string, contentType: string, body: Buffer, headers: Record<string, string> = {}) =>
    fetch(`${stack.baseUrl}${path}`, { method: "POST", headers: { "content-type": contentType, authorization: `Bearer ${token}`, ...headers }, body });

  it.each([
    ["/sovd.v1.AuthService/Login", "sovd.v1.LoginRequest"],
    ["/sovd.v1.CommandService/SubmitCommand", "sovd.v1.SubmitCommandRequest"],
    ["/sovd.v1.CommandService/GetCommand", "sovd.v1.GetCommandRequest"],
  ])("Connect unary (application/proto) %s: HTTP 400 invalid_argument", async (path, typeName) => {
    for (const body of [GARBAGE, TRUNCATED]) {
      const res = await post(path, "application/proto", body);
      expect(res.status).toBe(400);
      const error = (await res.json()) as { code: string; message: string };
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toMatch(new RegExp(`^request: not a valid ${typeName.replace(".", "\\.")} message \\(.+\\)$`));
    }
  });

  it("Connect streaming (application/connect+proto): the end-stream error is invalid_argument", async () => {
    const res = await post("/sovd.v1.CommandService/WatchCommand", "application/connect+proto", envelope(0, GARBAGE), { "connect-protocol-version": "1" });
    expect(res.status).toBe(200);
    const frames = envelopes(Buffer.from(await res.arrayBuffer()));
    const end = frames.find(([flags]) => (flags & 0b10) !== 0);
    expect(JSON.parse(end![1].toString())).toMatchObject({ error: { code: "invalid_argument", message: expect.stringMatching(/^request: not a valid sovd\.v1\.WatchCommandRequest message/) } });
  });

  it("gRPC-Web: grpc-status 3 in the trailer message", async () => {
    for (const path of ["/sovd.v1.AuthService/Login", "/sovd.v1.CommandService/WatchCommand"]) {
      const res = await post(path, "application/grpc-web+proto", envelope(0, GARBAGE), { "x-grpc-web": "1" });
      expect(res.status).toBe(200);
      const frames = envelopes(Buffer.from(await res.arrayBuffer()));
      const trailer = frames.find(([flags]) => (flags & 0x80) !== 0)![1].toString();
      expect(trailer, path).toMatch(/grpc-status: ?3\r\n/);
      expect(decodeURIComponent(/grpc-message: ?(.*)\r\n/.exec(trailer)![1]!), path).toMatch(/^request: not a valid sovd\.v1\.\w+Request message/);
    }
  });

  it("gRPC (HTTP/2): grpc-status 3 (INVALID_ARGUMENT)", async () => {
    const session = http2Connect(stack.baseUrl);
    try {
      for (const path of ["/sovd.v1.AuthService/Login", "/sovd.v1.CommandService/WatchCommand"]) {
        const trailers = await new Promise<Record<string, unknown>>((resolve, reject) => {
          const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", authorization: `Bearer ${token}` });
          let headers: Record<string, unknown> = {};
          stream.on("response", (h) => (headers = h));
          stream.on("trailers", (t) => resolve(t));
          stream.on("error", reject);
          // A trailers-only answer carries the status in the headers.
          stream.on("end", () => resolve(headers));
          stream.resume();
          stream.end(envelope(0, GARBAGE));
        });
        expect(trailers["grpc-status"], path).toBe("3");
        expect(decodeURIComponent(String(trailers["grpc-message"])), path).toMatch(/^request: not a valid sovd\.v1\.\w+Request message/);
      }
    } finally {
      session.close();
    }
  });

  it("a well-formed binary request still works", async () => {
    // GetCommandRequest { command_id = <a UUID nobody has> }: decoded, looked up, not found.
    const id = "00000000-0000-4000-8000-000000000000";
    const res = await post("/sovd.v1.CommandService/GetCommand", "application/proto", Buffer.concat([Buffer.from([0x0a, id.length]), Buffer.from(id)]));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: "not_found", message: "command not found" });
  });
});

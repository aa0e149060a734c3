import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";

/*
 * A request body that is not the method's protobuf message is the caller's mistake:
 * `invalid_argument` (architecture §4 "RPC errors"). connect-es 2 reports a failed binary
 * parse as `internal` ("parse binary: ...", the code it also uses for an unreadable answer on
 * the client side), and for unary calls it parses before any interceptor runs. So the
 * gateway corrects the code in two places: in toConnectError, for streams (parsed inside the
 * interceptors), and on the wire, for every handler of the router (withParseErrorsAsInvalidArgument).
 */

const PARSE_BINARY = "parse binary: ";

/** connect-es's error for a request body that is not a valid binary message. */
export const isBinaryParseError = (err: unknown): err is ConnectError =>
  err instanceof ConnectError && err.code === Code.Internal && err.rawMessage.startsWith(PARSE_BINARY);

/** What the caller is told: the message type and what was wrong with the bytes, never the bytes. */
const invalidBodyMessage = (typeName: string, parseMessage: string): string =>
  `request: not a valid ${typeName} message (${parseMessage.slice(PARSE_BINARY.length)})`;

/** A binary parse error as the invalid_argument the caller gets. */
export function parseErrorAsInvalidArgument(err: ConnectError, typeName: string): ConnectError {
  return new ConnectError(invalidBodyMessage(typeName, err.rawMessage), Code.InvalidArgument);
}

/**
 * Replaces every handler of `router` with one that answers a body connect-es could not parse
 * as `invalid_argument`, in the form of the protocol the caller speaks (Connect unary,
 * Connect streaming, gRPC, gRPC-Web). connectNodeAdapter reads `router.handlers` after its
 * `routes` callback ran, so this is called at the end of that callback.
 */
export function withParseErrorsAsInvalidArgument(router: ConnectRouter): void {
  const handlers = router.handlers;
  for (let i = 0; i < handlers.length; i++) handlers[i] = correcting(handlers[i]!);
}

function correcting(handler: UniversalHandler): UniversalHandler {
  const typeName = handler.method.input.typeName;
  const fixMessage = (message: string): string | undefined =>
    message.startsWith(PARSE_BINARY) ? invalidBodyMessage(typeName, message) : undefined;
  const corrected = async (req: Parameters<UniversalHandler>[0]): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    const contentType = req.header.get("content-type") ?? "";
    if (contentType.startsWith("application/grpc-web")) return { ...res, body: mapBody(res.body, (chunk) => fixGrpcWebTrailer(chunk, fixMessage)) };
    if (contentType.startsWith("application/grpc")) return fixGrpcTrailer(res, fixMessage);
    if (contentType.startsWith("application/connect+")) return { ...res, body: mapBody(res.body, (chunk) => fixConnectEndStream(chunk, fixMessage)) };
    if (res.status === 500) return fixConnectUnary(res, fixMessage);
    return res;
  };
  return Object.assign(corrected, {
    protocolNames: handler.protocolNames,
    supportedContentType: handler.supportedContentType,
    allowedMethods: handler.allowedMethods,
    requestPath: handler.requestPath,
    service: handler.service,
    method: handler.method,
  });
}

type FixMessage = (message: string) => string | undefined;
type Body = UniversalServerResponse["body"];

async function* mapBodyChunks(body: AsyncIterable<Uint8Array>, map: (chunk: Uint8Array) => Uint8Array): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) yield map(chunk);
}

function mapBody(body: Body, map: (chunk: Uint8Array) => Uint8Array): Body {
  if (body === undefined || !(typeof body === "object" && body !== null && Symbol.asyncIterator in body)) return body;
  return mapBodyChunks(body as AsyncIterable<Uint8Array>, map);
}

const FLAG_COMPRESSED = 0b0000_0001;
const FLAG_CONNECT_END_STREAM = 0b0000_0010;
const FLAG_GRPC_WEB_TRAILER = 0b1000_0000;

/** The data of a chunk that is exactly one uncompressed envelope with `flag` set; undefined otherwise. */
function envelopeData(chunk: Uint8Array, flag: number): Uint8Array | undefined {
  if (chunk.byteLength < 5) return undefined;
  const flags = chunk[0]!;
  if ((flags & flag) === 0 || (flags & FLAG_COMPRESSED) !== 0) return undefined;
  const length = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).getUint32(1);
  return length === chunk.byteLength - 5 ? chunk.subarray(5) : undefined;
}

function envelope(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out.set(data, 5);
  return out;
}

/** Connect unary: an error is the HTTP status and a JSON body `{code, message}`. */
async function fixConnectUnary(res: UniversalServerResponse, fixMessage: FixMessage): Promise<UniversalServerResponse> {
  if (res.header?.get("content-encoding") || res.body === undefined || !(Symbol.asyncIterator in (res.body as object))) return res;
  const parts: Uint8Array[] = [];
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) parts.push(chunk);
  const bytes = Buffer.concat(parts);
  const unchanged = { ...res, body: oneChunk(bytes) };
  let error: { code?: unknown; message?: unknown };
  try {
    error = JSON.parse(bytes.toString("utf8")) as typeof error;
  } catch {
    return unchanged;
  }
  const message = error.code === "internal" && typeof error.message === "string" ? fixMessage(error.message) : undefined;
  if (message === undefined) return unchanged;
  const body = Buffer.from(JSON.stringify({ code: "invalid_argument", message }));
  const header = new Headers(res.header);
  header.set("content-length", String(body.byteLength));
  return { ...res, status: 400, header, body: oneChunk(body) };
}

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Connect streaming: the error is in the end-stream message, `{"error": {code, message}}`. */
function fixConnectEndStream(chunk: Uint8Array, fixMessage: FixMessage): Uint8Array {
  const data = envelopeData(chunk, FLAG_CONNECT_END_STREAM);
  if (!data) return chunk;
  let end: { error?: { code?: unknown; message?: unknown } };
  try {
    end = JSON.parse(Buffer.from(data).toString("utf8")) as typeof end;
  } catch {
    return chunk;
  }
  const message = end.error?.code === "internal" && typeof end.error.message === "string" ? fixMessage(end.error.message) : undefined;
  if (message === undefined) return chunk;
  return envelope(chunk[0]!, Buffer.from(JSON.stringify({ ...end, error: { code: "invalid_argument", message } })));
}

/** gRPC: the status is in the trailers, set once the body is done. */
function fixGrpcTrailer(res: UniversalServerResponse, fixMessage: FixMessage): UniversalServerResponse {
  const trailer = res.trailer;
  if (!trailer || res.body === undefined || !(Symbol.asyncIterator in (res.body as object))) return res;
  const body = res.body as AsyncIterable<Uint8Array>;
  async function* thenFix(): AsyncGenerator<Uint8Array> {
    yield* body;
    const raw = trailer!.get("grpc-message");
    if (trailer!.get("grpc-status") !== String(Code.Internal) || raw === null) return;
    const message = fixMessage(decodeURIComponent(raw));
    if (message === undefined) return;
    trailer!.set("grpc-status", String(Code.InvalidArgument));
    trailer!.set("grpc-message", encodeURIComponent(message));
  }
  return { ...res, body: thenFix() };
}

/** gRPC-Web: the trailers are the body's last message, `grpc-status: 13\r\ngrpc-message: ...\r\n`. */
function fixGrpcWebTrailer(chunk: Uint8Array, fixMessage: FixMessage): Uint8Array {
  const data = envelopeData(chunk, FLAG_GRPC_WEB_TRAILER);
  if (!data) return chunk;
  const lines = Buffer.from(data).toString("utf8").split("\r\n");
  const value = (name: string): string | undefined => {
    const line = lines.find((l) => l.toLowerCase().startsWith(`${name}:`));
    return line?.slice(name.length + 1).trim();
  };
  const raw = value("grpc-message");
  if (value("grpc-status") !== String(Code.Internal) || raw === undefined) return chunk;
  const message = fixMessage(decodeURIComponent(raw));
  if (message === undefined) return chunk;
  const rewritten = lines
    .map((l) => {
      const name = l.slice(0, l.indexOf(":")).toLowerCase();
      if (name === "grpc-status") return `grpc-status: ${Code.InvalidArgument}`;
      if (name === "grpc-message") return `grpc-message: ${encodeURIComponent(message)}`;
      return l;
    })
    .join("\r\n");
  return envelope(chunk[0]!, Buffer.from(rewritten));
}

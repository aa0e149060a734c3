/**
 * Hostile input against every surface a stranger can reach: each Connect RPC (JSON and
 * binary, unary and streaming envelopes, gRPC over HTTP/2), the static files (path
 * traversal), the WebSocket bridge and the vehicle gRPC port. Every answer must be a clear
 * error (a 4xx with a code that is not `internal`, a gRPC status that is not INTERNAL, a
 * WebSocket error message or a close with a policy code, a vehicle stream ended with a
 * status), no process may exit, refused requests write no rows, and memory stays put.
 */
import { randomBytes, randomInt } from "node:crypto";
import { Agent, request } from "node:http";
import { connect as h2connect, type ClientHttp2Session } from "node:http2";
import { connect as tcpConnect } from "node:net";
import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { DEVELOPMENT_VEHICLE_SECRET } from "@sovd/link";
import { fleetIdentity } from "@sovd/platform";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";
import { WebSocket } from "ws";
import { connectRawVehicle, type RawVehicle } from "../src/raw-vehicle.js";
import { progress } from "../bench/log.js";
import { monoMs, sleep } from "../bench/stats.js";
import type { FaultContext } from "./faults.js";
import { checkInvariants, emptyRow, type FaultRow } from "./verdict.js";

/** Text the static handler must never serve: it sits next to the web app's directory. */
export const CANARY = "chaos-canary-7f3a9c";

interface Rpc {
  readonly path: string;
  readonly streaming: boolean;
  readonly input: DescMessage;
}

const RPCS: Rpc[] = [AuthService, VehicleService, CommandService, AuditService].flatMap((s) =>
  s.methods.map((m) => ({ path: `/${s.typeName}/${m.name}`, streaming: m.methodKind !== "unary", input: m.input })),
);

const pick = <T>(xs: readonly T[]): T => xs[randomInt(xs.length)]!;

function randomJson(depth = 0): unknown {
  switch (randomInt(depth > 3 ? 4 : 6)) {
    case 0:
      return randomInt(-1e9, 1e9) / 7;
    case 1:
      return randomBytes(randomInt(1, 24)).toString("base64");
    case 2:
      return pick([true, false, null]);
    case 3:
      return "\u0000\uffff\ud800".repeat(randomInt(1, 5));
    case 4:
      return Array.from({ length: randomInt(4) }, () => randomJson(depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: randomInt(1, 4) }, () => [`x${randomBytes(3).toString("hex")}`, randomJson(depth + 1)]));
  }
}

/** Every field of the message given a value of the wrong kind. */
function wrongTypes(input: DescMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { [`unknownField${randomInt(1000)}`]: 1 };
  for (const f of input.fields) {
    const scalar = f.fieldKind === "scalar" ? f.scalar : undefined;
    out[f.jsonName] = scalar === undefined ? pick([42, "text", true]) : scalar === 9 /* string */ ? pick([{ a: 1 }, [1, 2], 3.5]) : pick(["not a number", { n: 1 }, [true]]);
  }
  return out;
}

function deepJson(levels: number): string {
  return pick([`${"[".repeat(levels)}${"]".repeat(levels)}`, `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`]);
}

function firstStringField(input: DescMessage): string {
  return input.fields.find((f) => f.fieldKind === "scalar" && f.scalar === 9)?.jsonName ?? "x";
}

const envelope = (flags: number, body: Buffer, lie = 0): Buffer => {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(body.length + lie, 1);
  return Buffer.concat([head, body]);
};

interface HttpCase {
  readonly kind: string;
  readonly method: "POST" | "GET";
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
  /** The request is certainly invalid: a 2xx is a failure too. */
  readonly mustFail: boolean;
  /** Connect streaming: errors arrive in the end-of-stream message with HTTP 200. */
  readonly streaming: boolean;
}

function connectCase(i: number, token: string): HttpCase {
  const rpc = RPCS[i % RPCS.length]!;
  const auth: Record<string, string> = pick<Record<string, string>>([{}, { authorization: `Bearer ${token}` }, { authorization: `Bearer ${randomBytes(40).toString("base64")}` }, { authorization: "Basic " + "A".repeat(4000) }]);
  const ctJson = rpc.streaming ? "application/connect+json" : "application/json";
  const ctProto = rpc.streaming ? "application/connect+proto" : "application/proto";
  const wrap = (b: Buffer): Buffer => (rpc.streaming ? envelope(0, b) : b);
  const base = { method: "POST" as const, path: rpc.path, streaming: rpc.streaming };
  const hdr = (ct: string): Record<string, string> => ({ "content-type": ct, "connect-protocol-version": "1", ...auth });
  switch (Math.floor(i / RPCS.length) % 11) {
    case 0: {
      const v = randomJson();
      const isObject = typeof v === "object" && v !== null && !Array.isArray(v);
      return { ...base, kind: "random JSON", headers: hdr(ctJson), body: wrap(Buffer.from(JSON.stringify(v))), mustFail: !isObject };
    }
    case 1:
      // Unknown fields are ignored (Connect's JSON default): only a message with fields can be given wrong types.
      return { ...base, kind: "wrong types", headers: hdr(ctJson), body: wrap(Buffer.from(JSON.stringify(wrongTypes(rpc.input)))), mustFail: rpc.input.fields.length > 0 };
    case 2:
      return { ...base, kind: "huge string", headers: hdr(ctJson), body: wrap(Buffer.from(JSON.stringify({ [firstStringField(rpc.input)]: "x".repeat(randomInt(70_000, 2_000_000)) }))), mustFail: true };
    case 3: {
      const levels = randomInt(2000, 20_000);
      const top = randomInt(2) === 0;
      const body = top ? `${"[".repeat(levels)}${"]".repeat(levels)}` : `{"${firstStringField(rpc.input)}":${'{"a":'.repeat(levels)}1${"}".repeat(levels)}}`;
      return { ...base, kind: "deep nesting", headers: hdr(ctJson), body: wrap(Buffer.from(body)), mustFail: top || rpc.input.fields.length > 0 };
    }
    case 4:
      // Decoded with replacement characters, then validated like any other value: no 2xx is required to fail.
      return { ...base, kind: "invalid UTF-8", headers: hdr(ctJson), body: wrap(Buffer.concat([Buffer.from(`{"${firstStringField(rpc.input)}":"`), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')])), mustFail: false };
    case 5: {
      const bytes = randomBytes(randomInt(1, 400));
      let decodes = true;
      try {
        fromBinary(rpc.input, bytes);
      } catch {
        decodes = false;
      }
      return { ...base, kind: "random protobuf", headers: hdr(ctProto), body: wrap(bytes), mustFail: !decodes };
    }
    case 6:
      return { ...base, kind: "bad content type", headers: hdr(pick(["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1"])), body: Buffer.from("a=1&b=2"), mustFail: true };
    case 7:
      return { ...base, kind: "truncated JSON", headers: hdr(ctJson), body: wrap(Buffer.from(`{"${firstStringField(rpc.input)}":"abc`)), mustFail: true };
    case 8: {
      // A streaming envelope that lies about its length or claims compression nobody negotiated.
      // An unknown flag bit on an honest envelope of `{}` is served as the valid request it holds.
      const flags = pick([0, 1, 0x80]);
      const lie = pick([0, 1000, -1]);
      const mustFail = !rpc.streaming || flags === 1 || lie !== 0;
      return { ...base, kind: "bad envelope", headers: hdr(rpc.streaming ? "application/connect+json" : "application/json"), body: rpc.streaming ? envelope(flags, Buffer.from("{}"), lie) : Buffer.from("\x00\x00\x00\x00\x05{}"), mustFail };
    }
    case 9:
      return { ...base, method: "GET", kind: "GET with garbage query", path: `${rpc.path}?encoding=${pick(["json", "proto", "xml"])}&message=${encodeURIComponent(randomBytes(30).toString("latin1"))}&base64=${pick(["1", "0", "x"])}`, headers: { ...auth }, mustFail: true };
    default:
      return { ...base, kind: "empty body, wrong version", headers: { "content-type": ctJson, "connect-protocol-version": pick(["2", "x", ""]), ...auth }, body: Buffer.alloc(0), mustFail: true };
  }
}

const TRAVERSALS = [
  "/../canary.txt",
  "/..%2fcanary.txt",
  "/%2e%2e/canary.txt",
  "/%2e%2e%2fcanary.txt",
  "/..%252fcanary.txt",
  "/....//canary.txt",
  "/..\\canary.txt",
  "/..%5ccanary.txt",
  "/assets/../../canary.txt",
  "/assets/%2e%2e/%2e%2e/canary.txt",
  "/%c0%ae%c0%ae/canary.txt",
  "/..%00/canary.txt",
  "/index.html%00../../canary.txt",
  "/../../../../../../etc/passwd",
  "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
  "//etc/passwd",
  "/assets/..%2f..%2f..%2fpackage.json",
  "/" + "a/".repeat(500) + "../".repeat(501) + "canary.txt",
  "/%ff%fe",
  "/.env",
];

interface Answer {
  readonly status: number;
  readonly body: string;
  /** A stream that was accepted and was still open after a while. */
  readonly open?: boolean;
}

/** Bodies above the gateway's read limit (GATEWAY_READ_MAX_BYTES): refusing one may reset the connection. */
const READ_MAX_BYTES = 64 * 1024;

type Request = { method: string; path: string; headers: Record<string, string>; body?: Buffer; streaming?: boolean; mustFail?: boolean };

/**
 * One request on a kept-alive connection; a connection the server had closed after the
 * previous request (it may, after refusing one) is retried once on a fresh one, as clients do.
 */
async function send(agent: Agent, base: URL, c: Request): Promise<Answer | string> {
  const first = await sendOnce(agent, base, c);
  return first === RETRY ? sendOnce(false, base, c) : first;
}

const RETRY = "retry on a fresh connection";

function sendOnce(agent: Agent | false, base: URL, c: Request): Promise<Answer | string> {
  return new Promise((resolve) => {
    // A stream the server accepted answers its headers with the first message: a request that
    // gets no headers in 2 s is an open stream. One that must be refused gets 9 s: refusals
    // are quick, but the machine is loaded (and 16 x 2 MB bodies arrive at once).
    const quiet = c.streaming
      ? setTimeout(
          () => {
            resolve({ status: 200, body: "", open: true });
            req.destroy();
          },
          c.mustFail ? 9000 : 2000,
        )
      : undefined;
    const req = request({ host: base.hostname, port: base.port, method: c.method, path: c.path, headers: c.headers, agent, timeout: 10_000 }, (res) => {
      clearTimeout(quiet);
      const parts: Buffer[] = [];
      if (c.streaming && res.statusCode === 200) {
        // A stream the server accepted (WatchVehicles never ends): look at what came in 1.5 s.
        setTimeout(() => {
          if (res.complete) return;
          resolve({ status: 200, body: Buffer.concat(parts).toString("latin1"), open: true });
          req.destroy();
        }, 1500);
      }
      let size = 0;
      res.on("data", (d: Buffer) => {
        size += d.length;
        if (size < 200_000) parts.push(d);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("latin1") }));
      res.on("error", () => resolve("response broke off"));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(quiet);
      if (err.code === "ECONNRESET" && req.reusedSocket && agent !== false) return resolve(RETRY);
      if ((err.code === "ECONNRESET" || err.code === "EPIPE") && (c.body?.length ?? 0) > READ_MAX_BYTES) return resolve({ status: 413, body: "connection closed on an oversized body" });
      resolve(err.message === "timeout" ? "no answer in 10 s" : `connection error ${err.code ?? err.message}`);
    });
    req.end(c.body);
  });
}

/** The Connect code of an answer: the error JSON, or the end-of-stream message of a stream. */
function connectCode(a: Answer, streaming: boolean): string | undefined {
  const m = streaming && a.status === 200 ? /"error"\s*:\s*\{\s*"code"\s*:\s*"([a-z_]+)"/.exec(a.body) : /"code"\s*:\s*"([a-z_]+)"/.exec(a.body);
  return m?.[1];
}

/**
 * The Connect and gRPC protocols themselves answer a compressed frame without a negotiated
 * encoding with `internal`: the one `internal` that is the protocol's, not the gateway's.
 */
const PROTOCOL_INTERNAL = "received compressed envelope, but do not know how to decompress";

/** Why an answer is not a clear error, or undefined when it is one. */
function judgeConnect(c: HttpCase, a: Answer | string): string | undefined {
  if (typeof a === "string") return a;
  if (a.body.includes(PROTOCOL_INTERNAL)) return undefined;
  const code = connectCode(a, c.streaming);
  if (a.status >= 500) return `HTTP ${a.status}${code ? ` ${code}` : ""}`;
  if (code === "internal" || code === "unknown") return `code ${code}`;
  const failedStream = c.streaming && a.status === 200 && code !== undefined;
  if (c.mustFail && a.status < 300 && !failedStream) return `HTTP ${a.status} accepted${a.open ? " (stream left open)" : ""}`;
  return undefined;
}

/** A 2xx that was no error (a request that turned out valid), by kind: reported, not failed. */
const accepted = (c: HttpCase, a: Answer | string): boolean => typeof a !== "string" && a.status < 300 && connectCode(a, c.streaming) === undefined;

interface Tally {
  sent: number;
  clear: number;
  unclear: Record<string, number>;
  /** Requests that turned out valid and were served (unknown fields are ignored, random bytes can decode). */
  accepted: Record<string, number>;
  /** The first few unclear answers with the RPC they came from. */
  examples: string[];
  notes: string[];
}

const bump = (t: Tally, why: string | undefined): void => {
  t.sent++;
  if (why === undefined) t.clear++;
  else t.unclear[why] = (t.unclear[why] ?? 0) + 1;
};

async function pool<T>(items: Iterable<T>, width: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let r = it.next(); !r.done; r = it.next()) await fn(r.value);
    }),
  );
}

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function connectRpcs(gateway: string, token: string, n: number, t: Tally): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const base = new URL(gateway);
  await pool(range(n), 16, async (i) => {
    const c = connectCase(i, token);
    const a = await send(agent, base, { ...c, streaming: c.streaming });
    const why = judgeConnect(c, a);
    if (why === undefined && accepted(c, a)) t.accepted[c.kind] = (t.accepted[c.kind] ?? 0) + 1;
    if (why !== undefined && t.examples.length < 12 && !t.examples.some((e) => e.startsWith(`${c.kind}: ${why} at`))) t.examples.push(`${c.kind}: ${why} at ${c.path.split("?")[0]}`);
    bump(t, why === undefined ? undefined : `${c.kind}: ${why}`);
  });
  agent.destroy();
}

/** gRPC over HTTP/2 with garbage messages: the status must not be INTERNAL or UNKNOWN. */
async function grpcGarbage(gateway: string, token: string, n: number, t: Tally): Promise<void> {
  let session: ClientHttp2Session = h2connect(gateway);
  session.on("error", () => undefined);
  await pool(range(n), 8, async (i) => {
    if (session.closed || session.destroyed) {
      session = h2connect(gateway);
      session.on("error", () => undefined);
    }
    const rpc = RPCS[i % RPCS.length]!;
    const body = randomBytes(randomInt(1, 300));
    let decodes = true;
    try {
      fromBinary(rpc.input, body);
    } catch {
      decodes = false;
    }
    const why = await new Promise<string | undefined>((resolve) => {
      const req = session.request({ ":method": "POST", ":path": rpc.path, "content-type": "application/grpc", te: "trailers", authorization: i % 2 ? `Bearer ${token}` : "Bearer x" });
      let status: string | undefined;
      req.on("response", (h) => (status = (h["grpc-status"] as string | undefined) ?? status));
      req.on("trailers", (h) => (status = (h["grpc-status"] as string | undefined) ?? status));
      req.on("data", () => undefined);
      req.setTimeout(15_000, () => req.close());
      req.on("close", () => {
        if (status === undefined) return resolve("no grpc-status");
        if (status === "13" || status === "2") return resolve(`grpc-status ${status === "13" ? "INTERNAL" : "UNKNOWN"}`);
        if (status === "0" && !decodes) return resolve("grpc OK for garbage");
        resolve(undefined);
      });
      req.on("error", () => undefined);
      req.end(envelope(0, body, i % 7 === 0 ? 50 : 0));
    });
    bump(t, why === undefined ? undefined : `gRPC random protobuf: ${why}`);
  });
  session.close();
}

async function staticTraversal(gateway: string, n: number, t: Tally): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const base = new URL(gateway);
  await pool(range(n), 8, async (i) => {
    const path = TRAVERSALS[i % TRAVERSALS.length]!;
    const a = await send(agent, base, { method: "GET", path, headers: {} });
    let why: string | undefined;
    if (typeof a === "string") why = a;
    else if (a.body.includes(CANARY) || a.body.includes("root:x:0") || a.body.includes('"workspaces"')) why = `served a file outside the web app (${path.slice(0, 40)})`;
    else if (a.status >= 500) why = `HTTP ${a.status}`;
    bump(t, why === undefined ? undefined : `path traversal: ${why}`);
  });
  agent.destroy();
}

/** One bridge connection per case: bad credentials at the handshake, or garbage after a good one. */
/** Returns how many stream tickets it made itself (rows that are no refused request's). */
async function websocket(ctx: FaultContext, gateway: string, token: string, commandId: string, n: number, t: Tally): Promise<number> {
  const ws = gateway.replace(/^http/, "ws");
  const headers = { authorization: `Bearer ${token}` };
  const ticket = async (): Promise<string> => {
    const res = await fetch(`${gateway}/sovd.v1.AuthService/CreateStreamTicket`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ commandId }) });
    return ((await res.json()) as { ticket: string }).ticket;
  };
  let foreignOrigin = 0;
  let tickets = 0;
  await pool(range(n), 8, async (i) => {
    const variant = i % 10;
    const good = variant >= 5 ? await ticket().catch(() => undefined) : undefined;
    if (good) tickets++;
    let url = `${ws}/ws/responses/${commandId}?ticket=${encodeURIComponent(good ?? "x")}`;
    let origin: string | undefined;
    if (variant === 0) url = `${ws}/ws/responses/${commandId}`;
    else if (variant === 1) url = `${ws}/ws/responses/${commandId}?ticket=${randomBytes(20).toString("hex")}`;
    else if (variant === 2) url = `${ws}/ws/responses/${commandId}?token=${randomBytes(60).toString("base64url")}`;
    else if (variant === 3) url = `${ws}/ws/responses/${"../".repeat(20)}etc/passwd?ticket=x`;
    else if (variant === 4) url = `${ws}/ws/responses/not-a-uuid-${"z".repeat(3000)}?ticket=x`;
    else if (variant === 5) origin = "http://evil.example";
    const handshakeOnly = variant <= 4;
    const frame = (): { kind: string; data: Buffer | string; binary: boolean } =>
      pick([
        { kind: "binary frame", data: randomBytes(randomInt(1, 2000)), binary: true },
        { kind: "random JSON", data: JSON.stringify(randomJson()), binary: false },
        { kind: "bad action", data: JSON.stringify({ action: pick(["subscribe", "explode", 7]), command_id: pick([randomBytes(8).toString("hex"), 12, null, "../../x", "x".repeat(5000)]) }), binary: false },
        { kind: "huge frame", data: "x".repeat(randomInt(20_000, 200_000)), binary: false },
        { kind: "invalid UTF-8", data: Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d]), binary: false },
        { kind: "deep nesting", data: deepJson(5000), binary: false },
      ]);
    let frameKind = "";
    const why = await new Promise<string | undefined>((resolve) => {
      const sock = new WebSocket(url, { perMessageDeflate: false, ...(origin ? { origin } : {}) });
      let opened = false;
      let errorMessages = 0;
      let sent = false;
      const done = (w: string | undefined): void => {
        clearTimeout(timer);
        sock.terminate();
        resolve(w);
      };
      const timer = setTimeout(() => done(handshakeOnly && opened ? "bad credentials left open" : sent && errorMessages === 0 ? `${frameKind} answered with silence` : undefined), 3000);
      sock.on("open", () => {
        opened = true;
        if (origin) {
          foreignOrigin++;
          return done("foreign Origin accepted");
        }
        // Bad credentials: the bridge accepts the upgrade and closes with 1008 (architecture §4 "WebSocket messages").
        if (handshakeOnly) return;
        setTimeout(() => {
          const f = frame();
          frameKind = f.kind;
          sent = true;
          sock.send(f.data, { binary: f.binary });
        }, 50);
      });
      sock.on("message", (d) => {
        const text = d.toString();
        if (sent && text.includes('"event":"error"')) {
          errorMessages++;
          done(text.includes("internal error") ? "error message 'internal error'" : undefined);
        }
      });
      sock.on("unexpected-response", (_req, res) => done((res.statusCode ?? 0) >= 500 ? `handshake HTTP ${res.statusCode}` : undefined));
      sock.on("error", () => undefined);
      sock.on("close", (code) => {
        if (!opened) return done(undefined);
        if (handshakeOnly) return done(code === 1008 ? undefined : `bad credentials closed with ${code}, not 1008`);
        done([1011, 1006].includes(code) && sent ? `${frameKind} closed ${code}` : undefined);
      });
    });
    bump(t, why === undefined ? undefined : `WebSocket: ${why}`);
  });
  if (foreignOrigin) t.notes.push(`${foreignOrigin} WebSocket handshakes with a foreign Origin accepted`);
  void ctx;
  return tickets;
}

/** The vehicle port: raw TCP garbage, bad tokens, garbage frames and chunks nobody asked for. */
async function vehiclePort(ctx: FaultContext, n: number, t: Tally, newVehicles: number[]): Promise<void> {
  const live = [...ctx.topo.connectors.values()].filter((c) => !c.proc.exited);
  await pool(range(n), 8, async (i) => {
    const port = live[i % live.length]!.grpcPort;
    const variant = i % 6;
    if (variant === 0) {
      // Not HTTP/2 at all.
      const why = await new Promise<string | undefined>((resolve) => {
        const s = tcpConnect(port, "127.0.0.1", () => s.write(pick([randomBytes(randomInt(1, 5000)), Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\x00".repeat(100))])));
        const timer = setTimeout(() => (s.destroy(), resolve(undefined)), 3000);
        s.on("error", () => undefined);
        s.on("close", () => (clearTimeout(timer), resolve(undefined)));
        s.on("data", () => undefined);
      });
      return bump(t, why);
    }
    const kind = ["raw TCP", "bad token", "garbage frame before Hello", "Hello with bad fields", "chunks for commands never given", "garbage frame after Hello"][variant]!;
    const index = 900_000_000 + randomInt(1_000_000);
    const identity = fleetIdentity(index);
    let v: RawVehicle | undefined;
    try {
      v = await connectRawVehicle({ port, identity, secret: DEVELOPMENT_VEHICLE_SECRET, token: variant === 1 ? pick([null, "garbage", "Bearer x", "e30.e30.e30"]) : undefined });
      if (variant === 2) v.sendFrame(randomBytes(randomInt(1, 3000)));
      else if (variant === 3) v.hello({ vin: pick(["x".repeat(100_000), "\ud800", "", "1"]), make: "y".repeat(randomInt(1, 50_000)), year: pick([0, 99999, 4294967295]) });
      else if (variant === 4) {
        v.hello();
        newVehicles.push(index);
        await v.welcome(5000).catch(() => undefined);
        // Chunks for commands this vehicle was never given, valid and garbage.
        for (let k = 0; k < 5; k++) v.chunk(crypto.randomUUID(), k + 1, k === 4, pick([{ dtcCode: "P0420" }, "not json", randomBytes(50)]));
      } else if (variant === 5) {
        v.hello();
        newVehicles.push(index);
        await v.welcome(5000).catch(() => undefined);
        v.sendFrame(randomBytes(randomInt(1, 500)));
      }
      const status = await Promise.race([v.status, sleep(variant === 4 ? 1500 : 5000).then(() => undefined)]);
      let why: string | undefined;
      if (status === undefined) why = variant === 4 ? undefined : "stream left open after bad input";
      else if (status.code === "internal" || status.code === "unknown") why = `status ${status.code}`;
      bump(t, why === undefined ? undefined : `vehicle port, ${kind}: ${why}`);
      if (why !== undefined && status?.details && !t.examples.some((e) => e.startsWith(`vehicle port, ${kind}`))) t.examples.push(`vehicle port, ${kind}: ${why}: ${status.details.slice(0, 80)}`);
    } catch (err) {
      bump(t, `vehicle port, ${kind}: client error ${(err as Error).message.slice(0, 60)}`);
    } finally {
      await v?.[Symbol.asyncDispose]();
    }
  });
}

const COUNTED = ["commands", "responses", "users", "refresh_tokens", "stream_tickets"];

async function rowCounts(ctx: FaultContext): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of COUNTED) out[table] = Number((await ctx.topo.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
  // Refused logins are audited on purpose, and a vehicle that said Hello is registered.
  out.audit_logs = Number((await ctx.topo.db.query<{ n: string }>("SELECT count(*) AS n FROM audit_logs WHERE action NOT IN ('user_login_failed', 'vehicle_registered')"))[0]!.n);
  out.vehicles = Number((await ctx.topo.db.query<{ n: string }>("SELECT count(*) AS n FROM vehicles"))[0]!.n);
  return out;
}

export async function hostileInput(ctx: FaultContext): Promise<FaultRow> {
  const { plan, topo, load } = ctx;
  const n = plan.hostileRequests;
  const name = `hostile input (${n.toLocaleString("en")} requests: every RPC, gRPC, static files, WebSocket, vehicle port)`;
  progress(`fault: ${name}`);
  const row = emptyRow(name);
  const t: Tally = { sent: 0, clear: 0, unclear: {}, accepted: {}, examples: [], notes: [] };
  const exitsBefore = topo.unexpectedExits.length;
  // A command of the engineer's own to point bridge connections at.
  load.start({ vehicleIds: topo.vehicleIds.slice(0, 1), inFlight: 1, maxCommands: 1 });
  await load.drain();
  const commandId = load.records.at(-1)!.commandId!;
  const rowsBefore = await rowCounts(ctx);
  const rssBefore = topo.rss();

  // Vehicle streams that authenticate and never say Hello: the connector must close them.
  const silent: RawVehicle[] = [];
  const silentPorts = [...topo.connectors.values()].filter((c) => !c.proc.exited).map((c) => c.grpcPort);
  for (let i = 0; i < plan.silentStreams; i++) {
    silent.push(await connectRawVehicle({ port: silentPorts[i % silentPorts.length]!, identity: fleetIdentity(800_000_000 + i), secret: DEVELOPMENT_VEHICLE_SECRET }).catch(() => undefined as never));
  }
  const silentSince = monoMs();

  const gws = topo.gatewayUrls;
  const shares = { connect: Math.round(n * 0.78), grpc: Math.round(n * 0.05), static: Math.round(n * 0.07), ws: Math.round(n * 0.05) };
  const vehicle = n - shares.connect - shares.grpc - shares.static - shares.ws;
  const newVehicles: number[] = [];
  let ownTickets = 0;
  await Promise.all([
    connectRpcs(gws[0]!, load.token, Math.ceil(shares.connect / 2), t),
    connectRpcs(gws[1 % gws.length]!, load.token, Math.floor(shares.connect / 2), t),
    grpcGarbage(gws[0]!, load.token, shares.grpc, t),
    staticTraversal(gws[1 % gws.length]!, shares.static, t),
    websocket(ctx, gws[0]!, load.token, commandId, shares.ws, t).then((k) => void (ownTickets = k)),
    vehiclePort(ctx, vehicle, t, newVehicles),
  ]);

  // Silent streams must be closed by now (the connector ends a link without messages).
  const waitHello = plan.silentLimitMs - (monoMs() - silentSince);
  if (waitHello > 0) await sleep(waitHello);
  let stillOpen = 0;
  const endedWith: Record<string, number> = {};
  for (const v of silent) {
    if (!v) continue;
    const s = await Promise.race([v.status, sleep(10).then(() => undefined)]);
    t.sent++;
    if (s === undefined) stillOpen++;
    else {
      t.clear++;
      const k = `${s.code}${s.details ? ` (${s.details.slice(0, 60)})` : ""}`;
      endedWith[k] = (endedWith[k] ?? 0) + 1;
    }
    await v[Symbol.asyncDispose]();
  }
  t.notes.push(`${silent.length} vehicle streams with a token and no Hello: ${stillOpen} still open; ended with ${Object.entries(endedWith).map(([k, n]) => `${n} ${k}`).join(", ") || "-"}`);
  if (stillOpen) t.unclear[`vehicle port: stream with a token and no Hello still open after ${Math.round((monoMs() - silentSince) / 1000)} s`] = stillOpen;

  await sleep(2000);
  const rssAfter = topo.rss();
  const rowsAfter = await rowCounts(ctx);
  const written = Object.entries(rowsAfter)
    .map(([k, v]) => [k, v - rowsBefore[k]! - (k === "vehicles" ? newVehicles.length : k === "stream_tickets" ? ownTickets : 0)] as const)
    .filter(([, d]) => d !== 0);
  row.commands = t.sent;
  row.completed = t.clear;
  row.failed = t.unclear;
  row.exits = topo.unexpectedExits.length - exitsBefore;
  for (const e of topo.unexpectedExits.slice(exitsBefore)) row.notes.push(`${e.name} exited`);
  row.notes.push(`rows written by refused requests: ${written.length ? written.map(([k, d]) => `${k} ${d > 0 ? "+" : ""}${d}`).join(", ") : "0"}`);
  if (written.length) row.problems.push(`refused requests wrote rows: ${written.map(([k, d]) => `${k} ${d}`).join(", ")}`);
  const growth = Object.keys(rssAfter)
    .filter((k) => rssBefore[k] !== undefined && !k.startsWith("fleet"))
    .map((k) => [k, (rssAfter[k]! - rssBefore[k]!) / 2 ** 20] as const);
  row.notes.push(`RSS growth MiB: ${growth.map(([k, g]) => `${k} ${g.toFixed(0)}`).join(", ")}`);
  for (const [k, g] of growth) if (g > 100) row.problems.push(`${k} grew ${g.toFixed(0)} MiB`);
  const unclear = Object.values(t.unclear).reduce((s, v) => s + v, 0);
  if (unclear) row.problems.push(`${unclear} answers were not a clear error`);
  row.notes.push(...t.notes);
  if (Object.keys(t.accepted).length) row.notes.push(`served because valid after all (unknown fields ignored, bytes that decode): ${Object.entries(t.accepted).map(([k, v]) => `${v} ${k}`).join(", ")}`);
  for (const e of t.examples) row.notes.push(`example: ${e}`);
  row.recoveryMs = (await load.probe(topo.vehicleIds, 8000)) ? 0 : null;
  await topo.heal();
  return checkInvariants(row);
}

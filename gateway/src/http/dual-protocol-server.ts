import { createServer as createHttp1Server, type IncomingMessage, type Server as Http1Server, type ServerResponse } from "node:http";
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type Http2Server,
} from "node:http2";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import type { Duplex } from "node:stream";

/** The client connection preface of HTTP/2 (RFC 9113 §3.4), as far as it tells h2 from HTTP/1.1. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");
/** A connection that sends nothing for this long is closed (slowloris guard). */
const FIRST_BYTES_TIMEOUT_MS = 10_000;

/** The two protocol handlers behind the one port, and the HTTP/1.1 upgrade handler. */
export interface DualProtocolServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly http1: (req: IncomingMessage, res: ServerResponse) => void;
  readonly http2: (req: Http2ServerRequest, res: Http2ServerResponse) => void;
  /** WebSocket (and other) upgrades of HTTP/1.1 requests. */
  readonly upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** The listening port and its graceful close. */
export interface DualProtocolServer {
  readonly port: number;
  /** Stops accepting, lets open requests finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

/**
 * One port for everyone (architecture §7 "Gateway HTTP"): HTTP/1.1 for browsers and curl,
 * cleartext HTTP/2 with prior knowledge for gRPC clients. Node's plaintext http2 server does
 * not fall back to HTTP/1.1, so each connection's first bytes are read: the h2 preface
 * `PRI * HTTP/2.0` hands the socket to the http2 server, anything else to the http1 server
 * (the peeked bytes are put back with unshift first; Node's http2 session reads what is
 * already buffered).
 */
export async function startDualProtocolServer(opts: DualProtocolServerOptions): Promise<DualProtocolServer> {
  const h1: Http1Server = createHttp1Server(opts.http1);
  const h2: Http2Server = createHttp2Server({}, opts.http2);
  const sockets = new Set<Socket>();
  // Node 20's closeIdleConnections() only knows sockets the http1 server accepted itself, not
  // ones handed over with emit("connection"), so idle keep-alive sockets are tracked here:
  // open requests per HTTP/1.1 socket, and a socket with none is cut at once when closing.
  const h1Open = new Map<Socket, number>();
  let closing = false;
  const idleH1 = (): Socket[] => [...h1Open].filter(([, n]) => n === 0).map(([socket]) => socket);
  const upgrade = opts.upgrade;
  if (upgrade) {
    h1.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      h1Open.delete(socket as Socket); // a WebSocket now: its owner closes it (1001), not the idle sweep
      upgrade(req, socket, head);
    });
  }
  h1.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as Socket;
    h1Open.set(socket, (h1Open.get(socket) ?? 0) + 1);
    if (closing) res.shouldKeepAlive = false;
    res.once("close", () => {
      const left = (h1Open.get(socket) ?? 1) - 1;
      if (!h1Open.has(socket)) return;
      h1Open.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
  });
  const sessions = new Set<Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const net = createNetServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    let peeked = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), FIRST_BYTES_TIMEOUT_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
    const onError = (): void => {
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      peeked = Buffer.concat([peeked, chunk]);
      const n = Math.min(peeked.length, H2_PREFACE.length);
      const isH2 = peeked.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && peeked.length < H2_PREFACE.length) return; // could still be either: wait for more
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", onError);
      socket.pause();
      socket.unshift(peeked);
      if (isH2) {
        h2.emit("connection", socket);
      } else {
        h1Open.set(socket, 0);
        socket.once("close", () => h1Open.delete(socket));
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.on("error", onError);
  });

  await new Promise<void>((resolve, reject) => {
    net.once("error", reject);
    net.listen(opts.port, opts.host ?? "0.0.0.0", () => {
      net.off("error", reject);
      resolve();
    });
  });

  return {
    port: (net.address() as AddressInfo).port,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => net.close(() => resolve()));
      closing = true;
      for (const socket of idleH1()) socket.destroy();
      for (const session of sessions) session.close();
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        for (const socket of idleH1()) socket.destroy();
      }
      for (const socket of sockets) socket.destroy();
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { REQUEST_ID_HEADER, requestIdFrom, type Logger, type Pool } from "@sovd/platform";
import { getCommandRow } from "@sovd/domain";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { canSeeCommand, InvalidTokenError, type Principal } from "../auth/index.js";
import { isUuid } from "../rpc/index.js";
import { hostOf } from "../http/index.js";
import type { CommandEventHub } from "../commands/event-hub.js";
import { resumingWatch } from "./resuming-watch.js";
import { NotFoundError } from "../rpc/index.js";
import type { GatewayMetrics } from "../metrics.js";
import { parseClientAction, toWsEvent, WsProtocolError, type WsServerEvent } from "./ws-messages.js";

/** Close codes of the bridge (RFC 6455 §7.4). */
const WsCloseCode = {
  goingAway: 1001,
  policyViolation: 1008,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

/** The path of the bridge; the command id is the last segment. */
const PATH = /^\/ws\/responses\/([^/]+)$/;
const MAX_SUBSCRIPTIONS = 50;
const MAX_FRAME_BYTES = 16 * 1024;
/** Frames kept while the credential is being checked; more are dropped. */
const MAX_EARLY_FRAMES = 8;

/** Turns the URL credential of a bridge connection into the caller (auth.authenticateStream). */
export type StreamAuthenticator = (credential: { token?: string; ticket?: string }, commandId: string) => Promise<Principal>;

/** Heartbeat and slow-client bounds (WS_PING_INTERVAL_MS, WS_MAX_BUFFERED_BYTES). */
export interface WsBridgeConfig {
  /** Ping every connection this often; one that has not answered the previous ping is terminated. */
  readonly pingIntervalMs: number;
  /** A client whose unsent data exceeds this is too slow: closed with 1013. */
  readonly maxBufferedBytes: number;
}

/** The bridge as the HTTP server sees it: an upgrade handler with a graceful close. */
export interface WsBridge {
  /** Takes an HTTP/1.1 upgrade; false when the path is not the bridge's (the caller answers it). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Open connections (tests, metrics). */
  connectionCount(): number;
  /** Closes every connection with 1001 and stops the heartbeat. */
  close(): Promise<void>;
}

interface Connection {
  readonly ws: WebSocket;
  readonly requestId: string;
  readonly subscriptions: Map<string, AbortController>;
  alive: boolean;
}

/**
 * Whether a browser page may open the bridge (architecture §7 "Gateway HTTP"): browsers do not
 * apply CORS to WebSockets, so the bridge checks `Origin` itself, as the HTTP side does. No
 * `Origin` (a non-browser client), the gateway's own origin (same host as the request) and
 * the CORS_ORIGINS are allowed; any other page is refused.
 */
function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.has(origin)) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return host !== "" && host === hostOf(req);
}

/** Close reasons are at most 123 bytes (RFC 6455 §5.5). */
const reason = (text: string): string => Buffer.from(text).subarray(0, 123).toString();

/**
 * The edge WebSocket bridge (architecture §7 "Gateway HTTP") on the gateway's HTTP/1.1 side,
 * in `ws` noServer mode: `GET /ws/responses/{command_id}?token=<jwt>` (or `?ticket=`). A bad
 * credential or a command the caller may not see closes with 1008. Each followed command runs
 * the same replay-then-live watch as WatchCommand. Subscriptions end with the command, on
 * unsubscribe, or when the socket goes; heartbeats drop dead peers; a slow reader is closed
 * with 1013 before its buffer grows without bound.
 */
export function createWsBridge(deps: {
  pool: Pool;
  events: CommandEventHub;
  logger: Logger;
  metrics: GatewayMetrics;
  authenticate: StreamAuthenticator;
  config: WsBridgeConfig;
  /** Browser origins allowed besides the gateway's own (CORS_ORIGINS, as the HTTP side). */
  allowedOrigins: readonly string[];
}): WsBridge {
  const { pool, events, logger, metrics, config } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const connections = new Set<Connection>();
  const allowedOrigins = new Set(deps.allowedOrigins);
  let closing = false;
  // The request id (the caller's when sane, else a new one) is returned on the 101 response too.
  wss.on("headers", (headers, req) => headers.push(`${REQUEST_ID_HEADER}: ${req.headers[REQUEST_ID_HEADER] as string}`));

  const heartbeat = setInterval(() => {
    for (const conn of connections) {
      if (!conn.alive) {
        logger.info({ requestId: conn.requestId }, "websocket peer missed a heartbeat: terminated");
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }, config.pingIntervalMs);
  heartbeat.unref();

  const send = (conn: Connection, event: WsServerEvent): boolean => {
    if (conn.ws.readyState !== WebSocket.OPEN) return false;
    if (conn.ws.bufferedAmount > config.maxBufferedBytes) {
      logger.warn({ requestId: conn.requestId, buffered: conn.ws.bufferedAmount }, "websocket client too slow: closed");
      for (const sub of conn.subscriptions.values()) sub.abort();
      conn.ws.close(WsCloseCode.tryAgainLater, "client too slow: send buffer limit exceeded");
      // A peer that does not read will not read the close frame either.
      setTimeout(() => conn.ws.terminate(), 1000).unref();
      return false;
    }
    conn.ws.send(JSON.stringify(event));
    return true;
  };

  function follow(conn: Connection, principal: Principal, commandId: string): void {
    if (conn.subscriptions.has(commandId)) {
      send(conn, { event: "error", command_id: commandId, error_message: "already subscribed to this command" });
      return;
    }
    if (conn.subscriptions.size >= MAX_SUBSCRIPTIONS) {
      send(conn, { event: "error", command_id: commandId, error_message: `at most ${MAX_SUBSCRIPTIONS} commands per connection` });
      return;
    }
    const controller = new AbortController();
    conn.subscriptions.set(commandId, controller);
    void (async () => {
      try {
        const stream = resumingWatch({ pool, events, logger, active: metrics.watchStreamsActive }, commandId, {
          signal: controller.signal,
          canSee: (row) => canSeeCommand(principal, row.user_id),
          kind: "websocket",
        });
        for await (const event of stream) {
          const out = toWsEvent(event);
          if (out && !send(conn, out)) break;
        }
      } catch (err) {
        if (err instanceof NotFoundError) {
          send(conn, { event: "error", command_id: commandId, error_message: "command not found" });
        } else if (!controller.signal.aborted) {
          logger.error({ err, requestId: conn.requestId, commandId }, "websocket watch failed");
          send(conn, { event: "error", command_id: commandId, error_message: "internal error" });
          // The watch is over without the terminal status. A connection that followed nothing
          // else would stay open with nothing more to come: close it so the client connects
          // again and resumes (architecture §4 "WebSocket messages").
          if (conn.subscriptions.size === 1 && conn.ws.readyState === WebSocket.OPEN) conn.ws.close(WsCloseCode.tryAgainLater, "watch interrupted: connect again");
        }
      } finally {
        if (conn.subscriptions.get(commandId) === controller) conn.subscriptions.delete(commandId);
      }
    })();
  }

  function onMessage(conn: Connection, principal: Principal, data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) throw new WsProtocolError("invalid message: binary frames are not supported; send JSON text");
      const action = parseClientAction(data.toString());
      if (action.action === "subscribe") follow(conn, principal, action.command_id);
      else conn.subscriptions.get(action.command_id)?.abort();
    } catch (err) {
      if (!(err instanceof WsProtocolError)) throw err;
      send(conn, { event: "error", command_id: err.commandId, error_message: err.message });
    }
  }

  async function onConnection(ws: WebSocket, req: IncomingMessage, commandId: string, params: URLSearchParams): Promise<void> {
    // handleUpgrade already replaced a missing or insane request id with a new one.
    const conn: Connection = { ws, requestId: req.headers[REQUEST_ID_HEADER] as string, subscriptions: new Map(), alive: true };
    connections.add(conn);
    metrics.websocketConnectionsActive.inc();
    const log = logger.child({ requestId: conn.requestId });
    ws.on("pong", () => {
      conn.alive = true;
    });
    ws.on("error", (err) => log.debug({ err }, "websocket error"));
    ws.once("close", () => {
      for (const sub of conn.subscriptions.values()) sub.abort();
      connections.delete(conn);
      metrics.websocketConnectionsActive.dec();
    });
    // Frames that arrive while the credential is checked wait for it.
    let principal: Principal | undefined;
    const early: Array<[RawData, boolean]> = [];
    ws.on("message", (data, isBinary) => {
      if (principal) onMessage(conn, principal, data, isBinary);
      else if (early.length < MAX_EARLY_FRAMES) early.push([data, isBinary]);
    });

    const token = params.get("token") ?? undefined;
    const ticket = params.get("ticket") ?? undefined;
    try {
      if (!token && !ticket) throw new InvalidTokenError("missing");
      principal = await deps.authenticate({ token, ticket }, commandId);
      const row = isUuid(commandId) ? await getCommandRow(pool, commandId) : undefined;
      if (!row || !canSeeCommand(principal, row.user_id)) throw new NotFoundError("command");
    } catch (err) {
      principal = undefined;
      if (err instanceof InvalidTokenError || err instanceof NotFoundError) {
        log.info({ reason: err.message }, "websocket refused");
        ws.close(WsCloseCode.policyViolation, reason(err.message));
      } else {
        log.error({ err }, "websocket authentication failed");
        ws.close(WsCloseCode.internalError, "internal error");
      }
      return;
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    log.info({ commandId, username: principal.username }, "websocket connected");
    follow(conn, principal, commandId);
    for (const [data, isBinary] of early.splice(0)) onMessage(conn, principal, data, isBinary);
  }

  return {
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? "/", "http://localhost");
      const match = PATH.exec(url.pathname);
      if (!match) return false;
      if (closing) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return true;
      }
      req.headers[REQUEST_ID_HEADER] = requestIdFrom(req.headers[REQUEST_ID_HEADER] as string | undefined);
      if (!originAllowed(req, allowedOrigins)) {
        logger.info({ requestId: req.headers[REQUEST_ID_HEADER], origin: req.headers.origin }, "websocket refused: origin not allowed");
        socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\norigin not allowed");
        return true;
      }
      let commandId: string;
      try {
        commandId = decodeURIComponent(match[1]!);
      } catch {
        commandId = "";
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        onConnection(ws, req, commandId, url.searchParams).catch((err: unknown) => {
          logger.error({ err }, "websocket connection setup failed");
          ws.terminate();
        });
      });
      return true;
    },
    connectionCount: () => connections.size,
    async close() {
      closing = true;
      clearInterval(heartbeat);
      const closed = [...connections].map(
        (conn) =>
          new Promise<void>((resolve) => {
            if (conn.ws.readyState === WebSocket.CLOSED) return resolve();
            conn.ws.once("close", () => resolve());
            for (const sub of conn.subscriptions.values()) sub.abort();
            conn.ws.close(WsCloseCode.goingAway, "server shutting down");
            setTimeout(() => conn.ws.terminate(), 1000).unref();
          }),
      );
      await Promise.all(closed);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

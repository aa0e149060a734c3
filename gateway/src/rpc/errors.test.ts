import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { Code } from "@connectrpc/connect";
import { BusClosedError, createLogger, createPool } from "@sovd/platform";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidArgumentError, isDatabaseError, NotFoundError, sqlState, toConnectError } from "./errors.js";

const logger = createLogger({ service: "test", level: "silent" });

/** A PostgreSQL ErrorResponse message (protocol 3): severity, SQLSTATE, message. */
function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat([
    ...[
      ["S", "FATAL"],
      ["V", "FATAL"],
      ["C", code],
      ["M", message],
    ].map(([type, value]) => Buffer.from(`${type}${value}\0`)),
    Buffer.from("\0"),
  ]);
  const header = Buffer.alloc(5);
  header.write("E", 0);
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** A TCP server on loopback that treats each connection as `onConnection` says; resolves its port. */
async function fakePostgres(onConnection: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    onConnection(socket);
  });
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** What the real pg driver rejects with against `port`. */
async function driverError(port: number, opts: { connectionTimeoutMillis?: number; concurrent?: number } = {}): Promise<unknown[]> {
  const pool = createPool({ url: `postgres://u:p@127.0.0.1:${port}/db`, max: 1 });
  if (opts.connectionTimeoutMillis) pool.options.connectionTimeoutMillis = opts.connectionTimeoutMillis;
  try {
    const results = await Promise.allSettled(Array.from({ length: opts.concurrent ?? 1 }, () => pool.query("SELECT 1")));
    return results.map((r) => (r.status === "rejected" ? r.reason : new Error("query succeeded")));
  } finally {
    await pool.end();
  }
}

const connectOf = (err: unknown): [Code, string] => {
  const c = toConnectError(err, logger);
  return [c.code, c.rawMessage];
};

describe("isDatabaseError, against what the pg driver really throws", () => {
  it("a server error (SQLSTATE) is a database error answered unavailable; class 22 is the caller's value", async () => {
    const [outage] = await driverError(await fakePostgres((s) => s.once("data", () => s.end(errorResponse("53300", "too many connections")))));
    expect(sqlState(outage)).toBe("53300");
    expect(isDatabaseError(outage)).toBe(true);
    expect(connectOf(outage)).toEqual([Code.Unavailable, "service temporarily unavailable"]);

    const [data] = await driverError(await fakePostgres((s) => s.once("data", () => s.end(errorResponse("22021", "invalid byte sequence")))));
    expect(connectOf(data)).toEqual([Code.InvalidArgument, "a request value is not acceptable"]);
  });

  it("a refused connection (ECONNREFUSED) and a closed one (no code) are database errors", async () => {
    const port = await fakePostgres(() => undefined);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const [refused] = await driverError(port);
    expect((refused as { code?: string }).code).toBe("ECONNREFUSED");
    expect(isDatabaseError(refused)).toBe(true);

    const [closed] = await driverError(await fakePostgres((s) => s.once("data", () => s.destroy())));
    expect((closed as Error).message).toBe("Connection terminated unexpectedly");
    expect(isDatabaseError(closed)).toBe(true);
    expect(connectOf(closed)).toEqual([Code.Unavailable, "service temporarily unavailable"]);
  });

  it("pg-pool's connection timeouts, with and without a cause, are database errors", async () => {
    const silent = await fakePostgres(() => undefined);
    const errors = (await driverError(silent, { connectionTimeoutMillis: 100, concurrent: 2 })) as Error[];
    expect(errors.map((e) => e.message).sort()).toEqual(["Connection terminated due to connection timeout", "timeout exceeded when trying to connect"]);
    for (const err of errors) expect(isDatabaseError(err)).toBe(true);
  });

  it("recognises the failure along the cause chain, and nothing by a message that merely mentions one", () => {
    const socket = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(isDatabaseError(new Error("saving the command failed", { cause: socket }))).toBe(true);
    expect(isDatabaseError(new Error("connect ECONNREFUSED 127.0.0.1:5432"))).toBe(false);
    expect(isDatabaseError(new Error("timeout exceeded when trying to connect to the vehicle", { cause: new Error("boom") }))).toBe(false);
    class OtherError extends Error {}
    expect(isDatabaseError(new OtherError("Connection terminated"))).toBe(false);
    // A five-letter code is not a SQLSTATE without pg's severity.
    expect(sqlState(Object.assign(new Error("x"), { code: "ABCDE" }))).toBeUndefined();
    const loop: Error & { cause?: unknown } = new Error("loop");
    loop.cause = loop;
    expect(isDatabaseError(loop)).toBe(false);
  });
});

describe("toConnectError", () => {
  it("maps the domain classes and reduces anything else to a generic answer", () => {
    expect(connectOf(new InvalidArgumentError("page_size", "must be between 1 and 200"))).toEqual([Code.InvalidArgument, "page_size: must be between 1 and 200"]);
    expect(connectOf(new NotFoundError("command"))).toEqual([Code.NotFound, "command not found"]);
    expect(connectOf(new BusClosedError())).toEqual([Code.Unavailable, "service temporarily unavailable"]);
    // A wrapper around a lost NATS connection is still the bus's failure.
    expect(connectOf(new Error("watch failed", { cause: new BusClosedError("NATS connection lost (DISCONNECT)") }))).toEqual([Code.Unavailable, "service temporarily unavailable"]);
    expect(connectOf(new Error("SELECT * FROM users failed at /srv/app.ts:12"))).toEqual([Code.Internal, "internal error"]);
  });
});

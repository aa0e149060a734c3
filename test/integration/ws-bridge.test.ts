import { create } from "@bufbuild/protobuf";
import { publishCommandEvent } from "@sovd/domain";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService, CommandEventSchema } from "@sovd/proto";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TEST_JWT_SECRET, useStack, type UserSession } from "../src/index.js";

interface Client {
  ws: WebSocket;
  /** Headers of the 101 Switching Protocols response. */
  upgradeHeaders: Record<string, unknown>;
  messages: Record<string, unknown>[];
  /** Waits until `n` messages arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  closed: Promise<{ code: number; reason: string }>;
  send(data: unknown): void;
}

function connect(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(baseUrl.replace("http", "ws") + path, { headers });
  let upgradeHeaders: Record<string, unknown> = {};
  ws.once("upgrade", (res) => {
    upgradeHeaders = res.headers;
  });
  const messages: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  ws.on("message", (data) => {
    messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () =>
      resolve({
        ws,
        messages,
        get upgradeHeaders() {
          return upgradeHeaders;
        },
        closed,
        send: (data) => ws.send(typeof data === "string" ? data : JSON.stringify(data)),
        waitFor: (n, timeoutMs = 5000) =>
          new Promise((res, rej) => {
            const check = (): void => {
              if (messages.length >= n) {
                waiters.delete(check);
                clearTimeout(timer);
                res(messages.slice());
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`expected ${n} messages, got ${JSON.stringify(messages)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
      }),
    );
  });
}

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

describe("WebSocket bridge", () => {
  const stack = useStack({ fakeConnector: true, env: { WS_PING_INTERVAL_MS: "1000" } });
  let engineer: UserSession;

  beforeAll(async () => {
    engineer = await stack.login("engineer");
  });

  async function runningCommand(vehicle = 0): Promise<{ id: string; stop: () => void }> {
    const v = stack.vehicle(vehicle);
    const connector = await stack.fakeConnector(v.vehicleId);
    const { command } = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC" });
    await stack.waitForStatus(command!.commandId, "in_progress");
    return { id: command!.commandId, stop: connector.stop };
  }

  it("closes with 1008 for a missing, bad or expired token and for another engineer's command", async () => {
    const { id, stop } = await runningCommand();
    try {
      const expired = await new SignJWT({ username: "engineer", role: "engineer" })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(engineer.userId)
        .setIssuer("sovd-gateway")
        .setAudience("sovd-api")
        .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      const other = await stack.login("engineer2");
      const cases: Array<[string, RegExp]> = [
        [`/ws/responses/${id}`, /missing/],
        [`/ws/responses/${id}?token=garbage`, /invalid/],
        [`/ws/responses/${id}?token=${expired}`, /expired/],
        [`/ws/responses/${id}?ticket=not-a-ticket`, /invalid/],
        [`/ws/responses/${id}?token=${other.accessToken}`, /not found/],
        [`/ws/responses/not-a-uuid?token=${engineer.accessToken}`, /not found/],
      ];
      for (const [path, reason] of cases) {
        const client = await connect(stack.baseUrl, path);
        const closed = await client.closed;
        expect(closed.code, path).toBe(1008);
        expect(closed.reason, path).toMatch(reason);
        expect(client.messages).toEqual([]);
      }
    } finally {
      stop();
    }
  });

  it("accepts a single-use stream ticket instead of a token in the URL", async () => {
    const { id, stop } = await runningCommand();
    try {
      const auth = createClient(AuthService, createConnectTransport({ baseUrl: stack.baseUrl, httpVersion: "1.1" }));
      const { ticket } = await auth.createStreamTicket({ commandId: id }, { headers: { authorization: `Bearer ${engineer.accessToken}` } });
      const client = await connect(stack.baseUrl, `/ws/responses/${id}?ticket=${ticket}`);
      await stack.chunk(id, 1, { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" });
      expect((await client.waitFor(1))[0]).toMatchObject({ event: "response", command_id: id, sequence_number: 1 });
      client.ws.close();
      const reused = await connect(stack.baseUrl, `/ws/responses/${id}?ticket=${ticket}`);
      expect((await reused.closed).code).toBe(1008);
    } finally {
      stop();
    }
  });

  it("streams the exact JSON shapes in order; a late joiner gets the replay; two clients get everything", async () => {
    const { id, stop } = await runningCommand();
    try {
      const watchersBefore = stack.gateway.watcherCount();
      const first = await connect(stack.baseUrl, `/ws/responses/${id}?token=${engineer.accessToken}`, { "x-request-id": "ws-trace-7" });
      expect(first.upgradeHeaders["x-request-id"]).toBe("ws-trace-7");
      await stack.chunk(id, 1, { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" });
      await first.waitFor(1);
      const late = await connect(stack.baseUrl, `/ws/responses/${id}?token=${engineer.accessToken}`);
      await late.waitFor(1);
      await stack.chunk(id, 2, { dtcCode: "P0171", description: "System Too Lean (Bank 1)" });
      await stack.chunk(id, 3, { status: "complete", totalDtcs: 2 }, { isFinal: true });
      await stack.complete(id);
      for (const client of [first, late]) {
        const messages = await client.waitFor(4);
        expect(messages[0]).toEqual({
          event: "response",
          command_id: id,
          sequence_number: 1,
          response: {
            response_id: expect.any(String),
            response_payload: { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" },
            sequence_number: 1,
            is_final: false,
            received_at: ISO,
          },
        });
        expect(messages.map((m) => m.event === "response" ? (m.response as { sequence_number: number }).sequence_number : m.event)).toEqual([1, 2, 3, "status"]);
        expect((messages[2]!.response as { is_final: boolean }).is_final).toBe(true);
        expect(messages[3]).toEqual({ event: "status", command_id: id, status: "completed", completed_at: ISO });
      }
      // Ended watches are released even while the sockets stay open.
      await expect.poll(() => stack.gateway.watcherCount()).toBe(watchersBefore);
      first.ws.close();
      late.ws.close();
    } finally {
      stop();
    }
  });

  it("follows a second command on one socket, answers garbage with an error event, and releases everything on disconnect", async () => {
    const a = await runningCommand(0);
    const b = await runningCommand(1);
    try {
      const watchersBefore = stack.gateway.watcherCount();
      const client = await connect(stack.baseUrl, `/ws/responses/${a.id}?token=${engineer.accessToken}`);
      client.send({ action: "subscribe", command_id: b.id });
      client.send("this is not json");
      client.send({ action: "dance", command_id: b.id });
      client.send({ action: "subscribe", command_id: "nope" });
      client.send({ action: "subscribe", command_id: "5d0e0000-0000-4000-8000-999999999997" });
      const errors = await client.waitFor(4);
      expect(errors).toEqual([
        { event: "error", command_id: null, error_message: expect.stringMatching(/not JSON/) },
        { event: "error", command_id: b.id, error_message: expect.stringMatching(/action must be/) },
        { event: "error", command_id: null, error_message: expect.stringMatching(/command_id must be a UUID/) },
        { event: "error", command_id: "5d0e0000-0000-4000-8000-999999999997", error_message: "command not found" },
      ]);
      await stack.chunk(b.id, 1, { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" });
      await stack.chunk(a.id, 1, { dtcCode: "P0171", description: "System Too Lean (Bank 1)" });
      const all = await client.waitFor(6);
      expect(all.slice(4).map((m) => [m.command_id, m.sequence_number])).toEqual([
        [b.id, 1],
        [a.id, 1],
      ]);
      expect(stack.gateway.watcherCount()).toBe(watchersBefore + 2);
      client.send({ action: "unsubscribe", command_id: b.id });
      await expect.poll(() => stack.gateway.watcherCount()).toBe(watchersBefore + 1);
      expect(client.ws.readyState).toBe(WebSocket.OPEN);
      client.ws.close();
      await client.closed;
      await expect.poll(() => stack.gateway.watcherCount()).toBe(watchersBefore);
      const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/^websocket_connections_active 0$/m);
    } finally {
      a.stop();
      b.stop();
    }
  });

  it("a failed command produces the error event with the stored message, then the failed status", async () => {
    const { id, stop } = await runningCommand(2);
    try {
      const client = await connect(stack.baseUrl, `/ws/responses/${id}?token=${engineer.accessToken}`);
      await stack.fail(id, "Vehicle connection timeout", "response");
      const messages = await client.waitFor(2);
      expect(messages).toEqual([
        { event: "error", command_id: id, error_message: "Vehicle connection timeout" },
        { event: "status", command_id: id, status: "failed", completed_at: ISO, error_message: "Vehicle connection timeout" },
      ]);
      // A late joiner of the failed command gets the same.
      const late = await connect(stack.baseUrl, `/ws/responses/${id}?token=${engineer.accessToken}`);
      expect(await late.waitFor(2)).toEqual(messages);
      client.ws.close();
      late.ws.close();
    } finally {
      stop();
    }
  });

  it("terminates a peer that stops answering pings", async () => {
    const { id, stop } = await runningCommand(0);
    try {
      const client = await connect(stack.baseUrl, `/ws/responses/${id}?token=${engineer.accessToken}`);
      // A dead peer: it reads nothing, so it never answers a ping.
      (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await expect
        .poll(() => stack.logs.some((l) => l.msg === "websocket peer missed a heartbeat: terminated"), { timeout: 5000 })
        .toBe(true);
      await expect.poll(async () => (await (await fetch(`${stack.baseUrl}/metrics`)).text()).match(/^websocket_connections_active (\d+)$/m)?.[1]).toBe("0");
    } finally {
      stop();
    }
  });

  it("closes a client whose send buffer passes WS_MAX_BUFFERED_BYTES (1 MiB) with 1013", async () => {
    const { id, stop } = await runningCommand(3);
    try {
      const watchersBefore = stack.gateway.watcherCount();
      const client = await connect(stack.baseUrl, `/ws/responses/${id}?token=${engineer.accessToken}`);
      // Live events only reach a watcher once its subscription exists (before that they are on replay).
      await expect.poll(() => stack.gateway.watcherCount()).toBe(watchersBefore + 1);
      // The client reads nothing, and 30 MB of live answers arrive: more than loopback socket
      // buffers hold, so the server's own send buffer has to grow past the limit.
      (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const big = "X".repeat(512 * 1024);
      for (let i = 1; i <= 60; i++) {
        const response = { responseId: `r${i}`, sequenceNumber: i, isFinal: false, payload: { dataId: "0xF190", name: "VIN", value: big, unit: "" } };
        publishCommandEvent(stack.bus, create(CommandEventSchema, { commandId: id, event: { case: "response", value: response } }));
      }
      await stack.bus.flush();
      await expect.poll(() => stack.logs.find((l) => l.msg === "websocket client too slow: closed"), { timeout: 5000 }).toBeDefined();
      const logged = stack.logs.find((l) => l.msg === "websocket client too slow: closed")!;
      expect(logged.buffered).toBeGreaterThan(1024 * 1024);
      expect(logged.buffered).toBeLessThan(4 * 1024 * 1024);
      await expect
        .poll(async () => (await (await fetch(`${stack.baseUrl}/metrics`)).text()).match(/^websocket_connections_active (\d+)$/m)?.[1], { timeout: 5000 })
        .toBe("0");
    } finally {
      stop();
    }
  });
});

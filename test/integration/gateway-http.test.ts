import { execFile } from "node:child_process";
import { get } from "node:http";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { loadGatewayConfig, startGateway } from "@sovd/gateway";
import { createLogger, createMemoryBus } from "@sovd/platform";
import { ConnectionStatus, VehicleEventSchema, presenceSubject } from "@sovd/proto";
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TEST_ENV, useStack, type UserSession } from "../src/index.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

describe("gateway HTTP surface, breaker and shutdown", () => {
  const stack = useStack({ fakeConnector: true, env: { BREAKER_COOLDOWN_MS: "400" } });
  let engineer: UserSession;

  beforeAll(async () => {
    engineer = await stack.login("engineer");
  });

  it("health: live, and ready naming each dependency", async () => {
    const live = await fetch(`${stack.baseUrl}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${stack.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok", checks: { database: "ok", bus: "ok", migrations: "ok" } });
  });

  it("readiness turns 503 and names the bus when the bus is gone", async () => {
    // A gateway of its own on the same database, with an in-process bus the test can close.
    const bus = createMemoryBus();
    const config = loadGatewayConfig(TEST_ENV);
    const second = await startGateway(config, { pool: stack.db.pool, bus, logger: createLogger({ service: "gateway", level: "silent" }) });
    try {
      await bus.close();
      const ready = await fetch(`http://127.0.0.1:${second.port}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: "unavailable", checks: { database: "ok", bus: "bus is closed", migrations: "ok" } });
      expect((await fetch(`http://127.0.0.1:${second.port}/health/live`)).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it("every response carries security headers and a request id (the caller's when sane)", async () => {
    const page = await fetch(`${stack.baseUrl}/`, { headers: { "x-request-id": "abc-123" } });
    expect(page.headers.get("x-request-id")).toBe("abc-123");
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'self'.*connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ .*frame-ancestors 'none'/);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("x-powered-by")).toBeNull();
    const rpc = await fetch(`${stack.baseUrl}/sovd.v1.CommandService/ListCommandTypes`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "bad id with spaces!" },
      body: "{}",
    });
    expect(rpc.status).toBe(401);
    expect(rpc.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(rpc.headers.get("content-security-policy")).not.toBeNull();
    expect(await rpc.text()).not.toMatch(/at .*\.ts:\d+/); // never a stack trace
  });

  it("CORS: only the configured origins", async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.baseUrl}/sovd.v1.CommandService/ListCommandTypes`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
      });
    const allowed = await preflight("https://app.example.com");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(allowed.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    const denied = await preflight("https://evil.example.com");
    expect(denied.status).toBe(403);
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
    const call = await fetch(`${stack.baseUrl}/sovd.v1.CommandService/ListCommandTypes`, {
      method: "POST",
      headers: { origin: "https://app.example.com", "content-type": "application/json", authorization: `Bearer ${engineer.accessToken}` },
      body: "{}",
    });
    expect(call.status).toBe(200);
    expect(call.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(call.headers.get("access-control-expose-headers")).toMatch(/x-request-id/);
  });

  it("serves the web app: hashed assets immutable, client routes fall back to index.html, nothing outside the folder", async () => {
    const index = await fetch(`${stack.baseUrl}/`);
    expect(index.headers.get("content-type")).toMatch(/text\/html/);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(await index.text()).toContain("<title>SOVD</title>");
    const asset = await fetch(`${stack.baseUrl}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    const route = await fetch(`${stack.baseUrl}/commands/some-id`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain("<title>SOVD</title>");
    expect((await fetch(`${stack.baseUrl}/missing.png`)).status).toBe(404);
    // Raw paths (fetch would normalise them): encoded traversal is refused, never served.
    const raw = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        get(`${stack.baseUrl}${path}`, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        }).on("error", reject);
      });
    expect(await raw("/..%2f..%2f..%2fetc%2fpasswd")).toMatchObject({ status: 404 });
    const dotted = await raw("/../../etc/passwd");
    expect(dotted.body).not.toMatch(/root:/);
  });

  it("bounds request bodies and writes nothing for an oversized one", async () => {
    const before = (await stack.db.pool.query("SELECT count(*)::int AS n FROM commands")).rows[0].n;
    const res = await fetch(`${stack.baseUrl}/sovd.v1.CommandService/SubmitCommand`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${engineer.accessToken}` },
      body: JSON.stringify({ vehicleId: stack.vehicle(0).vehicleId, commandName: "ReadDTC", params: { junk: "x".repeat(100_000) } }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await res.json()).toMatchObject({ code: "resource_exhausted" });
    expect((await stack.db.pool.query("SELECT count(*)::int AS n FROM commands")).rows[0].n).toBe(before);
  });

  it("answers gRPC clients on the same port (buf curl, HTTP/2 prior knowledge)", async () => {
    const { stdout } = await run(
      `${root}/node_modules/.bin/buf`,
      [
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "--schema",
        "proto",
        "-H",
        `authorization: Bearer ${engineer.accessToken}`,
        `${stack.baseUrl}/sovd.v1.CommandService/ListCommandTypes`,
      ],
      { cwd: root, timeout: 20_000 },
    );
    expect(JSON.parse(stdout).commandTypes.map((c: { name: string }) => c.name)).toEqual(["ReadDTC", "ClearDTC", "ReadDataByID"]);
  });

  it("WatchVehicles streams presence changes", async () => {
    const v = stack.vehicle(0);
    const abort = new AbortController();
    const stream = engineer.vehicles.watchVehicles({}, { signal: abort.signal })[Symbol.asyncIterator]();
    // On a shared NATS other tests' vehicles come and go too: read until ours shows up.
    const next = (async () => {
      for (;;) {
        const r = await stream.next();
        if (r.done || r.value.vehicle?.vehicleId === v.vehicleId) return r;
      }
    })();
    // Publish until the subscription (set up by the server asynchronously) sees one.
    const event = create(VehicleEventSchema, { vehicle: { vehicleId: v.vehicleId, vin: v.vin, connectionStatus: ConnectionStatus.OFFLINE } });
    const timer = setInterval(() => stack.bus.publish(presenceSubject(v.vehicleId), toBinary(VehicleEventSchema, event)), 50);
    try {
      const got = await next;
      expect(got.value?.vehicle).toMatchObject({ vehicleId: v.vehicleId, connectionStatus: ConnectionStatus.OFFLINE });
    } finally {
      clearInterval(timer);
      abort.abort();
    }
  });

  it("the circuit breaker opens after 5 failed dispatches, fails fast, and a trial after the cool-down closes it", async () => {
    const v = stack.vehicle(2);
    for (let i = 0; i < 5; i++) {
      const { command } = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC" });
      await stack.waitForStatus(command!.commandId, "failed");
    }
    const metric = async () => (await (await fetch(`${stack.baseUrl}/metrics`)).text()).match(/^circuit_breakers_open (\d+)$/m)?.[1];
    expect(await metric()).toBe("1");
    const connector = await stack.fakeConnector(v.vehicleId);
    try {
      const fast = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC" });
      const failed = await stack.waitForStatus(fast.command!.commandId, "failed");
      expect(failed.error_message).toBe("Vehicle unreachable");
      expect(connector.dispatches).toHaveLength(0);
      const audit = await stack.db.pool.query("SELECT details FROM audit_logs WHERE command_id = $1 AND action = 'command_failed'", [fast.command!.commandId]);
      expect(audit.rows[0].details).toMatchObject({ reason: "circuit breaker open", attempts: 0 });
      await new Promise((resolve) => setTimeout(resolve, 450));
      const trial = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC" });
      await stack.waitForStatus(trial.command!.commandId, "in_progress");
      expect(await metric()).toBe("0");
      const after = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC" });
      await stack.waitForStatus(after.command!.commandId, "in_progress");
      expect(connector.dispatches.map((d) => d.commandId)).toEqual([trial.command!.commandId, after.command!.commandId]);
    } finally {
      connector.stop();
    }
  });

  it("exports the gateway metrics in Prometheus text", async () => {
    const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    for (const name of [
      "commands_submitted_total",
      "commands_executed_total",
      "command_execution_duration_seconds_bucket",
      "rpc_requests_total",
      "rpc_request_duration_seconds_bucket",
      "watch_streams_active",
      "websocket_connections_active",
      "dispatch_retries_total",
      "circuit_breakers_open",
      "bus_errors_total",
      "database_errors_total",
      "process_cpu_user_seconds_total",
    ]) {
      expect(text, name).toMatch(new RegExp(`^${name}`, "m"));
    }
    expect(text).toMatch(/^rpc_requests_total\{service="sovd.v1.CommandService",method="SubmitCommand",code="ok"\} \d+/m);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/); // no ids as labels
  });

  it("shuts down gracefully: watch streams end unavailable, WebSockets close 1001, subscriptions are released", async () => {
    const v = stack.vehicle(1);
    const connector = await stack.fakeConnector(v.vehicleId);
    const { command } = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC" });
    const id = command!.commandId;
    await stack.waitForStatus(id, "in_progress");
    connector.stop();
    const watchersBefore = stack.gateway.watcherCount();
    const watch = engineer.commands.watchCommand({ commandId: id })[Symbol.asyncIterator]();
    expect((await watch.next()).value?.event.case).toBe("status");
    const ws = new WebSocket(`${stack.baseUrl.replace("http", "ws")}/ws/responses/${id}?token=${engineer.accessToken}`);
    const wsClosed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    await new Promise((resolve) => ws.once("open", resolve));
    await expect.poll(() => stack.gateway.watcherCount()).toBe(watchersBefore + 2);

    await stack.gateway.close();
    expect(await wsClosed).toBe(1001);
    const ended = await watch.next().then(
      () => undefined,
      (err: unknown) => ConnectError.from(err).code,
    );
    expect(ended).toBe(Code.Unavailable);
    expect(stack.gateway.watcherCount()).toBe(watchersBefore);
    // The command itself is untouched: its connector still owns it.
    expect((await stack.db.pool.query("SELECT status FROM commands WHERE command_id = $1", [id])).rows[0].status).toBe("in_progress");
    await expect(fetch(`${stack.baseUrl}/health/live`)).rejects.toThrow();
  });
});

import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { create, fromBinary, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { ConnectError, createClient, type Client, type Code, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import {
  createLogger,
  finishCommand,
  fleetIdentity,
  getCommandRow,
  hashPassword,
  publishCommandEvent,
  publishTerminalEvents,
  responseFromRow,
  statusEventFromRow,
  type Bus,
  type BusSubscription,
  type CommandRow,
  type ResponseRow,
  type VehicleIdentity,
} from "@sovd/platform";
import {
  AuthService,
  CommandEventSchema,
  CommandService,
  DispatchReplySchema,
  DispatchRequestSchema,
  ErrorMessages,
  VehicleService,
  executeSubject,
  type DispatchRequest,
} from "@sovd/proto";
import { loadGatewayConfig, seedGatewayDatabase, startGateway, type Gateway } from "@sovd/gateway";
import { createTestBus, createTestDatabase, uniqueFleetBase, type TestDatabase } from "../src/infra.js";

/** One password for every user of a gateway test. */
export const PASSWORD = "gateway-test-password-1";

/** Clients of one user over one protocol. */
export interface UserClients {
  readonly token: string;
  readonly userId: string;
  readonly commands: Client<typeof CommandService>;
  readonly vehicles: Client<typeof VehicleService>;
}

/** What a fake connector saw and how it answers. */
export interface FakeConnector {
  readonly dispatches: DispatchRequest[];
  /** Headers of each dispatch, in order. */
  readonly headers: Record<string, string>[];
  stop(): void;
}

/**
 * A real gateway on port 0 with a database and bus of the test's own, test users
 * (engineer, engineer2, viewer, admin), test vehicles from a fleet range no other test uses,
 * and what a connector would do, done by hand through the platform command store.
 */
export interface GatewayStack extends AsyncDisposable {
  readonly db: TestDatabase;
  readonly bus: Bus;
  readonly gateway: Gateway;
  readonly baseUrl: string;
  readonly logs: Record<string, unknown>[];
  vehicle(i: number): VehicleIdentity;
  login(username: "engineer" | "engineer2" | "viewer" | "admin", protocol?: "connect" | "grpc"): Promise<UserClients>;
  clients(token: string, protocol?: "connect" | "grpc"): { commands: Client<typeof CommandService>; vehicles: Client<typeof VehicleService> };
  /** Answers dispatches for a vehicle: accepted (marking the command in_progress) or rejected. */
  fakeConnector(vehicleId: string, answer?: "accept" | "reject" | "silent"): Promise<FakeConnector>;
  /** Stores a chunk as the connector does, and publishes its event unless `publish` is false. */
  chunk(commandId: string, sequence: number, payload: JsonObject, opts?: { isFinal?: boolean; publish?: boolean }): Promise<ResponseRow>;
  /** Completes a command as the connector does (row + audit, then events). */
  complete(commandId: string): Promise<CommandRow>;
  /** Fails a command as the connector does. */
  fail(commandId: string, message: string, phase: "delivery" | "response"): Promise<CommandRow>;
  waitForStatus(commandId: string, status: string, timeoutMs?: number): Promise<CommandRow>;
  close(): Promise<void>;
}

export async function startGatewayStack(env: Record<string, string> = {}): Promise<GatewayStack> {
  const db = await createTestDatabase();
  const bus = await createTestBus("gateway-test");
  const webDir = await mkdtemp(join(tmpdir(), "gateway-web-"));
  await mkdir(join(webDir, "assets"));
  await writeFile(join(webDir, "index.html"), "<!doctype html><title>SOVD</title><div id=app></div>");
  await writeFile(join(webDir, "assets", "index-abc123.js"), "console.log('app')");
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ service: "gateway", level: "debug", destination });
  const config = loadGatewayConfig({
    NODE_ENV: "test",
    JWT_SECRET: "gateway-test-secret-0123456789-abcdefghijkl",
    GATEWAY_PORT: "0",
    GATEWAY_HOST: "127.0.0.1",
    WEB_DIST_DIR: webDir,
    DISPATCH_BACKOFF_MS: "5",
    DISPATCH_REQUEST_TIMEOUT_MS: "300",
    SHUTDOWN_GRACE_MS: "500",
    RATE_LIMIT_LOGIN_PER_MIN: "1000",
    RATE_LIMIT_SUBMIT_PER_MIN: "1000",
    RATE_LIMIT_OTHER_PER_MIN: "10000",
    CORS_ORIGINS: "https://app.example.com",
    ...env,
  });
  await seedGatewayDatabase(db.pool, config); // nothing with NODE_ENV=test, but what main.ts does for any env given
  const gateway = await startGateway(config, { pool: db.pool, bus, logger });
  const baseUrl = `http://127.0.0.1:${gateway.port}`;

  const users: Record<string, string> = {};
  const hash = await hashPassword(PASSWORD);
  for (const [username, role] of [
    ["engineer", "engineer"],
    ["engineer2", "engineer"],
    ["viewer", "viewer"],
    ["admin", "admin"],
  ] as const) {
    const { rows } = await db.pool.query<{ user_id: string }>(
      "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) RETURNING user_id",
      [username, hash, role],
    );
    users[username] = rows[0]!.user_id;
  }
  const base = uniqueFleetBase();
  for (let i = 0; i < 4; i++) {
    const v = fleetIdentity(base + i);
    await db.pool.query("INSERT INTO vehicles (vehicle_id, vin, make, model, year, connection_status) VALUES ($1, $2, $3, $4, $5, $6)", [
      v.vehicleId,
      v.vin,
      v.make,
      v.model,
      v.year,
      i === 3 ? "offline" : "online",
    ]);
  }

  const transports = new Map<string, Transport>();
  const transport = (protocol: "connect" | "grpc", token: string): Transport => {
    const auth: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    };
    return protocol === "grpc"
      ? createGrpcTransport({ baseUrl, interceptors: [auth] })
      : createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [auth] });
  };
  const subs: BusSubscription[] = [];

  const stack: GatewayStack = {
    db,
    bus,
    gateway,
    baseUrl,
    logs,
    vehicle: (i) => fleetIdentity(base + i),
    clients(token, protocol = "connect") {
      const key = `${protocol}:${token}`;
      const t = transports.get(key) ?? transport(protocol, token);
      transports.set(key, t);
      return { commands: createClient(CommandService, t), vehicles: createClient(VehicleService, t) };
    },
    async login(username, protocol = "connect") {
      const authClient = createClient(AuthService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
      const res = await authClient.login({ username, password: PASSWORD });
      return { token: res.accessToken, userId: users[username]!, ...stack.clients(res.accessToken, protocol) };
    },
    async fakeConnector(vehicleId, answer = "accept") {
      const sub = await bus.subscribe(executeSubject(vehicleId));
      subs.push(sub);
      const dispatches: DispatchRequest[] = [];
      const headers: Record<string, string>[] = [];
      void (async () => {
        for await (const m of sub) {
          const req = fromBinary(DispatchRequestSchema, m.data);
          dispatches.push(req);
          headers.push({ ...m.headers });
          if (answer === "silent") continue;
          if (answer === "accept") {
            const { rows } = await db.pool.query<CommandRow>(
              "UPDATE commands SET status = 'in_progress', started_at = now() WHERE command_id = $1 AND status IN ('pending', 'queued') RETURNING *",
              [req.commandId],
            );
            if (rows[0]) publishCommandEvent(bus, statusEventFromRow(rows[0]), rows[0].correlation_id);
          }
          m.respond(toBinary(DispatchReplySchema, create(DispatchReplySchema, { accepted: answer === "accept", reason: answer === "reject" ? "draining" : "" })));
        }
      })();
      await bus.flush();
      return { dispatches, headers, stop: () => sub.unsubscribe() };
    },
    async chunk(commandId, sequence, payload, opts = {}) {
      const { rows } = await db.pool.query<ResponseRow>(
        `INSERT INTO responses (command_id, response_payload, sequence_number, is_final) VALUES ($1, $2, $3, $4)
         RETURNING response_id, command_id, response_payload, sequence_number, is_final, received_at`,
        [commandId, JSON.stringify(payload), sequence, opts.isFinal ?? false],
      );
      await db.pool.query("UPDATE commands SET last_sequence = $2 WHERE command_id = $1", [commandId, sequence]);
      const row = rows[0]!;
      if (opts.publish !== false) {
        publishCommandEvent(bus, create(CommandEventSchema, { commandId, event: { case: "response", value: responseFromRow(row) } }));
      }
      return row;
    },
    async complete(commandId) {
      const row = await finishCommand(db.pool, { commandId, status: "completed", audit: { action: "command_completed" } });
      if (!row) throw new Error(`command ${commandId} was already terminal`);
      publishTerminalEvents(bus, row);
      return row;
    },
    async fail(commandId, message, phase) {
      const row = await finishCommand(db.pool, {
        commandId,
        status: "failed",
        errorMessage: message,
        failurePhase: phase,
        audit: { action: message === ErrorMessages.timeout ? "command_timeout" : "command_failed" },
      });
      if (!row) throw new Error(`command ${commandId} was already terminal`);
      publishTerminalEvents(bus, row);
      return row;
    },
    async waitForStatus(commandId, status, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const row = await getCommandRow(db.pool, commandId);
        if (row?.status === status) return row;
        if (Date.now() > until) throw new Error(`command ${commandId} is ${row?.status}, not ${status}, after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      for (const s of subs) s.unsubscribe();
      await gateway.close();
      await bus.close();
      await db.close();
      await rm(webDir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]: () => stack.close(),
  };
  return stack;
}

/** Reads a server stream into an array until it ends or `count` messages arrived. */
export async function take<T>(stream: AsyncIterable<T>, count = Infinity): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) {
    out.push(item);
    if (out.length >= count) break;
  }
  return out;
}

/** The Connect code and raw message a call fails with; throws when the call succeeds. */
export async function codeOf(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error("expected the call to fail");
}

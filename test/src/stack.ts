import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallOptions } from "@connectrpc/connect";
import { loadConnectorConfig, startConnector as runConnector, type Connector } from "@sovd/connector";
import { loadGatewayConfig, seedGatewayDatabase, startGateway, type Auth, type Gateway, type RoleName } from "@sovd/gateway";
import { captureLogs, createMetricsRegistry, fleetIdentity, type Bus, type Env, type Registry, type VehicleIdentity } from "@sovd/platform";
import { type CommandRow, type ResponseRow } from "@sovd/domain";
import { fromBinary } from "@bufbuild/protobuf";
import type { JsonObject } from "@bufbuild/protobuf";
import { CommandEventSchema, VehicleEventSchema, commandEventsSubject, presenceSubject, type CommandEvent, type DispatchReply, type StoredStatus, type VehicleEvent } from "@sovd/proto";
import type { Fleet, FleetConfig } from "@sovd/vehicle-sim";
import { fromAddress, startAuthServer } from "./auth-server.js";
import { createFakeConnector, type DispatchAnswer, type FakeConnector, type ServedVehicle } from "./fake-connector.js";
import { createFakeGateway, type FakeGateway, type InsertCommand } from "./fake-gateway.js";
import { connectRawVehicle, type RawVehicle } from "./raw-vehicle.js";
import { TEST_JWT_SECRET, TEST_PASSWORD, TEST_VEHICLE_SECRET } from "./secrets.js";
import { createTestUser, readTestUsers, SEEDED_PASSWORDS, seedTestUsers, type TestUser, type TestUsername, type TestUsers } from "./seed-users.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
import { collectMessages, createTestBus, type Collector } from "./test-bus.js";
import { commandRow, createTestDatabase, waitForCommandStatus, type TestDatabase } from "./test-database.js";
import { startTestFleet, TEST_FLEET_ENV, uniqueFleetBase, type TestFleet } from "./test-fleet.js";
import { clientsFor, type Protocol, type StackClients } from "./transports.js";

/**
 * What every service of a test stack runs with: the test secrets, port 0 on loopback, short
 * sweeps, drains, backoffs and shutdown grace, rate limits no test reaches by accident, one
 * allowed CORS origin, and simulated vehicles without delays (TEST_FLEET_ENV).
 */
export const TEST_ENV: Readonly<Env> = {
  ...TEST_FLEET_ENV,
  NODE_ENV: "test",
  JWT_SECRET: TEST_JWT_SECRET,
  VEHICLE_TOKEN_SECRET: TEST_VEHICLE_SECRET,
  GATEWAY_PORT: "0",
  GATEWAY_HOST: "127.0.0.1",
  SHUTDOWN_GRACE_MS: "500",
  DISPATCH_BACKOFF_MS: "10",
  RATE_LIMIT_LOGIN_PER_MIN: "1000",
  RATE_LIMIT_SUBMIT_PER_MIN: "1000",
  RATE_LIMIT_OTHER_PER_MIN: "10000",
  CORS_ORIGINS: "https://app.example.com",
  CONNECTOR_GRPC_PORT: "0",
  CONNECTOR_HTTP_PORT: "0",
  CONNECTOR_HOST: "127.0.0.1",
  SWEEP_INTERVAL_MS: "100",
  DRAIN_TIMEOUT_MS: "2000",
};

/** With the fake connector the gateway gives up on a silent or rejecting "connector" quickly. */
const FAKE_CONNECTOR_ENV: Readonly<Env> = { DISPATCH_BACKOFF_MS: "5", DISPATCH_REQUEST_TIMEOUT_MS: "300" };

/** The vehicles a fake-connector stack registers: 0-2 online (held by the fake when it serves them), 3 offline. */
const FAKE_CONNECTOR_VEHICLES = ["online", "online", "online", "offline"] as const;

/** What a stack runs; everything is optional and nothing not asked for starts. */
export interface StackOptions {
  /**
   * The real gateway (default); "auth-only", the auth routes and interceptor alone
   * (startAuthServer: other services unimplemented, `now` moves its clock); or "none",
   * for connector tests that play the gateway themselves (insertCommand, dispatch).
   */
  gateway?: "real" | "auth-only" | "none";
  /** Connectors started with the stack (default 1 when there are vehicles, else 0); more with startConnector(). */
  connectors?: number;
  /** Simulated vehicles started with the stack (default 0), stack.vehicle(0..n-1), dialling the connectors round-robin. */
  vehicles?: number;
  /**
   * The gateway's connector is the fake (fakeConnector, chunk, complete, fail): no real
   * connector, vehicles 0-2 registered online and 3 offline, answered only when a test says.
   */
  fakeConnector?: boolean;
  /**
   * NODE_ENV=development: the gateway seeds the development users (SEEDED_PASSWORDS) and
   * vehicles itself, as `npm start` does. Otherwise the stack seeds its four users with
   * TEST_PASSWORD.
   */
  development?: boolean;
  /** Environment over TEST_ENV for every service: COMMAND_TIMEOUT_*_MS, FAULT_*, BREAKER_*, WEB_DIST_DIR, ... */
  env?: Env;
  /** Spacing of the simulated vehicles' chunks (default 20 ms). */
  chunkIntervalMs?: number;
  /** The clock of the auth-only gateway (tokens, tickets, caches). */
  now?: () => Date;
  /** The gateway reaches these through a TcpProxy the test can cut and restore: stack.proxy(name). */
  proxied?: ReadonlyArray<"database" | "bus">;
}

/** A logged-in user: the tokens and the typed clients that send the access token. */
export interface UserSession extends StackClients {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly userId: string;
}

/**
 * A whole system, or the part a test needs, on port 0: a database of its own (a real
 * PostgreSQL schema or PGlite), the test bus (NATS or in-process), a gateway, connectors and
 * simulated or raw vehicles from a fleet index range no other test uses, the four users, and
 * every service's log lines. What is not asked for is not started; asking a stack for a part
 * it does not have throws, naming the option. Async-disposable:
 * `await using stack = await startStack(...)`, or useStack() for one stack per file.
 */
export interface Stack extends AsyncDisposable {
  readonly db: TestDatabase;
  /** The bus the gateway uses, and the test's for observing and publishing (connectors have their own NATS connections). */
  readonly bus: Bus;
  /** Every service's log lines so far, parsed (level debug). */
  readonly logs: readonly Record<string, unknown>[];
  /** Every service's log output so far, as text. */
  logText(): string;
  /** viewer, engineer, engineer2, admin. */
  readonly users: TestUsers;
  /** Inserts another user with TEST_PASSWORD. */
  createUser(username: string, role: RoleName, opts?: { active?: boolean }): Promise<TestUser>;

  /** The real gateway (gateway "real"). */
  readonly gateway: Gateway;
  /** The auth of the auth-only gateway (authenticateStream and the like). */
  readonly auth: Auth;
  /** The gateway's metrics registry. */
  readonly registry: Registry;
  /** `http://127.0.0.1:<port>` of the gateway. */
  readonly baseUrl: string;
  /** Clients that send `authorization: Bearer <token>` (none without one), over Connect (HTTP/1.1) or gRPC (HTTP/2). */
  clients(token?: string, protocol?: Protocol): StackClients;
  /** Logs a user in (with the stack's password unless given) and returns the session's clients. */
  login(username: TestUsername | (string & {}), opts?: { password?: string; protocol?: Protocol }): Promise<UserSession>;
  /** Call options with a Bearer token, from `address` (the auth-only gateway reads it). */
  as(token: string, address?: string): CallOptions;
  /** Call options for an anonymous call from `address` (the auth-only gateway reads it). */
  from(address?: string): CallOptions;

  /** Connectors running now, in start order. */
  readonly connectors: readonly Connector[];
  /** Starts a connector on the stack's database (a pool of its own) and bus (a NATS connection of its own). */
  /**
   * `databaseUrl` / `busUrl`: the connector's own way to the database or to NATS (e.g. through a
   * TcpProxy the test cuts; `busUrl` needs NATS_URL).
   */
  startConnector(env?: Env, opts?: { databaseUrl?: string; busUrl?: string }): Promise<Connector>;
  /** The simulated vehicles started with the stack, as one fleet. */
  readonly fleet: Fleet;
  /** Vehicle ids of those vehicles, in order. */
  readonly vehicleIds: readonly string[];
  /** The stack's vehicle number i (its own fleet range). */
  vehicle(i: number): VehicleIdentity;
  /** Starts more simulated vehicles (a fresh fleet range) dialling `connector` (the first when absent); they are online when it resolves. */
  startFleet(opts?: { connector?: Connector; vehicles?: number; overrides?: Partial<FleetConfig>; onlineTimeoutMs?: number }): Promise<TestFleet>;
  /**
   * Takes vehicle `i` off its connector and dials connector `c` with the same identity, as a
   * vehicle that reconnects elsewhere does. Resolves once it is online there.
   */
  moveVehicle(i: number, c: number): Promise<{ connectorSessions: number[] }>;
  /** A raw vehicle (raw-vehicle.ts) with a valid token for `identity` unless `token` says otherwise. */
  connectVehicle(connector: Connector, identity: VehicleIdentity, opts?: { token?: string | null }): Promise<RawVehicle>;
  /** Connects a raw vehicle, says hello, and waits for the Welcome. */
  onlineVehicle(connector: Connector, identity: VehicleIdentity): Promise<RawVehicle>;

  /** The gateway's side by hand (fake-gateway.ts): a vehicle row. */
  insertVehicle(identity: VehicleIdentity, connectionStatus?: "online" | "offline"): Promise<void>;
  /** The gateway's side by hand: a command row, the engineer's unless `userId` is given. */
  insertCommand(c: InsertCommand): Promise<string>;
  /** The gateway's side by hand: the DispatchRequest of a command row. */
  dispatch(commandId: string, timeoutMs?: number): Promise<DispatchReply>;
  /** Events of a command on the bus, from now on. */
  commandEvents(commandId: string): Promise<Collector<CommandEvent>>;
  /** Presence events of a vehicle on the bus, from now on. */
  presence(vehicleId: string): Promise<Collector<VehicleEvent>>;

  /** The connector's side by hand (fake-connector.ts, option fakeConnector): answers a vehicle's dispatches. */
  fakeConnector(vehicleId: string, answer?: DispatchAnswer): Promise<ServedVehicle>;
  /** Stores a chunk as the connector does, and publishes its event unless `publish` is false. */
  chunk(commandId: string, sequence: number, payload: JsonObject, opts?: { isFinal?: boolean; publish?: boolean }): Promise<ResponseRow>;
  /** Completes a command as the connector does (row and audit, then events). */
  complete(commandId: string): Promise<CommandRow>;
  /** Fails a command as the connector does. */
  fail(commandId: string, message: string, phase: "delivery" | "response"): Promise<CommandRow>;

  /** A command's row as the services see it. */
  commandRow(commandId: string): Promise<CommandRow>;
  /** Waits until a command's row has `status`. */
  waitForStatus(commandId: string, status: StoredStatus, timeoutMs?: number): Promise<CommandRow>;
  /** The proxy between the gateway and PostgreSQL or NATS (option proxied). */
  proxy(name: "database" | "bus"): TcpProxy;

  /** Stops what was started after the stack came up (connectors, fleets, raw vehicles, collectors, served vehicles) and forgets the log lines. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const need = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`this stack has no ${what}`);
  return value;
};

/** A web app folder for gateways that serve one without building the real app. */
async function stubWebApp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gateway-web-"));
  await mkdir(join(dir, "assets"));
  await writeFile(join(dir, "index.html"), "<!doctype html><title>SOVD</title><div id=app></div>");
  await writeFile(join(dir, "assets", "index-abc123.js"), "console.log('app')");
  return dir;
}

/**
 * Starts a stack (see Stack and StackOptions); on failure, stops what it had started. The
 * parts come from the small helpers beside it: test-database, test-bus, seed-users, secrets,
 * transports, test-fleet, raw-vehicle, fake-gateway, fake-connector, auth-server.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const gatewayKind = opts.gateway ?? "real";
  const vehicleCount = opts.vehicles ?? 0;
  const connectorCount = opts.connectors ?? (vehicleCount > 0 ? 1 : 0);
  if (opts.fakeConnector && (gatewayKind !== "real" || connectorCount > 0 || vehicleCount > 0)) {
    throw new Error("fakeConnector plays the connector of a real gateway: no connectors, no vehicles");
  }
  if (vehicleCount > 0 && connectorCount === 0) throw new Error("vehicles need a connector to dial");
  if (opts.development && gatewayKind !== "real") throw new Error("development seeding is the real gateway's");
  const proxied = new Set(opts.proxied ?? []);
  if (proxied.size > 0 && gatewayKind !== "real") throw new Error("proxied connections are the real gateway's");
  const env: Record<string, string | undefined> = {
    ...TEST_ENV,
    ...(opts.development ? { NODE_ENV: "development" } : {}),
    ...(opts.fakeConnector ? FAKE_CONNECTOR_ENV : {}),
    ...(opts.chunkIntervalMs === undefined ? {} : { SIM_CHUNK_INTERVAL_MS: String(opts.chunkIntervalMs) }),
    ...opts.env,
  };

  // Teardown in reverse start order. What starts after startStack returns is undone by reset().
  const started: Array<() => Promise<void>> = [];
  const afterwards: Array<() => Promise<void>> = [];
  let up = false;
  const onClose = (cleanup: () => PromiseLike<void> | void): void => {
    (up ? afterwards : started).push(async () => cleanup());
  };
  const undo = async (list: Array<() => Promise<void>>): Promise<void> => {
    let first: unknown;
    for (const cleanup of list.splice(0).reverse()) {
      await cleanup().catch((err: unknown) => (first ??= err));
    }
    if (first !== undefined) throw first;
  };
  const closeAll = async (): Promise<void> => {
    await undo(afterwards).finally(() => undo(started));
  };

  const logs = captureLogs({ service: "gateway" });
  const db = await createTestDatabase();
  onClose(() => db.close());
  try {
    const natsUrl = process.env.NATS_URL;
    let busUrl = natsUrl;
    const proxies = new Map<"database" | "bus", TcpProxy>();
    if (proxied.has("bus")) {
      if (!natsUrl) throw new Error("only a NATS connection can go through a proxy: set NATS_URL");
      const nats = new URL(natsUrl);
      const proxy = await startTcpProxy(nats.hostname, Number(nats.port || 4222));
      onClose(() => proxy.close());
      proxies.set("bus", proxy);
      busUrl = `nats://127.0.0.1:${proxy.port}`;
    }
    const bus = await createTestBus(gatewayKind === "none" ? "test" : "gateway", busUrl);
    onClose(() => bus.close());
    // The in-process bus is one process's bus: every service shares it. NATS: a connection each.
    const busFor = async (name: string): Promise<Bus> => {
      if (!natsUrl) return bus;
      const own = await createTestBus(name, natsUrl);
      onClose(() => own.close());
      return own;
    };

    let users: TestUsers | undefined = opts.development ? undefined : await seedTestUsers(db.pool);
    let fakeGateway: FakeGateway | undefined;
    const gatewaySide = (): FakeGateway => (fakeGateway ??= createFakeGateway({ pool: db.pool, bus, defaultUserId: need(users, "users").engineer.userId }));

    const connectors: Connector[] = [];
    const startConnector = async (extra: Env = {}, o: { databaseUrl?: string; busUrl?: string } = {}): Promise<Connector> => {
      const config = loadConnectorConfig({ ...env, ...extra });
      const connectorBus = o.busUrl ? await createTestBus(config.connectorId, o.busUrl) : await busFor(config.connectorId);
      if (o.busUrl) onClose(() => connectorBus.close());
      const { pool, close } = db.servicePool(o.databaseUrl);
      onClose(close);
      const connector = await runConnector(config, { pool, bus: connectorBus, logger: logs.loggerFor("connector") });
      connectors.push(connector);
      onClose(() => {
        const at = connectors.indexOf(connector);
        if (at >= 0) connectors.splice(at, 1);
        return connector.close();
      });
      return connector;
    };
    for (let i = 0; i < connectorCount; i++) await startConnector();

    let gateway: Gateway | undefined;
    let auth: Auth | undefined;
    let registry: Registry | undefined;
    let baseUrl: string | undefined;
    if (gatewayKind !== "none") {
      let via: string | undefined;
      if (proxied.has("database")) {
        const target = new URL(db.url);
        const proxy = await startTcpProxy(target.hostname, Number(target.port));
        onClose(() => proxy.close());
        proxies.set("database", proxy);
        const url = new URL(db.url);
        url.port = String(proxy.port);
        via = url.toString();
      }
      const { pool, close } = db.servicePool(via);
      onClose(close);
      registry = createMetricsRegistry();
      if (gatewayKind === "real") {
        if (env.WEB_DIST_DIR === undefined) {
          const dir = await stubWebApp();
          onClose(() => rm(dir, { recursive: true, force: true }));
          env.WEB_DIST_DIR = dir;
        }
        // The database is migrated (createTestDatabase); the seed is what main.ts adds before startGateway.
        const gatewayConfig = loadGatewayConfig(env);
        await seedGatewayDatabase(pool, gatewayConfig);
        const g = await startGateway(gatewayConfig, { pool, bus, logger: logs.logger, registry });
        onClose(() => g.close());
        gateway = g;
        baseUrl = `http://127.0.0.1:${g.port}`;
      } else {
        const server = await startAuthServer({ pool, logger: logs.logger, registry, env, now: opts.now });
        onClose(() => server.close());
        auth = server.auth;
        baseUrl = server.baseUrl;
      }
    }
    users ??= await readTestUsers(db.pool);
    const clients = baseUrl === undefined ? undefined : clientsFor(baseUrl);

    const base = uniqueFleetBase();
    const vehicle = (i: number): VehicleIdentity => fleetIdentity(base + i);
    let fakeConnector: FakeConnector | undefined;
    if (opts.fakeConnector) {
      const fake = createFakeConnector({ pool: db.pool, bus });
      onClose(() => fake.close());
      fakeConnector = fake;
      for (const [i, status] of FAKE_CONNECTOR_VEHICLES.entries()) await gatewaySide().insertVehicle(vehicle(i), status);
    }
    const connectorSide = (): FakeConnector => need(fakeConnector, "fake connector (option fakeConnector)");

    const startFleet = async (o: { connector?: Connector; vehicles?: number; firstIndex?: number; overrides?: Partial<FleetConfig>; onlineTimeoutMs?: number } = {}): Promise<TestFleet> => {
      const { connector = need(connectors[0], "connector for the fleet to dial"), ...fleetOpts } = o;
      const fleet = await startTestFleet({ ...fleetOpts, connectorPort: connector.grpcPort, logs, env });
      onClose(() => fleet.close());
      return fleet;
    };
    // One fleet per vehicle, spread round-robin over the connectors, so each can move.
    const fleets: TestFleet[] = [];
    const dial = async (i: number, c: number): Promise<TestFleet> => {
      const fleet = await startFleet({ connector: connectors[c]!, firstIndex: base + i, onlineTimeoutMs: 10_000 });
      fleets[i] = fleet;
      return fleet;
    };
    for (let i = 0; i < vehicleCount; i++) await dial(i, i % connectorCount);
    const vehicles = fleets.map((f) => f.vehicles[0]!);
    const fleet: Fleet = {
      vehicles,
      vehicle: (i) => vehicles[i]!,
      get online() {
        return fleets.reduce((n, f) => n + f.online, 0);
      },
      waitUntilOnline: async (timeoutMs) => {
        await Promise.all(fleets.map((f) => f.waitUntilOnline(timeoutMs)));
      },
      close: async () => {
        await Promise.all(fleets.map((f) => f.close()));
      },
    };

    const connectVehicle = async (connector: Connector, identity: VehicleIdentity, o: { token?: string | null } = {}): Promise<RawVehicle> => {
      const v = await connectRawVehicle({ port: connector.grpcPort, identity, secret: TEST_VEHICLE_SECRET, ...o });
      onClose(async () => v[Symbol.asyncDispose]());
      return v;
    };
    const collect = async <T>(subject: string, decode: (data: Uint8Array) => T): Promise<Collector<T>> => {
      const c = await collectMessages(bus, subject, decode);
      onClose(() => c.stop());
      return c;
    };
    const clientsOf = (): ((token?: string, protocol?: Protocol) => StackClients) => need(clients, "gateway");

    const stack: Stack = {
      db,
      bus,
      get logs() {
        return logs.lines;
      },
      logText: () => logs.text(),
      users,
      createUser: (username, role, o) => createTestUser(db.pool, username, role, o),

      get gateway() {
        return need(gateway, "real gateway (option gateway)");
      },
      get auth() {
        return need(auth, 'auth-only gateway (gateway: "auth-only")');
      },
      get registry() {
        return need(registry, "gateway");
      },
      get baseUrl() {
        return need(baseUrl, "gateway");
      },
      clients: (token, protocol) => clientsOf()(token, protocol),
      async login(username, o = {}) {
        const password = o.password ?? (opts.development ? (SEEDED_PASSWORDS[username] ?? "") : TEST_PASSWORD);
        // The auth-only gateway takes the client address from a header; the real one from the socket.
        const res = await clientsOf()().auth.login({ username, password }, gatewayKind === "auth-only" ? fromAddress() : {});
        return { accessToken: res.accessToken, refreshToken: res.refreshToken, userId: res.user?.userId ?? "", ...clientsOf()(res.accessToken, o.protocol) };
      },
      as: (token, address) => ({ headers: { ...(fromAddress(address).headers as Record<string, string>), authorization: `Bearer ${token}` } }),
      from: fromAddress,

      connectors,
      startConnector,
      fleet,
      vehicleIds: vehicles.map((v) => v.identity.vehicleId),
      vehicle,
      startFleet,
      async moveVehicle(i, c) {
        const vehicleId = vehicle(i).vehicleId;
        await fleets[i]!.close();
        const moved = await dial(i, c);
        vehicles[i] = moved.vehicles[0]!;
        // Online on the new connector, and the old connector has let go of its session.
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline) {
          const { rows } = await db.pool.query<{ connection_status: string }>("SELECT connection_status FROM vehicles WHERE vehicle_id = $1", [vehicleId]);
          const total = connectors.reduce((n, x) => n + x.sessionCount(), 0);
          if (rows[0]?.connection_status === "online" && total === vehicles.length) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        return { connectorSessions: connectors.map((x) => x.sessionCount()) };
      },
      connectVehicle,
      async onlineVehicle(connector, identity) {
        const v = await connectVehicle(connector, identity);
        v.hello();
        await v.welcome();
        return v;
      },

      insertVehicle: (identity, connectionStatus) => gatewaySide().insertVehicle(identity, connectionStatus),
      insertCommand: (c) => gatewaySide().insertCommand(c),
      dispatch: (commandId, timeoutMs) => gatewaySide().dispatch(commandId, timeoutMs),
      commandEvents: (commandId) => collect(commandEventsSubject(commandId), (d) => fromBinary(CommandEventSchema, d)),
      presence: (vehicleId) => collect(presenceSubject(vehicleId), (d) => fromBinary(VehicleEventSchema, d)),

      async fakeConnector(vehicleId, answer) {
        const served = await connectorSide().serve(vehicleId, answer);
        onClose(() => served.stop());
        return served;
      },
      chunk: (commandId, sequence, payload, o) => connectorSide().chunk(commandId, sequence, payload, o),
      complete: (commandId) => connectorSide().finish(commandId, { status: "completed" }),
      fail: (commandId, message, phase) => connectorSide().finish(commandId, { status: "failed", message, phase }),

      commandRow: (commandId) => commandRow(db.pool, commandId),
      waitForStatus: (commandId, status, timeoutMs) => waitForCommandStatus(db.pool, commandId, status, timeoutMs),
      proxy: (name) => need(proxies.get(name), `proxy for the ${name} (option proxied)`),

      async reset() {
        await undo(afterwards);
        logs.clear();
      },
      close: closeAll,
      [Symbol.asyncDispose]: closeAll,
    };
    up = true;
    return stack;
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
}

import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { loadConnectorConfig, startConnector, type Connector } from "@sovd/connector";
import { loadGatewayConfig, seedGatewayDatabase, startGateway, type Gateway } from "@sovd/gateway";
import { createLogger, DEVELOPMENT_USERS, fleetIdentity, type Bus, type Env, type Logger } from "@sovd/platform";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";
import { loadFleetConfig, startFleet, type Fleet } from "@sovd/vehicle-sim";
import { createTestBus, createTestDatabase, uniqueFleetBase, type TestDatabase } from "./infra.js";

/** The fleet key of test stacks (connectors verify it, the simulator signs with it). */
export const STACK_VEHICLE_SECRET = "stack-test-vehicle-secret-0123456789abcdef";
/** JWT secret of test gateways. */
export const STACK_JWT_SECRET = "stack-test-jwt-secret-0123456789abcdefghijkl";

export interface TestStackOptions {
  /** Simulated vehicles (default 2), dialling the connectors round-robin. */
  vehicles?: number;
  /** Connector processes (default 1); with NATS each has its own connection. */
  connectors?: number;
  /** Extra environment for every service: COMMAND_TIMEOUT_*_MS, FAULT_*, DISPATCH_*, ... */
  env?: Env;
  /** Spacing of chunks (default 20 ms). */
  chunkIntervalMs?: number;
  /** Network delay before a first chunk, "min-max" ms (default "0"). */
  networkDelayMs?: string;
  /** Where log lines go (default: silent). */
  logger?: Logger;
}

/** Typed Connect clients of one user. */
export interface StackClients {
  auth: Client<typeof AuthService>;
  vehicles: Client<typeof VehicleService>;
  commands: Client<typeof CommandService>;
  audit: Client<typeof AuditService>;
}

/**
 * A whole system on port 0: a database of its own (real PostgreSQL schema or PGlite), the
 * test bus (NATS or in-process), N connectors, a gateway and a simulated fleet whose vehicle
 * ids nobody else uses. Async-disposable: `await using stack = await startTestStack()`.
 */
export interface TestStack extends AsyncDisposable {
  readonly db: TestDatabase;
  /** The bus the test can observe (the gateway's). */
  readonly bus: Bus;
  readonly gateway: Gateway;
  readonly connectors: readonly Connector[];
  readonly fleet: Fleet;
  /** `http://127.0.0.1:<port>` of the gateway. */
  readonly gatewayUrl: string;
  /** Vehicle ids of the fleet, in fleet order. */
  readonly vehicleIds: readonly string[];
  /** Logs in over Connect and returns the access token. Seeded users: admin, engineer, engineer2, viewer. */
  login(username: string, password?: string): Promise<string>;
  /** Clients that send `authorization: Bearer <token>`, over Connect (HTTP/1.1) or gRPC (HTTP/2). */
  clients(token?: string, protocol?: "connect" | "grpc"): StackClients;
  /** Starts another connector on the same database and bus (e.g. after killing one). */
  addConnector(): Promise<Connector>;
  /**
   * Takes vehicle `i` off its connector and dials connector `c` with the same identity, as a
   * vehicle that reconnects elsewhere does. Resolves once it is online there.
   */
  moveVehicle(i: number, c: number): Promise<{ connectorSessions: number[] }>;
  close(): Promise<void>;
}

/** Passwords of the development users seedGatewayDatabase creates (NODE_ENV=development). */
export const SEEDED_PASSWORDS: Readonly<Record<string, string>> = Object.fromEntries(DEVELOPMENT_USERS.map((u) => [u.username, u.password]));

export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const logger = opts.logger ?? createLogger({ service: "test", level: "silent" });
  const env: Env = {
    NODE_ENV: "development",
    JWT_SECRET: STACK_JWT_SECRET,
    VEHICLE_TOKEN_SECRET: STACK_VEHICLE_SECRET,
    GATEWAY_PORT: "0",
    CONNECTOR_GRPC_PORT: "0",
    CONNECTOR_HTTP_PORT: "0",
    SWEEP_INTERVAL_MS: "200",
    DISPATCH_BACKOFF_MS: "10",
    SIM_CHUNK_INTERVAL_MS: String(opts.chunkIntervalMs ?? 20),
    SIM_NETWORK_DELAY_MS: opts.networkDelayMs ?? "0",
    SIM_RECONNECT_INITIAL_MS: "20",
    SIM_RECONNECT_MAX_MS: "200",
    SIM_CONNECT_STAGGER_MS: "0",
    ...opts.env,
  };
  const db = await createTestDatabase();
  const cleanups: Array<() => Promise<void>> = [() => db.close()];
  const closeAll = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const gatewayBus = await createTestBus("gateway");
    cleanups.push(() => gatewayBus.close());
    // The in-process bus is one process's bus: every service shares it. NATS: a connection each.
    const busFor = async (name: string): Promise<Bus> => {
      if (gatewayBus.kind === "memory") return gatewayBus;
      const bus = await createTestBus(name);
      cleanups.push(() => bus.close());
      return bus;
    };

    const connectors: Connector[] = [];
    const addConnector = async (): Promise<Connector> => {
      const bus = await busFor(`connector-${connectors.length}`);
      const connector = await startConnector(loadConnectorConfig(env), {
        pool: db.pool,
        bus,
        logger: logger.child({ service: "connector", n: connectors.length }),
      });
      connectors.push(connector);
      cleanups.push(() => connector.close());
      return connector;
    };
    for (let i = 0; i < (opts.connectors ?? 1); i++) await addConnector();

    // The database is migrated (createTestDatabase); the seed is what main.ts adds before startGateway.
    const gatewayConfig = loadGatewayConfig(env);
    await seedGatewayDatabase(db.pool, gatewayConfig);
    const gateway = await startGateway(gatewayConfig, { pool: db.pool, bus: gatewayBus, logger: logger.child({ service: "gateway" }) });
    cleanups.push(() => gateway.close());
    const gatewayUrl = `http://127.0.0.1:${gateway.port}`;

    // One fleet per connector, vehicles spread round-robin, all from one unused index range.
    const total = opts.vehicles ?? 2;
    const base = uniqueFleetBase();
    const fleets: Fleet[] = [];
    const dial = async (i: number, c: number): Promise<Fleet> => {
      const fleet = await startFleet(
        loadFleetConfig({ ...env, CONNECTOR_URL: `127.0.0.1:${connectors[c]!.grpcPort}` }, ["--vehicles", "1", "--first-index", String(base + i)]),
        { logger: logger.child({ service: "vehicle-sim" }) },
      );
      fleets[i] = fleet;
      cleanups.push(() => fleet.close());
      return fleet;
    };
    for (let i = 0; i < total; i++) await dial(i, i % connectors.length);
    await Promise.all(fleets.map((f) => f.waitUntilOnline(10_000)));
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

    const transports = new Map<string, Transport>();
    const transportFor = (protocol: "connect" | "grpc"): Transport => {
      let t = transports.get(protocol);
      if (!t) {
        t = protocol === "grpc" ? createGrpcTransport({ baseUrl: gatewayUrl }) : createConnectTransport({ baseUrl: gatewayUrl, httpVersion: "1.1" });
        transports.set(protocol, t);
      }
      return t;
    };
    const clients = (token?: string, protocol: "connect" | "grpc" = "connect"): StackClients => {
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      const transport = transportFor(protocol);
      const withAuth = <T extends object>(client: T): T =>
        new Proxy(client, {
          get(target, prop, receiver) {
            const method = Reflect.get(target, prop, receiver) as unknown;
            if (typeof method !== "function") return method;
            return (req: unknown, options: { headers?: Record<string, string> } = {}) =>
              (method as (r: unknown, o: unknown) => unknown).call(target, req, { ...options, headers: { ...headers, ...options.headers } });
          },
        });
      return {
        auth: withAuth(createClient(AuthService, transport)),
        vehicles: withAuth(createClient(VehicleService, transport)),
        commands: withAuth(createClient(CommandService, transport)),
        audit: withAuth(createClient(AuditService, transport)),
      };
    };

    return {
      db,
      bus: gatewayBus,
      gateway,
      connectors,
      fleet,
      gatewayUrl,
      vehicleIds: vehicles.map((_, i) => fleetIdentity(base + i).vehicleId),
      async login(username, password) {
        const res = await clients().auth.login({ username, password: password ?? SEEDED_PASSWORDS[username] ?? "" });
        return res.accessToken;
      },
      clients,
      addConnector,
      async moveVehicle(i, c) {
        const vehicleId = fleetIdentity(base + i).vehicleId;
        await fleets[i]!.close();
        const moved = await dial(i, c);
        await moved.waitUntilOnline(10_000);
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
      close: closeAll,
      [Symbol.asyncDispose]: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

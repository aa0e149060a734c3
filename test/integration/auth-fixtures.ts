import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { createClient, createContextValues, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { createGatewayMetrics } from "@sovd/gateway";
import { createAuditService } from "../../gateway/src/audit/index.js";
import { createAuth, loadAuthConfig, type Auth, type RoleName } from "../../gateway/src/auth/index.js";
import { createErrorInterceptor } from "../../gateway/src/rpc/index.js";
import { clientInfoKey } from "../../gateway/src/request-context.js";
import { createLogger, createMetricsRegistry, hashPassword, requestIdFrom, type Env, type Registry } from "@sovd/platform";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";
import { createTestDatabase, type TestDatabase } from "../src/infra.js";

/** A secret long enough for loadAuthConfig; tests forge tokens with it. */
export const TEST_JWT_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

/** One password for every test user: the log-capture tests look for it. */
export const TEST_PASSWORD = "correct horse battery staple 42";

/** Header the fixture server reads the client address from, so tests can be "elsewhere". */
export const TEST_ADDRESS_HEADER = "x-test-client-address";

export interface TestUser {
  userId: string;
  username: string;
  role: RoleName;
}

/**
 * Auth over real HTTP: a Connect server on port 0 with the real auth and audit routes, the
 * gateway's error interceptor and the auth interceptor, its own database, and a logger whose
 * lines the test can read. The HTTP layer fills clientInfoKey as the gateway's does. Command
 * and vehicle services are mounted without handlers: a call the interceptor lets through
 * answers `unimplemented`, a refused one `unauthenticated` / `permission_denied`, so the role
 * table is observable on its own.
 */
export interface AuthStack extends AsyncDisposable {
  readonly db: TestDatabase;
  readonly auth: Auth;
  readonly registry: Registry;
  readonly baseUrl: string;
  readonly transport: Transport;
  /** Everything the logger wrote so far. */
  logText(): string;
  clients: {
    auth: Client<typeof AuthService>;
    audit: Client<typeof AuditService>;
    commands: Client<typeof CommandService>;
    vehicles: Client<typeof VehicleService>;
  };
  users: Record<"viewer" | "engineer" | "engineer2" | "admin", TestUser>;
  /** Call options with a Bearer token (and optionally another client address). */
  as(token: string, address?: string): CallOptions;
  /** Call options for a public call from `address`. */
  from(address?: string): CallOptions;
  /** Logs a test user in with TEST_PASSWORD. */
  login(username: string): Promise<{ accessToken: string; refreshToken: string }>;
  createUser(username: string, role: RoleName, opts?: { active?: boolean }): Promise<TestUser>;
  close(): Promise<void>;
}

export async function startAuthStack(opts: { env?: Env; now?: () => Date } = {}): Promise<AuthStack> {
  const db = await createTestDatabase();
  const lines: string[] = [];
  const destination = new PassThrough();
  destination.on("data", (chunk: Buffer) => lines.push(chunk.toString("utf8")));
  const logger = createLogger({ service: "gateway-test", level: "debug", destination });
  const registry = createMetricsRegistry();
  const config = loadAuthConfig({
    JWT_SECRET: TEST_JWT_SECRET,
    RATE_LIMIT_LOGIN_PER_MIN: "1000",
    RATE_LIMIT_SUBMIT_PER_MIN: "1000",
    RATE_LIMIT_OTHER_PER_MIN: "1000",
    ...opts.env,
  });
  const auth = createAuth(config, { pool: db.pool, logger, registry, now: opts.now });
  const handler = connectNodeAdapter({
    routes: (router) => {
      router.service(AuthService, auth.authService);
      router.service(AuditService, createAuditService({ pool: db.pool }));
      router.service(CommandService, {});
      router.service(VehicleService, {});
    },
    interceptors: [createErrorInterceptor({ logger, metrics: createGatewayMetrics(registry) }), auth.interceptor],
    readMaxBytes: 1024 * 1024,
    contextValues: (req) => {
      const address = req.headers[TEST_ADDRESS_HEADER];
      return createContextValues().set(clientInfoKey, {
        ipAddress: typeof address === "string" ? address : (req.socket.remoteAddress ?? "unknown"),
        userAgent: req.headers["user-agent"] ?? "",
        requestId: requestIdFrom(req.headers["x-request-id"] as string | undefined),
      });
    },
  });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const transport = createConnectTransport({ baseUrl, httpVersion: "1.1" });

  const passwordHash = await hashPassword(TEST_PASSWORD);
  const createUser = async (username: string, role: RoleName, o: { active?: boolean } = {}): Promise<TestUser> => {
    const { rows } = await db.pool.query<{ user_id: string }>(
      "INSERT INTO users (username, password_hash, role, is_active) VALUES ($1, $2, $3, $4) RETURNING user_id",
      [username, passwordHash, role, o.active ?? true],
    );
    return { userId: rows[0]!.user_id, username, role };
  };
  const users = {
    viewer: await createUser("viewer", "viewer"),
    engineer: await createUser("engineer", "engineer"),
    engineer2: await createUser("engineer2", "engineer"),
    admin: await createUser("admin", "admin"),
  };
  const clients = {
    auth: createClient(AuthService, transport),
    audit: createClient(AuditService, transport),
    commands: createClient(CommandService, transport),
    vehicles: createClient(VehicleService, transport),
  };
  const from = (address = "192.0.2.10"): CallOptions => ({ headers: { [TEST_ADDRESS_HEADER]: address, "user-agent": "auth-test/1.0" } });
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await auth.close();
    await db.close();
  };
  return {
    db,
    auth,
    registry,
    baseUrl,
    transport,
    logText: () => lines.join(""),
    clients,
    users,
    as: (token, address) => ({ headers: { ...(from(address).headers as Record<string, string>), authorization: `Bearer ${token}` } }),
    from,
    async login(username) {
      const res = await clients.auth.login({ username, password: TEST_PASSWORD }, from());
      return { accessToken: res.accessToken, refreshToken: res.refreshToken };
    },
    createUser,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The Connect code a call ends with ("ok" when it succeeds); streams are read to the end. */
export async function outcome(call: () => Promise<unknown> | AsyncIterable<unknown>): Promise<string> {
  const { Code, ConnectError } = await import("@connectrpc/connect");
  try {
    const result = call();
    if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      for await (const _ of result as AsyncIterable<unknown>) void _;
    } else {
      await result;
    }
    return "ok";
  } catch (err) {
    return Code[ConnectError.from(err).code] ?? "unknown";
  }
}

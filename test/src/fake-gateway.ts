import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { create, fromBinary, toBinary, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { loadConnectorConfig, startConnector, type Connector } from "@sovd/connector";
import {
  createLogger,
  createPool,
  fleetIdentity,
  REQUEST_ID_HEADER,
  type Bus,
  type BusSubscription,
  type Pool,
  type VehicleIdentity,
} from "@sovd/platform";
import {
  CommandEventSchema,
  DispatchReplySchema,
  DispatchRequestSchema,
  VehicleEventSchema,
  commandEventsSubject,
  executeSubject,
  presenceSubject,
  type CommandEvent,
  type DispatchReply,
  type VehicleEvent,
} from "@sovd/proto";
import { createTestBus, createTestDatabase, uniqueFleetBase, type TestDatabase } from "./test-database.js";
import { connectRawVehicle, type RawVehicle } from "./raw-vehicle.js";

/** The fleet key the test connectors verify vehicle tokens with. */
export const TEST_VEHICLE_SECRET = "connector-test-vehicle-secret-0123456789";

/** Messages collected from one bus subject, decoded, with a wait for the one a test expects. */
export interface Collector<T> {
  readonly items: readonly T[];
  waitFor(pick: (item: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Waits until `n` items have arrived. */
  waitForCount(n: number, timeoutMs?: number): Promise<readonly T[]>;
}

async function collect<T>(bus: Bus, subject: string, decode: (data: Uint8Array) => T, subs: BusSubscription[]): Promise<Collector<T>> {
  const sub = await bus.subscribe(subject);
  subs.push(sub);
  const items: T[] = [];
  const listeners = new Set<() => void>();
  void (async () => {
    for await (const m of sub) {
      items.push(decode(m.data));
      for (const l of [...listeners]) l();
    }
  })();
  const until = <R>(test: () => R | undefined, timeoutMs: number, what: string): Promise<R> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const v = test();
        if (v !== undefined) {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${what} on ${subject} not seen within ${timeoutMs} ms (got ${items.length})`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return {
    items,
    waitFor: (pick, timeoutMs = 5000) => until(() => items.find(pick), timeoutMs, "expected message"),
    waitForCount: (n, timeoutMs = 5000) => until(() => (items.length >= n ? items.slice() : undefined), timeoutMs, `${n} messages`),
  };
}

export interface InsertCommand {
  vehicleId: string;
  commandName?: string;
  params?: JsonObject;
  timeoutMs?: number;
  status?: "pending" | "queued" | "in_progress";
  userId?: string;
  correlationId?: string;
}

/**
 * A connector test bench: a database and bus of the test's own, connectors on port 0,
 * vehicles from a fleet index no other test uses, raw vehicles, and what the gateway would
 * do (insert the `commands` row, send the DispatchRequest). Dispose to stop everything.
 */
export interface ConnectorStack extends AsyncDisposable {
  readonly db: TestDatabase;
  readonly bus: Bus;
  /** Log lines of every connector, parsed. */
  readonly logs: readonly Record<string, unknown>[];
  startConnector(env?: Record<string, string>): Promise<Connector>;
  /** The test's vehicle number i (its own fleet range). */
  vehicle(i: number): VehicleIdentity;
  connectVehicle(connector: Connector, identity: VehicleIdentity, opts?: { token?: string | null }): Promise<RawVehicle>;
  /** Connects, says hello, and waits for the Welcome. */
  onlineVehicle(connector: Connector, identity: VehicleIdentity): Promise<RawVehicle>;
  insertUser(role?: "viewer" | "engineer" | "admin"): Promise<string>;
  insertVehicle(identity: VehicleIdentity): Promise<void>;
  insertCommand(c: InsertCommand): Promise<string>;
  dispatch(commandId: string, timeoutMs?: number): Promise<DispatchReply>;
  commandEvents(commandId: string): Promise<Collector<CommandEvent>>;
  presence(vehicleId: string): Promise<Collector<VehicleEvent>>;
  /** Stops the vehicles, connectors and collectors started so far; the database and bus stay (one stack per file). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startConnectorStack(): Promise<ConnectorStack> {
  const db = await createTestDatabase();
  const bus = await createTestBus("connector-test");
  const base = uniqueFleetBase();
  const connectors: Connector[] = [];
  const extraBuses: Bus[] = [];
  const extraPools: Pool[] = [];
  const vehicles: RawVehicle[] = [];
  const subs: BusSubscription[] = [];
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  let defaultUser: string | undefined;

  const stack: ConnectorStack = {
    db,
    bus,
    logs,
    async startConnector(env = {}) {
      const config = loadConnectorConfig({
        VEHICLE_TOKEN_SECRET: TEST_VEHICLE_SECRET,
        CONNECTOR_GRPC_PORT: "0",
        CONNECTOR_HTTP_PORT: "0",
        CONNECTOR_HOST: "127.0.0.1",
        SWEEP_INTERVAL_MS: "100",
        DRAIN_TIMEOUT_MS: "2000",
        ...env,
      });
      // Each connector gets its own NATS connection and pool, as separate processes would;
      // embedded mode shares the in-process bus and the one PGlite session.
      let connectorBus = bus;
      if (process.env.NATS_URL) {
        connectorBus = await createTestBus(config.connectorId);
        extraBuses.push(connectorBus);
      }
      let pool = db.pool;
      if (db.schema !== undefined) {
        pool = createPool({ url: db.url, schema: db.schema, max: 4 });
        extraPools.push(pool);
      }
      const logger = createLogger({ service: "connector", level: "debug", destination });
      const connector = await startConnector(config, { pool, bus: connectorBus, logger });
      connectors.push(connector);
      return connector;
    },
    vehicle: (i) => fleetIdentity(base + i),
    async connectVehicle(connector, identity, opts = {}) {
      const v = await connectRawVehicle({ port: connector.grpcPort, identity, secret: TEST_VEHICLE_SECRET, ...opts });
      vehicles.push(v);
      return v;
    },
    async onlineVehicle(connector, identity) {
      const v = await stack.connectVehicle(connector, identity);
      v.hello();
      await v.welcome();
      return v;
    },
    async insertUser(role = "engineer") {
      const { rows } = await db.pool.query<{ user_id: string }>(
        "INSERT INTO users (username, password_hash, role) VALUES ($1, 'not-a-hash', $2) RETURNING user_id",
        [`u-${randomUUID().slice(0, 12)}`, role],
      );
      return rows[0]!.user_id;
    },
    async insertVehicle(identity) {
      await db.pool.query(
        "INSERT INTO vehicles (vehicle_id, vin, make, model, year) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        [identity.vehicleId, identity.vin, identity.make, identity.model, identity.year],
      );
    },
    async insertCommand(c) {
      const userId = c.userId ?? (defaultUser ??= await stack.insertUser());
      const timeoutMs = c.timeoutMs ?? 5000;
      const { rows } = await db.pool.query<{ command_id: string }>(
        `INSERT INTO commands (vehicle_id, user_id, command_name, command_params, status, timeout_ms, correlation_id, deadline_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $6::int / 1000.0))
         RETURNING command_id`,
        [c.vehicleId, userId, c.commandName ?? "ReadDTC", JSON.stringify(c.params ?? {}), c.status ?? "pending", timeoutMs, c.correlationId ?? `req-${randomUUID()}`],
      );
      return rows[0]!.command_id;
    },
    async dispatch(commandId, timeoutMs = 3000) {
      const { rows } = await db.pool.query<{ vehicle_id: string; command_name: string; command_params: JsonObject; deadline_at: Date; correlation_id: string; user_id: string }>(
        "SELECT vehicle_id, command_name, command_params, deadline_at, correlation_id, user_id FROM commands WHERE command_id = $1",
        [commandId],
      );
      const row = rows[0]!;
      const request = create(DispatchRequestSchema, {
        commandId,
        vehicleId: row.vehicle_id,
        commandName: row.command_name,
        params: row.command_params,
        deadline: timestampFromDate(row.deadline_at),
        correlationId: row.correlation_id,
        userId: row.user_id,
      });
      const reply = await bus.request(executeSubject(row.vehicle_id), toBinary(DispatchRequestSchema, request), {
        timeoutMs,
        headers: { [REQUEST_ID_HEADER]: row.correlation_id },
      });
      return fromBinary(DispatchReplySchema, reply.data);
    },
    commandEvents: (commandId) => collect(bus, commandEventsSubject(commandId), (d) => fromBinary(CommandEventSchema, d), subs),
    presence: (vehicleId) => collect(bus, presenceSubject(vehicleId), (d) => fromBinary(VehicleEventSchema, d), subs),
    async reset() {
      for (const s of subs.splice(0)) s.unsubscribe();
      await Promise.all(vehicles.splice(0).map((v) => v[Symbol.asyncDispose]()));
      await Promise.all(connectors.splice(0).map((c) => c.close()));
      await Promise.all(extraBuses.splice(0).map((b) => b.close()));
      await Promise.all(extraPools.splice(0).map((p) => p.end()));
      logs.length = 0;
    },
    async close() {
      await stack.reset();
      await bus.close();
      await db.close();
    },
    [Symbol.asyncDispose]: () => stack.close(),
  };
  return stack;
}

/**
 * What every service stands on and no service owns
 * (architecture §1 "Workspaces and dependencies"): config parsing, logging, metrics, the
 * database pool, batching and migrations, the bus, health checks, fleet identities. Infrastructure
 * only: what the shared rows mean is the domain workspace's.
 */
export {
  ConfigError,
  envBool,
  envHostPort,
  envInt,
  envLogLevel,
  envOptional,
  envRate,
  envString,
  envUrl,
  redactUrl,
  secretEntropyBits,
  type Env,
  type LogLevel,
} from "./config.js";
export { captureLogs, createLogger, type CapturedLogs, type Logger, type LoggerOptions } from "./logger.js";
export { COMMAND_DURATION_BUCKETS, Counter, createMetricsRegistry, Gauge, Histogram, registerPoolMetrics, Registry } from "./metrics.js";
export { REQUEST_ID_HEADER, requestIdFrom } from "./request-id.js";
export { AsyncQueue } from "./async-queue.js";
export { serveOpsEndpoint, startOpsServer, type HealthCheck } from "./health.js";
export { fleetIdentity, type VehicleIdentity } from "./fleet-identity.js";
export {
  BusClosedError,
  BusTimeoutError,
  createMemoryBus,
  createNatsBus,
  NoRespondersError,
  subjectMatches,
  type Bus,
  type BusHeaders,
  type BusMessage,
  type BusSubscription,
  type NatsBusOptions,
  type RequestOptions,
  type SubscribeOptions,
} from "./bus/index.js";
export {
  createPool,
  poolStatements,
  withClient,
  withTransaction,
  type DatabaseOptions,
  type NamedStatement,
  type Pool,
  type PoolClient,
  type Queryable,
} from "./db/database.js";
export { keysetRows, sql, type KeysetRows, type SqlCondition } from "./db/keyset.js";
export { migrate, migrationsApplied } from "./db/migrate.js";
export { startEmbeddedPostgres, type EmbeddedPostgres } from "./db/embedded.js";
export { openInfrastructure, type Infrastructure } from "./infrastructure.js";
export { seededRandom, type Random } from "./random.js";
export { exitOnSignals } from "./shutdown.js";
export { createBatcher, type Batcher, type BatcherOptions } from "./batcher.js";

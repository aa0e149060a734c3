/**
 * The system as deployed, one process per service: connectors, gateways and fleets started
 * through their npm scripts' entry files with environment variables only, on the real
 * PostgreSQL and NATS. Ports are picked free on loopback and passed explicitly; readiness
 * is each service's own /health/ready.
 */
import { randomBytes } from "node:crypto";
import { monoMs, waitFor } from "../stats.js";
import { freePort } from "./free-port.js";
import { spawnService, type ServiceProcess } from "./service-process.js";

/** Where the services of one run connect, and how every service of it is configured. */
export interface StackContext {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /** Log files of the run's services go here. */
  readonly logDir: string;
  /** Extra node flags for every service (e.g. --cpu-prof). */
  readonly nodeFlags: readonly string[];
}

/** One JWT secret for the run, so every gateway accepts every gateway's tokens (as a deployment shares one). */
const JWT_SECRET = randomBytes(48).toString("base64url");

/**
 * The settings every scenario shares: development mode (seeded users), logs as deployed
 * (info), simulator delays and injected faults off, rate limits raised out of the way but
 * still enforced, every listener on loopback only.
 */
export function baseEnv(servers: Pick<StackContext, "databaseUrl" | "natsUrl"> | undefined): Record<string, string> {
  return {
    NODE_ENV: "development",
    LOG_LEVEL: "info",
    ...(servers ? { DATABASE_URL: servers.databaseUrl, NATS_URL: servers.natsUrl } : {}),
    JWT_SECRET,
    GATEWAY_HOST: "127.0.0.1",
    CONNECTOR_HOST: "127.0.0.1",
    SIM_NETWORK_DELAY_MS: "0",
    SIM_CHUNK_INTERVAL_MS: "0",
    FAULT_TIMEOUT_RATE: "0",
    FAULT_UNREACHABLE_RATE: "0",
    FAULT_MALFORMED_RATE: "0",
    RATE_LIMIT_LOGIN_PER_MIN: "1000000",
    RATE_LIMIT_SUBMIT_PER_MIN: "1000000",
    RATE_LIMIT_OTHER_PER_MIN: "1000000",
    // Every simulated vehicle on a connection of its own, as real vehicles are.
    SIM_VEHICLES_PER_CHANNEL: "1",
  };
}

async function ready(url: string): Promise<true | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok ? true : undefined;
}

/** Waits for /health/ready, failing early (with the log tail) if the process dies. */
export async function waitReady(proc: ServiceProcess, url: string, timeoutMs: number): Promise<void> {
  await waitFor(`${proc.name} to be ready (${url})`, timeoutMs, async () => {
    if (proc.exited) throw new Error(`${proc.name} exited while starting:\n${proc.tail()}`);
    return ready(url);
  }, 200).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${proc.tail()}`);
  });
}

export interface RunningConnector {
  readonly proc: ServiceProcess;
  /** `host:port` vehicles dial. */
  readonly address: string;
  readonly grpcPort: number;
  readonly httpPort: number;
}

export async function startConnector(
  ctx: StackContext,
  opts: { name: string; env?: Record<string, string>; nodeFlags?: readonly string[]; grpcPort?: number },
): Promise<RunningConnector> {
  const grpcPort = opts.grpcPort ?? (await freePort());
  const httpPort = await freePort();
  const proc = spawnService({
    name: opts.name,
    script: "connector",
    env: { ...baseEnv(ctx), CONNECTOR_GRPC_PORT: String(grpcPort), CONNECTOR_HTTP_PORT: String(httpPort), CONNECTOR_ID: opts.name, ...opts.env },
    nodeFlags: [...ctx.nodeFlags, ...(opts.nodeFlags ?? [])],
    logDir: ctx.logDir,
  });
  await waitReady(proc, `http://127.0.0.1:${httpPort}/health/ready`, 120_000);
  return { proc, address: `127.0.0.1:${grpcPort}`, grpcPort, httpPort };
}

export interface RunningGateway {
  readonly proc: ServiceProcess;
  readonly url: string;
}

export async function startGateway(ctx: StackContext, opts: { name: string; env?: Record<string, string> }): Promise<RunningGateway> {
  const port = await freePort();
  const proc = spawnService({
    name: opts.name,
    script: "gateway",
    env: { ...baseEnv(ctx), GATEWAY_PORT: String(port), ...opts.env },
    nodeFlags: ctx.nodeFlags,
    logDir: ctx.logDir,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, `${url}/health/ready`, 120_000);
  return { proc, url };
}

export interface RunningFleet {
  readonly proc: ServiceProcess;
  readonly vehicles: number;
  readonly firstIndex: number;
  /** When the process logged "fleet started" (its vehicles begin dialling then), monotonic ms. */
  started(timeoutMs: number): Promise<number>;
  /** When the process first logged that every vehicle is online at or after `since`, monotonic ms. */
  online(timeoutMs: number, since?: number): Promise<number>;
}

export function startFleet(
  ctx: StackContext,
  opts: { name: string; connector: string; vehicles: number; firstIndex: number; env?: Record<string, string> },
): RunningFleet {
  const proc = spawnService({
    name: opts.name,
    script: "fleet",
    args: ["--vehicles", String(opts.vehicles), "--first-index", String(opts.firstIndex)],
    env: { ...baseEnv(ctx), CONNECTOR_URL: opts.connector, ...opts.env },
    nodeFlags: ctx.nodeFlags,
    logDir: ctx.logDir,
  });
  return {
    proc,
    vehicles: opts.vehicles,
    firstIndex: opts.firstIndex,
    started: async (timeoutMs) => (await proc.waitForLine(/"msg":"fleet started"/, timeoutMs)).at,
    online: async (timeoutMs, since = 0) => (await proc.waitForLine(/"msg":"every vehicle is online"/, timeoutMs, since)).at,
  };
}

/** A gauge or counter of a /metrics page (the sum over its label sets). */
export async function readMetric(url: string, name: string, labelFilter?: string, timeoutMs = 10_000): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let sum = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || (line[name.length] !== " " && line[name.length] !== "{")) continue;
    if (labelFilter && !line.includes(labelFilter)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    found = true;
  }
  if (!found) throw new Error(`no metric ${name} at ${url}`);
  return sum;
}

/** Waits until the connector holds `expected` vehicle sessions (its vehicle_connections_active gauge). */
export async function waitSessions(connector: RunningConnector, expected: number, timeoutMs: number): Promise<number> {
  const url = `http://127.0.0.1:${connector.httpPort}/metrics`;
  await waitFor(`${expected} sessions on ${connector.proc.name}`, timeoutMs, async () => ((await readMetric(url, "vehicle_connections_active")) >= expected ? true : undefined), 250);
  return monoMs();
}

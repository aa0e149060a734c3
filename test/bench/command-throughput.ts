/**
 * `npm run bench`: figures for the scale the design must allow (docs/architecture.md §10), printed, never
 * asserted. Runs the real gateway, connector and simulator in this process on the embedded
 * database and in-process bus, or on the real servers when DATABASE_URL / NATS_URL are set.
 *
 *   npm run bench -- --sessions 2000 --commands 600 --concurrency 40
 *
 * With `--gateway http://host:port` it starts nothing and only runs part 2 against running
 * services (e.g. `npm run gateway`, `npm run connector` and `npm run fleet` as separate
 * processes), addressing the fleet's vehicles `--first-index` .. `--first-index + --sessions - 1`.
 *
 * 1. sessions: how fast N simulated vehicles come online on one connector, and the memory
 *    that costs per session;
 * 2. commands: ReadDTC commands submitted over Connect by many concurrent engineers' clients,
 *    each watched to its terminal status: commands per second, submit-to-completed latency
 *    percentiles, and the delay from the connector reading a chunk to it reaching the watcher.
 */
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { loadConnectorConfig, startConnector } from "@sovd/connector";
import { loadGatewayConfig, seedGatewayDatabase, startGateway } from "@sovd/gateway";
import { createLogger, createPool, fleetIdentity, type Pool } from "@sovd/platform";
import { AuthService, CommandService, CommandStatus } from "@sovd/proto";
import { loadFleetConfig, startFleet } from "@sovd/vehicle-sim";
import { createTestBus } from "../src/test-bus.js";
import { createTestDatabase } from "../src/test-database.js";
import { uniqueFleetBase } from "../src/test-fleet.js";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "1000" },
    commands: { type: "string", default: "400" },
    concurrency: { type: "string", default: "20" },
    gateway: { type: "string" },
    "first-index": { type: "string", default: "0" },
  },
});
const sessions = Number(values.sessions);
const totalCommands = Number(values.commands);
const concurrency = Number(values.concurrency);

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const ms = (n: number): string => `${n.toFixed(1)} ms`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Part 2: ReadDTC commands over Connect, each watched to its end, `concurrency` at a time. */
async function runCommands(gatewayUrl: string, base: number): Promise<void> {
  const transport = createConnectTransport({ baseUrl: gatewayUrl, httpVersion: "1.1" });
  const { accessToken } = await createClient(AuthService, transport).login({ username: "engineer", password: "engineer123" });
  const headers = { authorization: `Bearer ${accessToken}` };
  const commands = createClient(CommandService, transport);
  const latencies: number[] = [];
  const chunkDelays: number[] = [];
  let completed = 0;
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < totalCommands) {
      const n = next++;
      const vehicleId = fleetIdentity(base + (n % sessions)).vehicleId;
      const t0 = performance.now();
      const { command } = await commands.submitCommand({ vehicleId, commandName: "ReadDTC" }, { headers });
      for await (const e of commands.watchCommand({ commandId: command!.commandId }, { headers })) {
        if (e.event.case === "response" && e.event.value.receivedAt) {
          const stored = Number(e.event.value.receivedAt.seconds) * 1000 + e.event.value.receivedAt.nanos / 1e6;
          chunkDelays.push(Date.now() - stored);
        }
        if (e.event.case === "status" && e.event.value.status === CommandStatus.COMPLETED) completed++;
        if (e.event.case === "status" && e.event.value.status === CommandStatus.FAILED) failed++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  chunkDelays.sort((a, b) => a - b);
  console.log(`\ncommands: ${totalCommands} ReadDTC (3 chunks each) with ${concurrency} concurrent clients in ${seconds.toFixed(1)} s`);
  console.log(`  throughput ${(totalCommands / seconds).toFixed(1)} commands/s, ${((totalCommands * 3) / seconds).toFixed(0)} chunks/s; completed ${completed}, failed ${failed}`);
  console.log(`  submit -> completed: p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, p99 ${ms(percentile(latencies, 99))}`);
  console.log(`  chunk read by the connector -> at the watcher: p50 ${ms(percentile(chunkDelays, 50))}, p95 ${ms(percentile(chunkDelays, 95))}, p99 ${ms(percentile(chunkDelays, 99))}`);
}

async function main(): Promise<void> {
  if (values.gateway) {
    console.log(`bench against the running gateway at ${values.gateway}`);
    await runCommands(values.gateway, Number(values["first-index"]));
    return;
  }
  const logger = createLogger({ service: "bench", level: "error" });
  const env = {
    NODE_ENV: "development",
    GATEWAY_PORT: "0",
    CONNECTOR_GRPC_PORT: "0",
    CONNECTOR_HTTP_PORT: "0",
    SIM_CHUNK_INTERVAL_MS: "0",
    SIM_NETWORK_DELAY_MS: "0",
    SIM_CONNECT_STAGGER_MS: "0",
    RATE_LIMIT_SUBMIT_PER_MIN: "1000000",
    RATE_LIMIT_OTHER_PER_MIN: "1000000",
    LOG_LEVEL: "error",
  };
  const db = await createTestDatabase();
  const bus = await createTestBus("bench");
  console.log(`bench on ${process.env.DATABASE_URL ? "PostgreSQL" : "embedded PGlite"} and ${bus.kind === "nats" ? "NATS" : "the in-process bus"}`);
  // As deployed: each service has its own pool of 10 (the embedded PGlite is one session: shared).
  const poolFor = (): Pool => (db.poolMax === 1 ? db.pool : createPool({ url: db.url, schema: db.schema, max: 10 }));
  const connectorPool = poolFor();
  const gatewayPool = poolFor();
  const connector = await startConnector(loadConnectorConfig(env), { pool: connectorPool, bus, logger });
  const gatewayConfig = loadGatewayConfig(env);
  await seedGatewayDatabase(gatewayPool, gatewayConfig); // the engineer the load generator logs in as
  const gateway = await startGateway(gatewayConfig, { pool: gatewayPool, bus, logger });
  const base = uniqueFleetBase();

  // 1. Sessions.
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const connectStarted = performance.now();
  const fleet = await startFleet(
    loadFleetConfig({ ...env, CONNECTOR_URL: `127.0.0.1:${connector.grpcPort}` }, ["--vehicles", String(sessions), "--first-index", String(base)]),
    { logger },
  );
  await fleet.waitUntilOnline(300_000);
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  console.log(`\nsessions: ${connector.sessionCount()} vehicles online on one connector in ${connectSeconds.toFixed(1)} s (${(sessions / connectSeconds).toFixed(0)} sessions/s)`);
  console.log(
    `  heap growth of the whole process (connector sessions + simulated vehicles + gateway): +${mib(heapAfter - heapBefore)}, ` +
      `about ${((heapAfter - heapBefore) / sessions / 1024).toFixed(1)} KiB per session incl. the simulated vehicle (run with node --expose-gc for a steadier figure)`,
  );

  // 2. Commands.
  await runCommands(`http://127.0.0.1:${gateway.port}`, base);

  await fleet.close();
  await gateway.close();
  await connector.close();
  await bus.close();
  for (const p of new Set([connectorPool, gatewayPool])) if (p !== db.pool) await p.end();
  await db.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

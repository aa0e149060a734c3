/**
 * `npm run chaos`: the system's own faults under load, on the deployed topology (separate
 * processes, the suite's own NATS server and PostgreSQL database), then a table of what
 * every fault did. Exits 1 when anything is stuck, lost, duplicated, unended, or a row's
 * other invariant broke (docs/chaos.md).
 *
 *   npm run chaos                      full run (10-minute soak)
 *   npm run chaos -- --quick           a few minutes, 30-s soak
 *   npm run chaos -- --ci              the version `npm test` runs
 *   --soak-minutes N   --only name,name   --json file   --own-postgres   --keep-logs
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { progress } from "../bench/log.js";
import { killAllServices } from "../bench/system/service-process.js";
import { monoMs } from "../bench/stats.js";
import { hostileInput, CANARY } from "./hostile.js";
import { killEveryConnector, killOneOfTwo, restartNats, seededFaultRates, stopPostgres, terminatePostgresConnections, type FaultContext } from "./faults.js";
import { Load } from "./load.js";
import { makePlan, type Mode } from "./plan.js";
import { openChaosDatabase } from "./postgres.js";
import { formatTrends, soak, type RssTrend } from "./soak.js";
import { formatTable } from "./table.js";
import { Topology } from "./topology.js";
import { emptyRow, type FaultRow } from "./verdict.js";

const FAULTS = ["connector", "one-of-two", "nats", "pg-terminate", "pg-stop", "fault-rates", "hostile", "soak"] as const;
type FaultName = (typeof FAULTS)[number];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      ci: { type: "boolean" },
      "soak-minutes": { type: "string" },
      only: { type: "string" },
      json: { type: "string" },
      "own-postgres": { type: "boolean" },
      "keep-logs": { type: "boolean" },
    },
  });
  const mode: Mode = values.ci ? "ci" : values.quick ? "quick" : "full";
  const soakMinutes = values["soak-minutes"] === undefined ? undefined : Number(values["soak-minutes"]);
  if (soakMinutes !== undefined && !(soakMinutes > 0)) throw new Error("--soak-minutes must be a positive number");
  const only = values.only ? (values.only.split(",") as FaultName[]) : [...FAULTS];
  for (const f of only) if (!FAULTS.includes(f)) throw new Error(`--only: unknown fault "${f}" (one of ${FAULTS.join(", ")})`);
  const plan = makePlan(mode, soakMinutes);
  const started = monoMs();

  const runDir = mkdtempSync(join(tmpdir(), "sovd-chaos-"));
  const logDir = join(runDir, "logs");
  mkdirSync(logDir);
  // The web app the gateways serve, with a file beside it that must never be served.
  const webDir = join(runDir, "web");
  mkdirSync(webDir);
  writeFileSync(join(webDir, "index.html"), "<!doctype html><title>chaos</title>");
  writeFileSync(join(runDir, "canary.txt"), CANARY);
  progress(`chaos (${mode}): logs in ${logDir}`);

  const db = await openChaosDatabase({ adminUrl: process.env.DATABASE_URL, own: values["own-postgres"] ?? false });
  let topo: Topology | undefined;
  // Interrupted (Ctrl-C, a test's timeout): no service, server or database outlives the run.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping every process of the run`);
      killAllServices();
      void Promise.allSettled([topo?.nats.stop(), db.close()]).then(() => process.exit(130));
    });
  }
  // A bug of the suite itself must not leave the database or processes behind either.
  process.once("uncaughtException", (err) => {
    process.stderr.write(`chaos: ${err.stack ?? String(err)}\n`);
    killAllServices();
    void Promise.allSettled([topo?.nats.stop(), db.close()]).then(() => process.exit(2));
  });
  let load: Load | undefined;
  const rows: FaultRow[] = [];
  let trends: RssTrend[] = [];
  try {
    topo = await Topology.start({
      db,
      logDir,
      timing: { commandTimeoutMs: plan.commandTimeoutMs, sweepIntervalMs: plan.sweepIntervalMs, chunkIntervalMs: plan.chunkIntervalMs, breakerCooldownMs: plan.breakerCooldownMs },
      gateways: plan.gateways,
      connectors: plan.connectors,
      vehicles: plan.vehicles,
      gatewayEnv: { WEB_DIST_DIR: webDir },
    });
    progress(`topology up: ${plan.gateways} gateways, ${plan.connectors} connectors, ${plan.vehicles} vehicles (${((monoMs() - started) / 1000).toFixed(0)} s)`);
    load = await Load.open({ gateways: topo.gatewayUrls, username: "engineer", password: "engineer123", commandTimeoutMs: plan.commandTimeoutMs, watchGraceMs: plan.watchGraceMs });
    const ctx: FaultContext = { plan, topo, load };
    const steps: Record<FaultName, () => Promise<void>> = {
      connector: async () => void rows.push(await killEveryConnector(ctx)),
      "one-of-two": async () => void rows.push(await killOneOfTwo(ctx)),
      nats: async () => void rows.push(await restartNats(ctx)),
      "pg-terminate": async () => void rows.push(await terminatePostgresConnections(ctx)),
      "pg-stop": async () => void rows.push(await stopPostgres(ctx)),
      "fault-rates": async () => void rows.push(...(await seededFaultRates(ctx))),
      hostile: async () => void rows.push(await hostileInput(ctx)),
      soak: async () => {
        const s = await soak(ctx);
        rows.push(s.row);
        trends = s.trends;
      },
    };
    for (const f of only) {
      try {
        await steps[f]();
      } catch (err) {
        const row = emptyRow(f);
        row.problems.push(`the fault could not run: ${(err as Error).message.split("\n")[0]}`);
        rows.push(row);
        progress(`!! ${f}: ${(err as Error).stack}`);
        await topo.heal().catch(() => undefined);
      }
    }
  } finally {
    load?.close();
    await topo?.close().catch(() => undefined);
    killAllServices();
    await db.close().catch((err: Error) => progress(`dropping the chaos database: ${err.message}`));
  }

  const failedRows = rows.filter((r) => r.problems.length > 0);
  process.stdout.write(`\n${formatTable(rows)}\n`);
  if (trends.length) process.stdout.write(`\nRSS during the soak (MiB):\n${formatTrends(trends)}\n`);
  process.stdout.write(`\n${failedRows.length === 0 ? "every invariant held" : `${failedRows.length} of ${rows.length} rows broke an invariant`} (${((monoMs() - started) / 1000).toFixed(0)} s)\n`);
  if (values.json) writeFileSync(values.json, JSON.stringify({ mode, plan, rows, trends }, null, 2));
  if (failedRows.length === 0 && !values["keep-logs"]) rmSync(runDir, { recursive: true, force: true });
  else process.stdout.write(`service logs: ${logDir}\n`);
  return failedRows.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    killAllServices();
    process.stderr.write(`chaos: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);

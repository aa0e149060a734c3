/**
 * `npm run bench`: one command, one run, one table. Every figure of the system is put next
 * to what its bare parts do on the same machine in the same run, because on a shared, noisy
 * machine only such a ratio reproduces. The references (bare libraries, no project code)
 * run first, then the scenarios against the system as deployed: each service its own
 * process, on the PostgreSQL and NATS of DATABASE_URL / NATS_URL, driven by a load
 * generator that speaks only the public API. Progress goes to stderr, the table to stdout,
 * `--out FILE` writes it as JSON. See docs/performance.md.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { progress } from "./log.js";
import { capSessions, parsePlan, type Plan, type ScenarioId } from "./plan.js";
import { measureConnect, measureGrpc, measureNats, measurePg } from "./references/measure-hops.js";
import { measurePushFanout, measurePushLatency, measureWsBroadcast } from "./references/measure-fanout.js";
import { measureGrpcIdle, measureTcp } from "./references/measure-idle.js";
import type { References } from "./references/reference-figures.js";
import { startCommandStack } from "./scenarios/command-stack.js";
import type { RunContext, Servers } from "./scenarios/context.js";
import { runExternal } from "./scenarios/external.js";
import { runMulti } from "./scenarios/multi-instance.js";
import { runNoise } from "./scenarios/noise.js";
import { runS1 } from "./scenarios/s1-latency.js";
import { runS2 } from "./scenarios/s2-throughput.js";
import { runS2e } from "./scenarios/s2e-embedded.js";
import { runS3 } from "./scenarios/s3-persistence.js";
import { runS4 } from "./scenarios/s4-sessions.js";
import { runS5 } from "./scenarios/s5-fanout.js";
import { createBenchDatabase, type BenchDatabase } from "./system/bench-database.js";
import { killAllServices, spawnedServices } from "./system/service-process.js";
import { STATEMENTS_ROW } from "./scenarios/s2-throughput.js";
import { formatTable, skipped, tableJson, type Row } from "./table.js";
import { killAllWorkers, REPO_ROOT } from "./worker/spawn-worker.js";

/** Scenarios that run services on the real PostgreSQL and NATS. */
const NEEDS_SERVERS: ReadonlySet<ScenarioId> = new Set(["S1", "S2", "S3", "multi", "S4", "S5"]);

/**
 * 20,000 vehicles, each on its own connection, need more descriptors than a default limit:
 * raise this process's (root with CAP_SYS_RESOURCE may), so every child inherits it. The
 * hard limit that holds afterwards, which caps S4's sizes.
 */
function raiseFileLimit(): number {
  const r = spawnSync("prlimit", ["--pid", String(process.pid), "--nofile=200000:200000"], { encoding: "utf8" });
  const hard = Number(spawnSync("prlimit", ["--pid", String(process.pid), "--nofile", "--output", "HARD", "--noheadings"], { encoding: "utf8" }).stdout.trim());
  if (r.status !== 0) progress(`could not raise the open-file limit to 200000 (${(r.stderr || r.error?.message || "").trim()}); the hard limit stays ${hard}`);
  return Number.isFinite(hard) && hard > 0 ? hard : 1024;
}

function serversFromEnv(): Servers | undefined {
  const databaseUrl = process.env.DATABASE_URL;
  const natsUrl = process.env.NATS_URL;
  return databaseUrl && natsUrl ? { databaseUrl, natsUrl } : undefined;
}

/** What went wrong in this run; the services' logs are kept when anything did. */
const problems: string[] = [];

/** Runs one reference; a failure leaves it out (its rows show n/a) instead of ending the run. */
async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    progress(`${what} failed: ${(err as Error).message}`);
    problems.push(what);
    return undefined;
  }
}

/** A figure that should be there and is not (statement counts may be missing by design). */
const missingFigure = (r: Row): boolean => r.scenario !== STATEMENTS_ROW && (r.system === undefined || !Number.isFinite(r.system.value));

async function measureReferences(plan: Plan, servers: Servers | undefined, db: () => Promise<BenchDatabase>): Promise<References> {
  const s = plan.scenarios;
  const has = (...ids: ScenarioId[]): boolean => ids.some((id) => s.has(id));
  const refs: References = {};
  progress("measuring the bare references");
  if (has("S1", "S2", "noise")) refs.connect = await attempt("Connect reference", () => measureConnect(plan));
  if (has("S1", "S2", "noise")) refs.grpc = await attempt("grpc-js reference", () => measureGrpc(plan));
  if (servers && has("S1", "S2", "S3")) refs.pg = await attempt("PostgreSQL reference", async () => measurePg(plan, (await db()).url));
  if (servers && has("S1", "S2")) refs.nats = await attempt("NATS reference", () => measureNats(plan, servers.natsUrl));
  if (has("S1")) {
    const p50Ms = await attempt("HTTP push reference", () => measurePushLatency(plan));
    if (p50Ms !== undefined) refs.push = { p50Ms };
  }
  if (has("S5")) {
    const fanout = await attempt("HTTP push fan-out reference", () => measurePushFanout(plan, plan.s5.watchers));
    refs.push = { p50Ms: refs.push?.p50Ms ?? NaN, ...fanout, streams: plan.s5.watchers };
    refs.ws = await attempt("ws broadcast reference", () => measureWsBroadcast(plan, plan.s5.watchers));
  }
  if (has("S4")) {
    refs.tcp = {};
    refs.grpcIdle = {};
    for (const n of plan.s4.sessions) {
      const tcp = await attempt(`raw TCP reference (${n})`, () => measureTcp(plan, n));
      if (tcp) refs.tcp[n] = tcp;
      const grpc = await attempt(`grpc-js idle streams reference (${n})`, () => measureGrpcIdle(plan, n));
      if (grpc) refs.grpcIdle[n] = grpc;
    }
  }
  return refs;
}

/** Runs one scenario; a failure becomes a row saying so, and the run goes on. */
async function scenario(rows: Row[], id: string, fn: () => Promise<Row[]>): Promise<boolean> {
  try {
    rows.push(...(await fn()));
    return true;
  } catch (err) {
    progress(`${id} failed: ${(err as Error).stack ?? (err as Error).message}`);
    rows.push(skipped(`${id}`, `failed: ${(err as Error).message.split("\n")[0]!.slice(0, 120)}`));
    return false;
  }
}

async function runScenarios(ctx: RunContext): Promise<{ rows: Row[]; ok: boolean }> {
  const s = ctx.plan.scenarios;
  const rows: Row[] = [];
  let ok = true;
  const missing = [...s].filter((id) => NEEDS_SERVERS.has(id) && !ctx.servers && !ctx.plan.gateway);
  for (const id of missing) rows.push(skipped(id, "DATABASE_URL and NATS_URL not set"));
  if (missing.length > 0) ok = false;

  if (ctx.plan.gateway) {
    ok = (await scenario(rows, "S1/S2 (--gateway)", () => runExternal(ctx, ctx.plan.gateway!))) && ok;
  } else if (ctx.servers && (s.has("S1") || s.has("S2") || s.has("S3") || s.has("S5") || s.has("multi"))) {
    progress("starting the system: connector, gateway and fleet, each its own process");
    const stack = await startCommandStack(ctx).catch((err: unknown) => {
      rows.push(skipped("S1–S3, S5, multi", `the system did not start: ${(err as Error).message.split("\n")[0]}`));
      progress(`the system did not start: ${(err as Error).message}`);
      return undefined;
    });
    if (!stack) ok = false;
    else {
      try {
        if (s.has("S1")) ok = (await scenario(rows, "S1", () => runS1(ctx, stack))) && ok;
        if (s.has("S2")) ok = (await scenario(rows, "S2", () => runS2(ctx, stack))) && ok;
        if (s.has("S3")) ok = (await scenario(rows, "S3", () => runS3(ctx, stack))) && ok;
        if (s.has("S5")) ok = (await scenario(rows, "S5", () => runS5(ctx, stack))) && ok;
        if (s.has("multi")) ok = (await scenario(rows, "multi-instance", () => runMulti(ctx, stack))) && ok;
      } finally {
        await stack.close();
      }
    }
  }
  if (s.has("S2e")) ok = (await scenario(rows, "S2e", () => runS2e(ctx))) && ok;
  // Before S4: tens of thousands of connections take a while to wind down, which is not the
  // drift of the command scenarios the noise rows are there to show.
  if (s.has("noise")) ok = (await scenario(rows, "noise", () => runNoise(ctx.plan, ctx.refs))) && ok;
  if (s.has("S4") && ctx.servers) ok = (await scenario(rows, "S4", () => runS4(ctx))) && ok;
  return { rows, ok };
}

function gitCommit(): string {
  const r = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

async function main(): Promise<number> {
  let plan: Plan;
  try {
    plan = parsePlan(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const fileLimit = raiseFileLimit();
  plan = capSessions(plan, fileLimit);
  // The load generators are child processes: they read the client API from the environment.
  process.env.BENCH_CLIENT_API = plan.api;
  progress(`clients run each command with ${plan.api === "one-call" ? "SubmitAndWatch (one call)" : "SubmitCommand + WatchCommand (two calls)"}`);
  if (plan.s4.sessions.join() !== plan.s4.asked.join() && plan.scenarios.has("S4")) {
    progress(`S4: ${plan.s4.asked.join(", ")} sessions asked, ${plan.s4.sessions.join(", ")} measured: one process may hold at most ${fileLimit} descriptors`);
  }
  const servers = serversFromEnv();
  if (!servers) {
    progress(
      "DATABASE_URL and NATS_URL are not set: only what needs no server runs (the Connect, gRPC and push references, S2e, noise). " +
        "Set both, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test NATS_URL=nats://127.0.0.1:4222",
    );
  }
  const runDir = mkdtempSync(join(tmpdir(), "sovd-bench-"));
  const nodeFlags = plan.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(plan.cpuProfDir)}`] : [];
  if (plan.cpuProfDir) mkdirSync(plan.cpuProfDir, { recursive: true });
  let db: Promise<BenchDatabase> | undefined;
  const database = (): Promise<BenchDatabase> => {
    if (!servers) return Promise.reject(new Error("DATABASE_URL is not set"));
    db ??= createBenchDatabase(servers.databaseUrl).then((d) => {
      progress(`created the bench database ${d.name}${d.statementsNote ? `; ${d.statementsNote}` : ""}`);
      return d;
    });
    return db;
  };
  const cleanup = async (): Promise<void> => {
    killAllServices();
    killAllWorkers();
    if (db) await (await db.catch(() => undefined))?.drop().catch((err: unknown) => progress(`dropping the bench database failed: ${(err as Error).message}`));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping every process of the run`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  const started = new Date();
  progress(`bench ${plan.size} run: ${[...plan.scenarios].join(", ")}; logs in ${runDir}`);
  let result: { rows: Row[]; ok: boolean };
  let refs: References = {};
  try {
    refs = await measureReferences(plan, servers, database);
    result = await runScenarios({ plan, refs, servers, runDir, nodeFlags, shared: {}, problems, database });
  } finally {
    await cleanup();
  }
  const seconds = (Date.now() - started.getTime()) / 1000;
  if (plan.cpuProfDir) {
    // node names a profile CPU.<date>.<pid>...; this says which service each pid was.
    writeFileSync(join(plan.cpuProfDir, "processes.json"), `${JSON.stringify(Object.fromEntries(spawnedServices().map((s) => [s.pid, s.name])), null, 2)}\n`);
    progress(`CPU profiles in ${plan.cpuProfDir}; summarise them with: npx tsx test/bench/profile-summary.ts ${plan.cpuProfDir}`);
  }
  console.log(`Clients: ${plan.api === "one-call" ? "SubmitAndWatch, one call per command" : "SubmitCommand then WatchCommand, two calls per command"} (--api ${plan.api}).\n`);
  console.log(formatTable(result.rows));
  progress(`done in ${seconds.toFixed(0)} s`);
  if (plan.out) {
    const meta = {
      date: started.toISOString(),
      seconds,
      size: plan.size,
      scenarios: [...plan.scenarios],
      api: plan.api,
      commit: gitCommit(),
      host: hostname(),
      cpus: cpus().length,
      node: process.version,
      references: refs,
    };
    writeFileSync(plan.out, `${JSON.stringify(tableJson(result.rows, meta), null, 2)}\n`);
    progress(`wrote ${plan.out}`);
  }
  // The embedded database's files are large and never needed afterwards; the logs are kept when something went wrong.
  rmSync(join(runDir, "all-in-one-data"), { recursive: true, force: true });
  const missing = result.rows.filter(missingFigure).map((r) => r.scenario);
  if (result.ok && problems.length === 0 && missing.length === 0) rmSync(runDir, { recursive: true, force: true });
  else progress(`not everything was measured (${[...problems, ...missing].join("; ")}); the services' logs are in ${runDir}`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    killAllServices();
    killAllWorkers();
    process.exit(1);
  },
);

/**
 * S2: ReadDTC commands/s at saturation (64 in flight), failures counted, and what one
 * command costs: CPU of every process (PostgreSQL backends of the bench database included),
 * commits, inserted rows and statements in PostgreSQL, NATS messages, log lines.
 *
 * PostgreSQL's statistics reach pg_stat_database only when a backend reports them, which an
 * idle backend may delay by up to 10 s; so the database and NATS counts span the whole run
 * (warm-up and drain included) between two quiet points, and are divided by the commands of
 * the whole run. CPU and log lines are taken over the measured window.
 */
import { progress } from "../log.js";
import { sleep } from "../stats.js";
import { startNatsCount } from "../system/nats-counter.js";
import { readMetric } from "../system/stack.js";
import { goals, row, type Row } from "../table.js";
import type { CommandStack } from "./command-stack.js";
import { measureCommandRun } from "./command-run.js";
import type { RunContext } from "./context.js";
import { bottleneck, cpuReferences } from "./reference-models.js";

/** The row whose figure is missing by design when pg_stat_statements is not loaded. */
export const STATEMENTS_ROW = "S2 SQL statements per command";

/** Longer than PostgreSQL's idle statistics flush (10 s). */
const STATS_SETTLE_MS = 11_000;

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const VEHICLE_SUBJECT = new RegExp(`^sovd\\.v1\\.vehicle\\.(${UUID})\\.`);
const COMMAND_SUBJECT = new RegExp(`^sovd\\.v1\\.command\\.(${UUID})\\.`);

export async function runS2(ctx: RunContext, stack: CommandStack): Promise<Row[]> {
  const db = await ctx.database();
  const { plan } = ctx;
  progress(`S2: waiting ${STATS_SETTLE_MS / 1000} s for PostgreSQL's statistics to settle`);
  await sleep(STATS_SETTLE_MS);
  // The services count the statements they send (database_statements_total), for a server
  // without pg_stat_statements.
  const metricsUrls = [`${stack.gateways[0]!.url}/metrics`, `http://127.0.0.1:${stack.connectors[0]!.httpPort}/metrics`];
  const sentStatements = async (): Promise<number | undefined> => {
    try {
      let n = 0;
      for (const url of metricsUrls) n += await readMetric(url, "database_statements_total");
      return n;
    } catch {
      return undefined;
    }
  };
  const before = await db.counters();
  const sentBefore = await sentStatements();
  const nats = await startNatsCount(ctx.servers!.natsUrl);
  const gateway = stack.gateways[0]!.proc;
  const connector = stack.connectors[0]!.proc;
  const fleet = stack.fleets[0]!.proc;
  progress(`S2: ReadDTC at ${plan.s2.inFlight} in flight, ${plan.s2.windowMs / 1000} s window`);
  const r = await measureCommandRun(
    stack.loadgen,
    { vehicleIds: stack.vehicleIds, inFlight: plan.s2.inFlight, commandName: "ReadDTC" },
    {
      warmupMs: plan.s2.warmupMs,
      windowMs: plan.s2.windowMs,
      cpu: {
        gateway: () => [gateway.pid],
        connector: () => [connector.pid],
        postgres: () => db.backendPids(),
        fleet: () => [fleet.pid],
        loadgen: () => [stack.loadgen.pid],
      },
      logs: { gateway, connector, fleet },
    },
  );
  progress(`S2: waiting ${STATS_SETTLE_MS / 1000} s for PostgreSQL's statistics to settle`);
  await sleep(STATS_SETTLE_MS);
  const after = await db.counters();
  const sentAfter = await sentStatements();
  const ours = new Set(stack.vehicleIds);
  for (const { command_id } of await db.query<{ command_id: string }>("SELECT command_id FROM commands")) ours.add(command_id);
  const natsMessages = await nats.stop((subject) => {
    const m = VEHICLE_SUBJECT.exec(subject) ?? COMMAND_SUBJECT.exec(subject);
    return m !== null && ours.has(m[1]!);
  });

  const all = r.run.submitted;
  const perWindow = (cpuMs: number | undefined): number => ((cpuMs ?? NaN) * 1000) / r.completed;
  const cpu = {
    gateway: perWindow(r.cpuMs.gateway),
    connector: perWindow(r.cpuMs.connector),
    postgres: perWindow(r.cpuMs.postgres),
    fleet: perWindow(r.cpuMs.fleet),
    loadgen: perWindow(r.cpuMs.loadgen),
  };
  const total = cpu.gateway + cpu.connector + cpu.postgres;
  const cpuRef = cpuReferences(ctx.refs);
  const lines = (k: string): string => `${((r.logLines[k] ?? NaN) / r.completed).toFixed(1)} log lines`;
  ctx.shared.s2CommandsPerSec = r.commandsPerSec;
  ctx.shared.s2CpuUsPerCommand = total;
  progress(
    `S2: ${r.commandsPerSec.toFixed(1)} commands/s, ${r.run.failed} failed; CPU per command: gateway ${cpu.gateway.toFixed(0)} µs, ` +
      `connector ${cpu.connector.toFixed(0)} µs, PostgreSQL ${cpu.postgres.toFixed(0)} µs, fleet ${cpu.fleet.toFixed(0)} µs, load generator ${cpu.loadgen.toFixed(0)} µs`,
  );
  const failures = r.run.failed > 0 ? `failures: ${Object.entries(r.run.failures).map(([k, v]) => `${v}× ${k}`).join("; ")}` : undefined;
  const us = (value: number, label?: string) => ({ value, unit: "µs", label });
  const ref = (value: number | undefined, label: string) => (value === undefined ? undefined : { value, unit: "µs", label });
  const perCommand = (value: number, label?: string) => ({ value, unit: "/cmd", label });
  const statements = before.statements !== undefined && after.statements !== undefined ? (after.statements - before.statements) / all : undefined;
  const sent = sentBefore !== undefined && sentAfter !== undefined ? (sentAfter - sentBefore) / all : undefined;
  return [
    row(`S2 ReadDTC throughput, ${plan.s2.inFlight} in flight`, bottleneck(ctx.refs), { value: r.commandsPerSec, unit: "cmd/s" }, {
      goal: goals.ratioAtLeast(0.5, true),
      failed: r.run.failed,
      note: failures,
    }),
    row("S2 CPU per command, total of gateway + connector + PostgreSQL", ref(cpuRef.total, "bare parts"), us(total), {
      goal: goals.systemAtMost(5000, "≤ 5 ms"),
    }),
    row("S2 CPU per command, gateway", ref(cpuRef.gateway, "2 Connect calls served"), us(cpu.gateway, lines("gateway"))),
    row("S2 CPU per command, connector", ref(cpuRef.connector, "3 gRPC msgs in + 3 NATS pubs"), us(cpu.connector, lines("connector"))),
    row("S2 CPU per command, PostgreSQL backends", ref(cpuRef.postgres, "3 INSERTs"), us(cpu.postgres)),
    row("S2 CPU per command, fleet (simulated vehicles)", ref(cpuRef.fleet, "3 gRPC msgs out"), us(cpu.fleet, lines("fleet"))),
    row("S2 CPU per command, load generator (the client)", ref(cpuRef.loadgen, "2 Connect calls made"), us(cpu.loadgen)),
    row("S2 PostgreSQL commits per command", { value: 3, unit: "/cmd", label: "3 INSERTs" }, perCommand((after.commits - before.commits) / all)),
    row("S2 PostgreSQL rows inserted per command", { value: 3, unit: "/cmd", label: "3 INSERTs" }, perCommand((after.rowsInserted - before.rowsInserted) / all)),
    statements !== undefined
      ? row(STATEMENTS_ROW, { value: 3, unit: "/cmd", label: "3 INSERTs" }, perCommand(statements, "pg_stat_statements"))
      : sent !== undefined
        ? row(STATEMENTS_ROW, { value: 3, unit: "/cmd", label: "3 INSERTs" }, perCommand(sent, "database_statements_total of the services"))
        : row(STATEMENTS_ROW, { value: 3, unit: "/cmd", label: "3 INSERTs" }, undefined, { note: db.statementsNote }),
    row("S2 NATS messages per command", { value: 3, unit: "/cmd", label: "3 events" }, perCommand(natsMessages / all, nats.method.startsWith("wildcard") ? "this run's subjects + replies" : "server in_msgs")),
  ];
}

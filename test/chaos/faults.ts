/**
 * The faults of the system itself, each under load with watchers on every command: what
 * is broken, for how long, and when the system counts as recovered (a ReadDTC on every
 * vehicle completes). Each returns its table row; the topology is whole again afterwards.
 */
import { progress } from "../bench/log.js";
import { monoMs, sleep } from "../bench/stats.js";
import type { Load } from "./load.js";
import type { ChaosPlan } from "./plan.js";
import type { Topology } from "./topology.js";
import { checkInvariants, emptyRow, judge, type FaultRow } from "./verdict.js";

export interface FaultContext {
  readonly plan: ChaosPlan;
  readonly topo: Topology;
  readonly load: Load;
}

/** Failure messages that blame the vehicle (architecture §4 "Statuses and error strings"). */
const VEHICLE_BLAME = /Vehicle unreachable|Vehicle connection timeout|Invalid response format/;

/** Probes every vehicle until a whole round completes; ms after `from`, or null past the limit. */
async function recovery(ctx: FaultContext, from: number): Promise<number | null> {
  const until = from + ctx.plan.recoveryLimitMs;
  while (monoMs() < until) {
    if (await ctx.load.probe(ctx.topo.vehicleIds, Math.min(ctx.plan.commandTimeoutMs + 2000, 8000))) return Math.round(monoMs() - from);
    await sleep(200);
  }
  return null;
}

/** Polls readiness while a dependency is away: which services said 503 (as they should). */
function watchReadiness(ctx: FaultContext): { stop(): Promise<Set<string>> } {
  const notReady = new Set<string>();
  let on = true;
  const loop = (async () => {
    while (on) {
      for (const n of await ctx.topo.notReady()) notReady.add(n);
      await sleep(300);
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return notReady;
    },
  };
}

interface Injection {
  /** When the fault was over (the dependency back, the process restarted), monotonic ms. */
  readonly restoredAt: number;
  readonly notes?: string[];
}

/**
 * Load starts, `inject` breaks something and repairs it, the system is probed until it
 * works again, the load goes on a while, stops, and every command is judged.
 */
async function underLoad(ctx: FaultContext, name: string, inject: () => Promise<Injection>, opts: { healthyVehicles?: boolean; after?: () => Promise<void> } = {}): Promise<FaultRow> {
  const { plan, topo, load } = ctx;
  progress(`fault: ${name}`);
  const row = emptyRow(name);
  const exitsBefore = topo.unexpectedExits.length;
  const from = load.records.length;
  load.start({ vehicleIds: topo.vehicleIds, inFlight: plan.inFlight });
  await sleep(plan.beforeMs);
  const injected = await inject();
  row.notes.push(...(injected.notes ?? []));
  const healed = await topo.heal();
  if (healed.length) row.notes.push(`restarted after exiting: ${healed.join(", ")}`);
  row.recoveryMs = await recovery(ctx, injected.restoredAt);
  await sleep(plan.afterMs);
  await load.stop();
  await judge(row, load.since(from), topo.db, plan.sweepIntervalMs, plan.commandTimeoutMs + 10_000);
  row.exits = topo.unexpectedExits.length - exitsBefore;
  for (const e of topo.unexpectedExits.slice(exitsBefore)) row.notes.push(`${e.name} exited: ${lastError(e.tail)}`);
  if (opts.healthyVehicles) {
    const blamed = Object.entries(row.failed).filter(([k]) => VEHICLE_BLAME.test(k));
    for (const [k, n] of blamed) row.problems.push(`${n} x "${k}" blames the vehicle, but the vehicles were healthy`);
  }
  await opts.after?.();
  await topo.heal();
  await topo.waitFleetOnline(60_000).catch((err: Error) => row.problems.push(`fleet not back online: ${err.message.split("\n")[0]}`));
  await topo.waitAllReady(30_000).catch(async () => row.problems.push(`not ready after the fault: ${(await topo.notReady()).join(", ")}`));
  return checkInvariants(row);
}

/** The last log line of a dead process that says why. */
function lastError(tail: string): string {
  const lines = tail.split("\n").filter((l) => /error|Error|terminated|exception/.test(l));
  return (lines.at(-1) ?? tail.split("\n").at(-1) ?? "").trim().slice(0, 160);
}

export function killEveryConnector(ctx: FaultContext): Promise<FaultRow> {
  const names = [...ctx.topo.connectors.keys()];
  return underLoad(ctx, `kill -9 every connector (${names.length}), restart after ${ctx.plan.connectorDownMs / 1000} s`, async () => {
    for (const n of names) await ctx.topo.killConnector(n);
    await sleep(ctx.plan.connectorDownMs);
    await Promise.all(names.map((n) => ctx.topo.startConnector(n)));
    return { restoredAt: monoMs() };
  });
}

export function killOneOfTwo(ctx: FaultContext): Promise<FaultRow> {
  return underLoad(ctx, "two connectors, kill -9 one", async () => {
    const killedAt = monoMs();
    await ctx.topo.killConnector("connector-1");
    // The vehicles find the other connector by themselves; connector-1 comes back only after the fault.
    return { restoredAt: killedAt };
  }, { after: async () => void (await ctx.topo.startConnector("connector-1")) });
}

export function restartNats(ctx: FaultContext): Promise<FaultRow> {
  return underLoad(
    ctx,
    `restart NATS (${ctx.plan.natsDownMs / 1000} s outage)`,
    async () => {
      await ctx.topo.nats.stop();
      const readiness = watchReadiness(ctx);
      await sleep(ctx.plan.natsDownMs);
      await ctx.topo.nats.start();
      const restoredAt = monoMs();
      const saw = await readiness.stop();
      return { restoredAt, notes: [`readiness not 200 during the outage: ${saw.size ? [...saw].sort().join(", ") : "none (should be 503)"}`] };
    },
    { healthyVehicles: true },
  );
}

export function terminatePostgresConnections(ctx: FaultContext): Promise<FaultRow> {
  return underLoad(
    ctx,
    "pg_terminate_backend on the services' connections (3 times, 1 s apart)",
    async () => {
      let n = 0;
      for (let i = 0; i < 3; i++) {
        n += await ctx.topo.db.terminateServices();
        await sleep(1000);
      }
      return { restoredAt: monoMs(), notes: [`${n} connections terminated`] };
    },
    { healthyVehicles: true },
  );
}

export function stopPostgres(ctx: FaultContext): Promise<FaultRow> {
  return underLoad(
    ctx,
    `stop PostgreSQL ${ctx.plan.postgresDownMs / 1000} s`,
    async () => {
      await ctx.topo.db.stop();
      const readiness = watchReadiness(ctx);
      await sleep(ctx.plan.postgresDownMs);
      await ctx.topo.db.start();
      const restoredAt = monoMs();
      const saw = await readiness.stop();
      return { restoredAt, notes: [ctx.topo.db.stopMethod, `readiness not 200 during the outage: ${saw.size ? [...saw].sort().join(", ") : "none (should be 503)"}`] };
    },
    { healthyVehicles: true },
  );
}

const RATES = { timeout: 0.1, unreachable: 0.05, malformed: 0.03 };
const RATE_MESSAGES: Record<keyof typeof RATES, RegExp> = {
  timeout: /Vehicle connection timeout/,
  unreachable: /Vehicle unreachable/,
  malformed: /Invalid response format/,
};

/**
 * Injected vehicle faults at fixed rates with one seed, run twice on one connector (every
 * connector restarted with the seed, so each run starts from the same draw): the same
 * totals both times, each rate near its expectation, and nothing stuck or lost.
 */
export async function seededFaultRates(ctx: FaultContext): Promise<FaultRow[]> {
  const { plan, topo, load } = ctx;
  const rows: FaultRow[] = [];
  const n = plan.faultRateCommands;
  const env = { FAULT_TIMEOUT_RATE: String(RATES.timeout), FAULT_UNREACHABLE_RATE: String(RATES.unreachable), FAULT_MALFORMED_RATE: String(RATES.malformed), FAULT_SEED: "chaos" };
  for (const run of [1, 2]) {
    const name = `seeded fault rates 10/5/3 %, ${n} commands, run ${run}`;
    progress(`fault: ${name}`);
    const row = emptyRow(name);
    const exitsBefore = topo.unexpectedExits.length;
    // One connector holds every vehicle, so one seeded sequence of draws decides every command.
    for (const c of [...topo.connectors.keys()]) await topo.killConnector(c);
    topo.setConnectorEnv(env);
    await topo.startConnector("connector-1");
    await topo.waitFleetOnline(60_000);
    const from = load.records.length;
    load.start({ vehicleIds: topo.vehicleIds, inFlight: plan.inFlight, maxCommands: n });
    await load.drain();
    await judge(row, load.since(from), topo.db, plan.sweepIntervalMs, plan.commandTimeoutMs + 10_000);
    row.exits = topo.unexpectedExits.length - exitsBefore;
    for (const [kind, rate] of Object.entries(RATES) as Array<[keyof typeof RATES, number]>) {
      const got = Object.entries(row.failed)
        .filter(([k]) => RATE_MESSAGES[kind].test(k))
        .reduce((s, [, v]) => s + v, 0);
      const sigma = Math.sqrt(n * rate * (1 - rate));
      const z = (got - n * rate) / sigma;
      row.notes.push(`${kind} ${got} (expected ${(n * rate).toFixed(0)}, ${z >= 0 ? "+" : ""}${z.toFixed(1)} sigma)`);
      if (Math.abs(z) > 4) row.problems.push(`${kind} rate ${got}/${n} is ${z.toFixed(1)} sigma off ${rate}`);
    }
    rows.push(checkInvariants(row));
  }
  const totals = (r: FaultRow): string => JSON.stringify(Object.entries({ completed: r.completed, ...r.failed }).sort());
  if (totals(rows[0]!) !== totals(rows[1]!)) rows[1]!.problems.push(`totals differ from run 1 with the same seed: ${totals(rows[0]!)} vs ${totals(rows[1]!)}`);
  else rows[1]!.notes.push("same totals as run 1");
  topo.setConnectorEnv({});
  await topo.killConnector("connector-1");
  await topo.startConnector("connector-1");
  for (const c of [...topo.connectors.keys()].filter((c) => c !== "connector-1")) await topo.startConnector(c);
  await topo.waitFleetOnline(60_000);
  return rows;
}

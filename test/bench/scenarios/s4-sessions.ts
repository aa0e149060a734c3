/**
 * S4: idle vehicle sessions on one connector, each vehicle on its own connection, the load
 * spread over fleet processes of 5,000 vehicles that dial all at once. Online time runs from
 * the first fleet's "fleet started" to the last fleet's "every vehicle is online" (the
 * vehicles' Welcome). Memory is the connector's growth after a forced GC (through its
 * inspector, as for the bare server); idle CPU is the connector's over a quiet window, its
 * heartbeats included. Then a reconnect storm: every fleet is killed at once and started
 * again, and the clock runs until every vehicle is back online.
 */
import { progress } from "../log.js";
import { CpuWindow, rssBytes } from "../proc-stats.js";
import { monoMs, sleep } from "../stats.js";
import { heapAfterGc } from "../system/inspector.js";
import { readMetric, startConnector, startFleet, waitSessions, type RunningConnector, type RunningFleet, type StackContext } from "../system/stack.js";
import { goals, row, type Figure, type Row } from "../table.js";
import { stackContext, uniqueFirstIndex, type RunContext } from "./context.js";

/**
 * Longest waits for every vehicle to be online: for 20,000 three times the ramp's goal, for
 * the storm twice its goal, enough to tell "not met" while keeping the run bounded. Smaller
 * sizes have no time goal, but their memory figures need every session open, so they may
 * take longer. A slower fleet is reported at the limit with how many vehicles were online.
 */
const GOAL_RAMP_LIMIT_MS = 90_000;
const OTHER_RAMP_LIMIT_MS = 150_000;
const STORM_LIMIT_MS = 120_000;

const KIB = 1024;

interface FleetPart {
  readonly vehicles: number;
  readonly firstIndex: number;
}

function parts(total: number, per: number, firstIndex: number): FleetPart[] {
  const out: FleetPart[] = [];
  for (let offset = 0; offset < total; offset += per) out.push({ vehicles: Math.min(per, total - offset), firstIndex: firstIndex + offset });
  return out;
}

function startFleets(stack: StackContext, connector: RunningConnector, fleetParts: readonly FleetPart[], tag: string): RunningFleet[] {
  return fleetParts.map((p, i) =>
    startFleet(stack, { name: `fleet-${tag}-${i + 1}`, connector: connector.address, ...p, env: { SIM_CONNECT_STAGGER_MS: "0" } }),
  );
}

interface OnlineTime {
  readonly ms: number;
  /** Vehicles online when the wait ended, when it ended at the limit. */
  readonly shortOf?: { readonly online: number; readonly total: number };
}

/** From the first fleet's start (or `from`) to the last fleet's all-online; bounded by `limitMs`. */
async function timeUntilOnline(fleets: readonly RunningFleet[], connector: RunningConnector, limitMs: number, from?: number): Promise<OnlineTime> {
  const started = from ?? Math.min(...(await Promise.all(fleets.map((f) => f.started(60_000)))));
  const left = Math.max(1000, limitMs - (monoMs() - started));
  const online = await Promise.allSettled(fleets.map((f) => f.online(left)));
  if (online.every((o) => o.status === "fulfilled")) return { ms: Math.max(...online.map((o) => o.value)) - started };
  // A connector deep in a storm may take a while to answer /metrics.
  const sessions = await readMetric(`http://127.0.0.1:${connector.httpPort}/metrics`, "vehicle_connections_active", undefined, 30_000).catch(() => NaN);
  return { ms: limitMs, shortOf: { online: sessions, total: fleets.reduce((n, f) => n + f.vehicles, 0) } };
}

const describe = (t: OnlineTime): string => {
  if (!t.shortOf) return "";
  const online = Number.isFinite(t.shortOf.online) ? t.shortOf.online.toLocaleString("en-US") : "? (no answer from /metrics)";
  return `not all online at the ${t.ms / 1000} s limit: ${online} of ${t.shortOf.total.toLocaleString("en-US")}`;
};

async function inspectorUrl(connector: RunningConnector): Promise<string> {
  const line = await connector.proc.waitForLine(/Debugger listening on ws:\/\//, 10_000);
  return /ws:\/\/\S+/.exec(line.text)![0];
}

interface Held {
  readonly rssPerSession: number;
  readonly heapPerSession: number;
  readonly idleCpuPct: number;
}

/** With every session open: the connector's idle CPU over `idleMs`, then its growth per session after a forced GC. */
async function measureHeld(connector: RunningConnector, inspector: string, before: { heap: number; rss: number }, n: number, idleMs: number): Promise<Held> {
  await waitSessions(connector, n, 60_000);
  await sleep(5000);
  const cpu = new CpuWindow({ connector: () => [connector.proc.pid] });
  await cpu.start();
  await sleep(idleMs);
  const idle = await cpu.stop();
  const idleCpuPct = ((idle.cpuMs.connector ?? NaN) / idle.wallMs) * 100;
  const heapPerSession = ((await heapAfterGc(inspector)) - before.heap) / n;
  const rssPerSession = (rssBytes(connector.proc.pid)! - before.rss) / n;
  progress(`S4: ${n}: ${(rssPerSession / KIB).toFixed(1)} KiB RSS and ${(heapPerSession / KIB).toFixed(1)} KiB heap per session, connector idle CPU ${idleCpuPct.toFixed(1)} %`);
  return { rssPerSession, heapPerSession, idleCpuPct };
}

export async function runS4(ctx: RunContext): Promise<Row[]> {
  const stack = await stackContext(ctx);
  const { s4 } = ctx.plan;
  const rows: Row[] = [];
  const largest = Math.max(...s4.sessions);
  for (const [i, n] of s4.sessions.entries()) {
    const asked = s4.asked[i]!;
    const count = n.toLocaleString("en-US");
    const capped = asked === n ? undefined : `${asked.toLocaleString("en-US")} asked; capped by the open-file limit of one process`;
    progress(`S4: ${count} idle vehicles on one connector (fleets of ${s4.perFleetProcess}, each vehicle on its own connection)`);
    const connector = await startConnector(stack, { name: `connector-s4-${n}`, nodeFlags: ["--inspect=127.0.0.1:0"] });
    let fleets: RunningFleet[] = [];
    try {
      const inspector = await inspectorUrl(connector);
      await sleep(2000);
      const heapBefore = await heapAfterGc(inspector);
      const rssBefore = rssBytes(connector.proc.pid)!;
      const fleetParts = parts(n, s4.perFleetProcess, uniqueFirstIndex(n));
      fleets = startFleets(stack, connector, fleetParts, `s4-${n}`);
      const ramp = await timeUntilOnline(fleets, connector, asked >= 20_000 ? GOAL_RAMP_LIMIT_MS : OTHER_RAMP_LIMIT_MS);
      progress(ramp.shortOf ? `S4: ${describe(ramp)}` : `S4: ${n} vehicles online in ${(ramp.ms / 1000).toFixed(1)} s`);
      // Memory and idle CPU mean something only with every session open and the fleet quiet.
      const held = ramp.shortOf ? undefined : await measureHeld(connector, inspector, { heap: heapBefore, rss: rssBefore }, n, s4.idleMs);
      if (ramp.shortOf) ctx.problems.push(`S4 ${count}: ${describe(ramp)}`);
      const grpc = ctx.refs.grpcIdle?.[n];
      const tcp = ctx.refs.tcp?.[n];
      const secs = (ms: number | undefined, label: string): Figure | undefined => (ms === undefined ? undefined : { value: ms / 1000, unit: "s", label });
      const kib = (bytes: number | undefined, label?: string): Figure | undefined => (bytes === undefined ? undefined : { value: bytes / KIB, unit: "KiB", label });
      const notOnline = ramp.shortOf ? describe(ramp) : undefined;
      const notMeasured = notOnline ? `not measured: ${notOnline}` : capped;
      rows.push(
        row(`S4 ${count} vehicles: time until all online`, secs(grpc?.openMs, "bare grpc-js streams"), secs(ramp.ms, ramp.shortOf ? "limit" : "")!, {
          goal: asked === 20_000 ? goals.systemAtMost(30, "≤ 30 s") : undefined,
          note: notOnline ?? capped,
        }),
        row(`S4 ${count} vehicles: time until all online vs raw TCP`, secs(tcp?.connectMs, "bare TCP connect"), secs(ramp.ms, ramp.shortOf ? "limit" : "")!, { note: notOnline ?? capped }),
        row(`S4 ${count} vehicles: RSS per session`, kib(grpc?.rssPerStream, "bare grpc-js stream"), kib(held?.rssPerSession), { goal: goals.ratioAtMost(2), note: notMeasured }),
        row(`S4 ${count} vehicles: RSS per session vs raw TCP`, kib(tcp?.rssPerSocket, "raw TCP socket"), kib(held?.rssPerSession), { note: notMeasured }),
        row(`S4 ${count} vehicles: heap per session`, kib(grpc?.heapPerStream, "bare grpc-js stream"), kib(held?.heapPerSession), {
          goal: goals.atMostReferencePlus(8, "≤ bare + 8 KiB"),
          note: notMeasured,
        }),
        row(
          `S4 ${count} vehicles: connector idle CPU`,
          grpc ? { value: grpc.idleCpuPct, unit: "% of a core", label: "bare grpc-js, same heartbeats" } : undefined,
          held && { value: held.idleCpuPct, unit: "% of a core", label: "heartbeats included" },
          { goal: goals.systemAtMost(10, "≤ 10 % of one core"), note: notMeasured },
        ),
      );
      if (n === largest) {
        progress(`S4: reconnect storm: killing the ${fleets.length} fleet processes at once and starting them again`);
        const dropped = monoMs();
        await Promise.all(fleets.map((f) => f.proc.kill()));
        fleets = startFleets(stack, connector, fleetParts, `s4-${n}-again`);
        const storm = await timeUntilOnline(fleets, connector, STORM_LIMIT_MS, dropped);
        progress(storm.shortOf ? `S4: storm: ${describe(storm)}` : `S4: all ${n} vehicles back online ${(storm.ms / 1000).toFixed(1)} s after the drop`);
        if (storm.shortOf) ctx.problems.push(`S4 storm: ${describe(storm)}`);
        rows.push(
          row(`S4 reconnect storm: ${count} vehicles dropped at once, time until all back`, secs(grpc?.openMs, "bare grpc-js streams"), secs(storm.ms, storm.shortOf ? "limit" : "fleet restart included")!, {
            goal: goals.systemAtMost(60, "≤ 60 s"),
            note: storm.shortOf ? describe(storm) : capped,
          }),
        );
      }
    } finally {
      await Promise.all(fleets.map((f) => f.proc.stop(20_000)));
      await connector.proc.stop(60_000);
    }
  }
  return rows;
}

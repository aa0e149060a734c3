/**
 * S5: fan-out. 1,000 watchers of one streaming command (ReadDataByID, 20 samples) over
 * Connect, then over the WebSocket bridge, all in the load generator. The command is queued
 * for an offline vehicle first, so every watcher is open (the gateway's watch_streams_active
 * says so) before the first chunk; then the vehicle comes online and the connector delivers
 * it. The rate runs from the first live event's arrival at any watcher to the last's.
 */
import { fleetIdentity } from "@sovd/platform";
import { progress } from "../log.js";
import { CpuWindow } from "../proc-stats.js";
import { waitFor } from "../stats.js";
import { readMetric, startFleet } from "../system/stack.js";
import { goals, row, type Figure, type Row } from "../table.js";
import type { CommandStack } from "./command-stack.js";
import { uniqueFirstIndex, type RunContext } from "./context.js";

const TRANSPORTS = [
  { id: "connect", kind: "connect", label: "Connect (WatchCommand over HTTP/1.1)" },
  { id: "ws", kind: "websocket", label: "WebSocket bridge" },
] as const;

export async function runS5(ctx: RunContext, stack: CommandStack): Promise<Row[]> {
  const { s5 } = ctx.plan;
  const connector = stack.connectors[0]!;
  const gatewayMetrics = `${stack.gateways[0]!.url}/metrics`;
  const firstIndex = uniqueFirstIndex(TRANSPORTS.length * s5.rounds);
  const count = TRANSPORTS.length * s5.rounds;
  // The vehicles must exist (known to the system) but be offline: register them once.
  progress(`S5: registering ${count} vehicles that will take the fan-out commands`);
  const register = startFleet(stack.stack, { name: "fleet-fanout-register", connector: connector.address, vehicles: count, firstIndex });
  await register.online(60_000);
  await register.proc.stop(15_000);
  const sessions = `http://127.0.0.1:${connector.httpPort}/metrics`;
  await waitFor("the registered vehicles to go offline", 30_000, async () => ((await readMetric(sessions, "vehicle_connections_active")) <= stack.vehicleIds.length ? true : undefined), 200);

  const rates: Record<string, number> = {};
  const notes: Record<string, string | undefined> = {};
  const busy: Record<string, string> = {};
  let n = 0;
  for (const t of TRANSPORTS) {
    let best = 0;
    for (let round = 0; round < s5.rounds; round++) {
      const index = firstIndex + n++;
      const commandId = await stack.loadgen.call("submitQueued", {
        vehicleId: fleetIdentity(index).vehicleId,
        commandName: "ReadDataByID",
        params: { dataId: "0xF40D", samples: s5.samples },
        queueTtlMs: 300_000,
      });
      progress(`S5: ${s5.watchers} ${t.id} watchers of command ${commandId.slice(0, 8)} (round ${round + 1} of ${s5.rounds})`);
      const base = await readMetric(gatewayMetrics, "watch_streams_active", `kind="${t.kind}"`).catch(() => 0);
      await stack.loadgen.call("openWatchers", { commandId, count: s5.watchers, transport: t.id, timeoutMs: 180_000 }, 200_000);
      await waitFor(`${s5.watchers} ${t.kind} watch streams`, 120_000, async () => ((await readMetric(gatewayMetrics, "watch_streams_active", `kind="${t.kind}"`)) >= base + s5.watchers ? true : undefined), 200);
      // CPU per delivered event, of the gateway and of the receiving client: on a shared machine a
      // process's share of a core says little, its CPU per event is what compares with the bare server's.
      const cpu = new CpuWindow({ gateway: () => [stack.gateways[0]!.proc.pid], client: () => [stack.loadgen.pid] });
      await cpu.start();
      const vehicle = startFleet(stack.stack, { name: `fleet-fanout-${n}`, connector: connector.address, vehicles: 1, firstIndex: index });
      try {
        const r = await stack.loadgen.call("awaitWatchers", { timeoutMs: 180_000 }, 200_000);
        const seconds = Math.max((r.lastAt - r.firstAt) / 1000, 1e-3);
        const rate = r.events / seconds;
        // The window also spans the vehicle's start-up, when the gateway only idles.
        const { cpuMs } = await cpu.stop();
        const perEvent = (ms: number | undefined): string => `${(((ms ?? NaN) * 1000) / r.events).toFixed(0)} µs`;
        progress(
          `S5: ${t.id}: ${r.events} events to ${r.done} watchers (${r.failed} failed) at ${rate.toFixed(0)} events/s; ` +
            `CPU during the run: gateway ${cpuMs.gateway?.toFixed(0)} ms, client ${cpuMs.client?.toFixed(0)} ms over ${(seconds * 1000).toFixed(0)} ms of events`,
        );
        if (r.failed > 0) notes[t.id] = `${r.failed} watchers failed`;
        if (rate > best) busy[t.id] = `CPU per event: gateway ${perEvent(cpuMs.gateway)}, client ${perEvent(cpuMs.client)}`;
        best = Math.max(best, rate);
      } finally {
        await vehicle.proc.stop(15_000);
      }
    }
    rates[t.id] = best;
  }

  const us = (v: number | undefined): string => `${(v ?? NaN).toFixed(1)} µs`;
  const p = ctx.refs.push;
  const push: Figure | undefined =
    p?.eventsPerSec === undefined ? undefined : { value: p.eventsPerSec, unit: "events/s", label: `bare HTTP/1.1 push; CPU per event: server ${us(p.serverCpuUs)}, receivers ${us(p.clientCpuUs)}` };
  const w = ctx.refs.ws;
  const ws: Figure | undefined = w ? { value: w.eventsPerSec, unit: "events/s", label: `bare ws broadcast; CPU per event: server ${us(w.serverCpuUs)}, receivers ${us(w.clientCpuUs)}` } : undefined;
  return [
    row(`S5 fan-out to ${s5.watchers} watchers, ${TRANSPORTS[0].label}`, push, { value: rates.connect!, unit: "events/s", label: busy.connect }, { goal: goals.ratioAtLeast(0.5), note: notes.connect }),
    row(`S5 fan-out to ${s5.watchers} watchers, ${TRANSPORTS[1].label}`, ws, { value: rates.ws!, unit: "events/s", label: busy.ws }, { goal: goals.ratioAtLeast(0.8), note: notes.ws }),
  ];
}

/**
 * Runs the bare push references: HTTP/1.1 streaming (one write to one client, then a burst
 * to 1,000 streams) and `ws` broadcast to 1,000 clients. Server and receivers are worker
 * processes of their own; a burst's rate runs from the first event's arrival to the last's,
 * the same cut as the system's fan-out (S5). Several rounds: the best is kept, as noise on
 * a shared machine only ever slows a round down.
 */
import { progress } from "../log.js";
import type { Plan } from "../plan.js";
import { CpuWindow } from "../proc-stats.js";
import { median, sleep } from "../stats.js";
import { prepareWorker } from "../worker/spawn-worker.js";
import type { References } from "./reference-figures.js";

/** Events each stream gets in a burst: as many as a 20-sample ReadDataByID gives a Connect watcher (in progress, 20 responses, completed). */
export const FANOUT_EVENTS = 22;

export async function measurePushLatency(plan: Plan): Promise<number> {
  const [serverProcess, clientProcess] = [prepareWorker(), prepareWorker()];
  const server = await serverProcess.start("push-server", undefined);
  const clients = await clientProcess.start("push-clients", { port: await server.call("port") });
  try {
    await clients.call("open", { streams: 1, measureHops: true });
    await server.call("paced", { count: 50, gapMs: 1 });
    await clients.call("reset");
    await server.call("paced", { count: plan.ref.samples, gapMs: 1 });
    await clients.call("waitEvents", { events: plan.ref.samples, timeoutMs: 30_000 });
    const p50Ms = median(await clients.call("hops"));
    progress(`reference HTTP/1.1 push: one write to one client p50 ${p50Ms.toFixed(3)} ms`);
    return p50Ms;
  } finally {
    await clients.close();
    await server.close();
  }
}

/** The best round's rate, and the CPU per delivered event over all rounds. */
export interface FanoutFigures {
  readonly eventsPerSec: number;
  readonly serverCpuUs: number;
  readonly clientCpuUs: number;
}

export async function measurePushFanout(plan: Plan, streams: number): Promise<FanoutFigures> {
  const [serverProcess, clientProcess] = [prepareWorker(), prepareWorker()];
  const server = await serverProcess.start("push-server", undefined);
  const clients = await clientProcess.start("push-clients", { port: await server.call("port") });
  try {
    await clients.call("open", { streams, measureHops: false });
    const cpu = new CpuWindow({ server: () => [server.pid], client: () => [clients.pid] });
    let best = 0;
    let cpuMs = { server: 0, client: 0 };
    for (let round = 0; round < plan.s5.rounds; round++) {
      await clients.call("reset");
      await cpu.start();
      await server.call("burst", { events: FANOUT_EVENTS });
      const r = await clients.call("waitEvents", { events: streams * FANOUT_EVENTS, timeoutMs: 60_000 });
      const used = (await cpu.stop()).cpuMs;
      cpuMs = { server: cpuMs.server + used.server!, client: cpuMs.client + used.client! };
      best = Math.max(best, r.events / Math.max((r.lastAt - r.firstAt) / 1000, 1e-3));
      await sleep(200);
    }
    const events = plan.s5.rounds * streams * FANOUT_EVENTS;
    const figures = { eventsPerSec: best, serverCpuUs: (cpuMs.server * 1000) / events, clientCpuUs: (cpuMs.client * 1000) / events };
    progress(`reference HTTP/1.1 push: ${best.toFixed(0)} events/s to ${streams} streams; CPU per event: server ${figures.serverCpuUs.toFixed(1)} µs, receivers ${figures.clientCpuUs.toFixed(1)} µs`);
    return figures;
  } finally {
    await clients.close();
    await server.close();
  }
}

export async function measureWsBroadcast(plan: Plan, clientCount: number): Promise<NonNullable<References["ws"]>> {
  const [serverProcess, clientProcess] = [prepareWorker(), prepareWorker()];
  const server = await serverProcess.start("ws-server", undefined);
  const clients = await clientProcess.start("ws-clients", { port: await server.call("port") });
  try {
    await clients.call("open", { clients: clientCount });
    const cpu = new CpuWindow({ server: () => [server.pid], client: () => [clients.pid] });
    let best = 0;
    let cpuMs = { server: 0, client: 0 };
    for (let round = 0; round < plan.s5.rounds; round++) {
      await clients.call("reset");
      await cpu.start();
      await server.call("burst", { events: FANOUT_EVENTS - 1 });
      const r = await clients.call("waitEvents", { events: clientCount * (FANOUT_EVENTS - 1), timeoutMs: 60_000 });
      const used = (await cpu.stop()).cpuMs;
      cpuMs = { server: cpuMs.server + used.server!, client: cpuMs.client + used.client! };
      best = Math.max(best, r.events / Math.max((r.lastAt - r.firstAt) / 1000, 1e-3));
      await sleep(200);
    }
    const events = plan.s5.rounds * clientCount * (FANOUT_EVENTS - 1);
    const serverCpuUs = (cpuMs.server * 1000) / events;
    const clientCpuUs = (cpuMs.client * 1000) / events;
    progress(`reference ws broadcast: ${best.toFixed(0)} events/s to ${clientCount} clients; CPU per event: server ${serverCpuUs.toFixed(1)} µs, receivers ${clientCpuUs.toFixed(1)} µs`);
    return { eventsPerSec: best, clients: clientCount, serverCpuUs, clientCpuUs };
  } finally {
    await clients.close();
    await server.close();
  }
}

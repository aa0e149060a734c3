/**
 * Runs the bare references of many idle connections: raw TCP sockets to a node:net server,
 * and grpc-js bidi streams each on its own client connection. The server is one worker
 * process; the clients are spread over several (5,000 each), dialling all at once as the
 * fleet does. Memory is the server's growth after a forced GC (through its inspector, as
 * for the connector), idle CPU the server's over a window with only heartbeats going.
 */
import { progress } from "../log.js";
import type { Plan } from "../plan.js";
import { CpuWindow, rssBytes } from "../proc-stats.js";
import { sleep } from "../stats.js";
import { heapAfterGc } from "../system/inspector.js";
import { prepareWorker } from "../worker/spawn-worker.js";
import type { References } from "./reference-figures.js";

/** The connector's default heartbeat interval (HEARTBEAT_INTERVAL_MS), which the bench leaves as deployed. */
const HEARTBEAT_INTERVAL_MS = 10_000;

const split = (total: number, per: number): number[] => {
  const parts = Math.max(1, Math.ceil(total / per));
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
};

export async function measureTcp(plan: Plan, count: number): Promise<NonNullable<References["tcp"]>[number]> {
  const clientProcesses = split(count, plan.s4.perFleetProcess).map(() => prepareWorker({ name: "tcp-clients" }));
  const server = await prepareWorker().start("tcp-server", undefined);
  const port = await server.call("port");
  const inspector = await server.call("inspectorUrl");
  const clients = await Promise.all(clientProcesses.map((p) => p.start("tcp-clients", { port })));
  try {
    await heapAfterGc(inspector);
    const rssBefore = rssBytes(server.pid)!;
    const parts = split(count, plan.s4.perFleetProcess);
    const opened = await Promise.all(clients.map((c, i) => c.call("open", { count: parts[i]!, timeoutMs: 120_000 })));
    const connectMs = Math.max(...opened.map((o) => o.t1)) - Math.min(...opened.map((o) => o.t0));
    await sleep(1000);
    await heapAfterGc(inspector);
    const rssPerSocket = (rssBytes(server.pid)! - rssBefore) / count;
    progress(`reference raw TCP: ${count} connections in ${connectMs.toFixed(0)} ms, ${(rssPerSocket / 1024).toFixed(2)} KiB RSS per socket`);
    return { connectMs, rssPerSocket };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  }
}

export async function measureGrpcIdle(plan: Plan, count: number): Promise<NonNullable<References["grpcIdle"]>[number]> {
  const parts = split(count, plan.s4.perFleetProcess);
  const clientProcesses = parts.map(() => prepareWorker({ name: "grpc-idle-clients" }));
  const server = await prepareWorker().start("grpc-idle-server", undefined);
  const address = `127.0.0.1:${await server.call("port")}`;
  const inspector = await server.call("inspectorUrl");
  const clients = await Promise.all(clientProcesses.map((p) => p.start("grpc-idle-clients", { address })));
  try {
    const heapBefore = await heapAfterGc(inspector);
    const rssBefore = rssBytes(server.pid)!;
    const opened = await Promise.all(clients.map((c, i) => c.call("open", { count: parts[i]!, timeoutMs: 180_000, heartbeatMs: HEARTBEAT_INTERVAL_MS })));
    const openMs = Math.max(...opened.map((o) => o.t1)) - Math.min(...opened.map((o) => o.t0));
    await sleep(2000);
    const cpu = new CpuWindow({ server: () => [server.pid] });
    await cpu.start();
    await sleep(plan.s4.idleMs);
    const idle = await cpu.stop();
    const heapPerStream = ((await heapAfterGc(inspector)) - heapBefore) / count;
    const rssPerStream = (rssBytes(server.pid)! - rssBefore) / count;
    const idleCpuPct = (idle.cpuMs.server! / idle.wallMs) * 100;
    progress(
      `reference grpc-js idle streams: ${count} open in ${openMs.toFixed(0)} ms, ${(rssPerStream / 1024).toFixed(2)} KiB RSS and ` +
        `${(heapPerStream / 1024).toFixed(2)} KiB heap per stream, idle CPU (heartbeats only) ${idleCpuPct.toFixed(2)} % of one core`,
    );
    return { openMs, rssPerStream, heapPerStream, idleCpuPct };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  }
}

/**
 * Runs the bare references of the command path's hops, each side in a worker process of its
 * own: Connect unary, grpc-js bidi, PostgreSQL inserts and a NATS hop. Latency first (one at
 * a time), then throughput, with the CPU of each side read from /proc over the throughput run.
 */
import { randomBytes } from "node:crypto";
import { progress } from "../log.js";
import type { Plan } from "../plan.js";
import { CpuWindow } from "../proc-stats.js";
import { median, sleep } from "../stats.js";
import { prepareWorker, spawnWorker } from "../worker/spawn-worker.js";
import type { References } from "./reference-figures.js";

const us = (cpuMs: number, ops: number): number => (ops > 0 ? (cpuMs * 1000) / ops : NaN);

export async function measureConnect(plan: Plan): Promise<NonNullable<References["connect"]>> {
  const [serverProcess, clientProcess] = [prepareWorker(), prepareWorker()];
  const server = await serverProcess.start("connect-server", undefined);
  const client = await clientProcess.start("connect-client", { url: `http://127.0.0.1:${await server.call("port")}` });
  try {
    const samples = await client.call("latency", { count: plan.ref.samples, warmup: 100 });
    const cpu = new CpuWindow({ server: () => [server.pid], client: () => [client.pid] });
    await cpu.start();
    const run = await client.call("throughput", { inFlight: 16, warmupMs: plan.ref.warmupMs, durationMs: plan.ref.windowMs });
    const { cpuMs } = await cpu.stop();
    if (run.errors > 0) throw new Error(`Connect reference: ${run.errors} calls failed (${run.firstError})`);
    const r = { p50Ms: median(samples), callsPerSec: run.ops / run.seconds, serverCpuUs: us(cpuMs.server!, run.totalOps), clientCpuUs: us(cpuMs.client!, run.totalOps) };
    progress(`reference Connect unary: p50 ${r.p50Ms.toFixed(3)} ms, ${r.callsPerSec.toFixed(0)} calls/s at 16 in flight`);
    return r;
  } finally {
    await client.close();
    await server.close();
  }
}

export async function measureGrpc(plan: Plan): Promise<NonNullable<References["grpc"]>> {
  const [serverProcess, clientProcess] = [prepareWorker(), prepareWorker()];
  const server = await serverProcess.start("grpc-server", undefined);
  const client = await clientProcess.start("grpc-client", { address: `127.0.0.1:${await server.call("port")}` });
  try {
    const samples = await client.call("latency", { count: plan.ref.samples, warmup: 100 });
    await client.call("oneWay", { streams: 16, durationMs: plan.ref.warmupMs });
    const cpu = new CpuWindow({ server: () => [server.pid], client: () => [client.pid] });
    await cpu.start();
    const run = await client.call("oneWay", { streams: 16, durationMs: plan.ref.windowMs });
    const { cpuMs } = await cpu.stop();
    const r = { p50Ms: median(samples), msgsPerSec: run.messages / run.seconds, serverCpuUs: us(cpuMs.server!, run.messages), clientCpuUs: us(cpuMs.client!, run.messages) };
    progress(`reference grpc-js: ping-pong p50 ${r.p50Ms.toFixed(3)} ms, ${r.msgsPerSec.toFixed(0)} one-way msgs/s over 16 streams`);
    return r;
  } finally {
    await client.close();
    await server.close();
  }
}

export async function measurePg(plan: Plan, databaseUrl: string): Promise<NonNullable<References["pg"]>> {
  const client = await spawnWorker("pg-insert", { url: databaseUrl });
  try {
    const synchronousCommit = await client.call("synchronousCommit");
    const samples = await client.call("latency", { count: plan.ref.samples, warmup: 50 });
    const backends = await client.call("open", { clients: 8 });
    const cpu = new CpuWindow({ backends: () => backends, client: () => [client.pid] });
    await cpu.start();
    const run = await client.call("throughput", { warmupMs: plan.ref.warmupMs, durationMs: plan.ref.windowMs });
    const { cpuMs } = await cpu.stop();
    if (run.errors > 0) throw new Error(`PostgreSQL reference: ${run.errors} inserts failed (${run.firstError})`);
    const r = {
      p50Ms: median(samples),
      rowsPerSec: run.ops / run.seconds,
      backendCpuUs: us(cpuMs.backends!, run.totalOps),
      clientCpuUs: us(cpuMs.client!, run.totalOps),
      synchronousCommit,
    };
    progress(`reference PostgreSQL: INSERT p50 ${r.p50Ms.toFixed(3)} ms, ${r.rowsPerSec.toFixed(0)} rows/s from 8 clients (synchronous_commit=${synchronousCommit})`);
    return r;
  } finally {
    await client.close();
  }
}

export async function measureNats(plan: Plan, natsUrl: string): Promise<NonNullable<References["nats"]>> {
  const subject = `bench.reference.${randomBytes(6).toString("hex")}`;
  const [sub, pub] = await Promise.all([spawnWorker("nats-sub", { url: natsUrl, subject }), spawnWorker("nats-pub", { url: natsUrl, subject })]);
  try {
    await pub.call("paced", { count: plan.ref.samples, gapMs: 1 });
    await sub.call("waitCount", { n: plan.ref.samples, timeoutMs: 30_000 });
    const hops = await sub.call("hops");
    await sub.call("reset");
    await sleep(100);
    const n = plan.ref.natsBurst;
    const cpu = new CpuWindow({ pub: () => [pub.pid], sub: () => [sub.pid] });
    await cpu.start();
    const t0 = await pub.call("burst", { count: n });
    const { lastAt } = await sub.call("waitCount", { n, timeoutMs: 120_000 });
    const { cpuMs } = await cpu.stop();
    const r = { p50Ms: median(hops), msgsPerSec: n / ((lastAt - t0) / 1000), pubCpuUs: us(cpuMs.pub!, n), subCpuUs: us(cpuMs.sub!, n) };
    progress(`reference NATS: hop p50 ${r.p50Ms.toFixed(3)} ms, ${r.msgsPerSec.toFixed(0)} msgs/s`);
    return r;
  } finally {
    await pub.close();
    await sub.close();
  }
}

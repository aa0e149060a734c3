/**
 * S2e: S2's load against the embedded all-in-one (`npm start`): gateway, connector and a
 * fleet in one process on PGlite and the in-process bus, data in a directory of the run.
 * Compared with S2's separate processes on the real servers.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fleetIdentity } from "@sovd/platform";
import { progress } from "../log.js";
import { freePort } from "../system/free-port.js";
import { spawnService } from "../system/service-process.js";
import { baseEnv, waitReady, waitSessions } from "../system/stack.js";
import { goals, row, type Row } from "../table.js";
import { spawnWorker } from "../worker/spawn-worker.js";
import { ENGINEER } from "./command-stack.js";
import { measureCommandRun } from "./command-run.js";
import type { RunContext } from "./context.js";

export async function runS2e(ctx: RunContext): Promise<Row[]> {
  const { plan } = ctx;
  const dataDir = join(ctx.runDir, "all-in-one-data");
  // An empty web app directory: the all-in-one would otherwise build the web app first.
  const webDist = join(ctx.runDir, "all-in-one-web");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(webDist, { recursive: true });
  const [gatewayPort, grpcPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  progress(`S2e: starting the embedded all-in-one (npm start) with ${plan.vehicles} vehicles`);
  const proc = spawnService({
    name: "all-in-one",
    script: "start",
    args: ["--vehicles", String(plan.vehicles)],
    env: {
      ...baseEnv(undefined),
      DATA_DIR: dataDir,
      WEB_DIST_DIR: webDist,
      GATEWAY_PORT: String(gatewayPort),
      CONNECTOR_GRPC_PORT: String(grpcPort),
      CONNECTOR_HTTP_PORT: String(httpPort),
    },
    nodeFlags: ctx.nodeFlags,
    logDir: ctx.runDir,
  });
  try {
    const url = `http://127.0.0.1:${gatewayPort}`;
    await waitReady(proc, `${url}/health/ready`, 180_000);
    await waitSessions({ proc, address: `127.0.0.1:${grpcPort}`, grpcPort, httpPort }, plan.vehicles, 120_000);
    const loadgen = await spawnWorker("loadgen", { gateways: [url], ...ENGINEER }, { name: "loadgen-embedded" });
    try {
      progress(`S2e: ReadDTC at ${plan.s2.inFlight} in flight, ${plan.s2.windowMs / 1000} s window`);
      const vehicleIds = Array.from({ length: plan.vehicles }, (_, i) => fleetIdentity(i).vehicleId);
      const r = await measureCommandRun(
        loadgen,
        { vehicleIds, inFlight: plan.s2.inFlight, commandName: "ReadDTC" },
        { warmupMs: plan.s2.warmupMs, windowMs: plan.s2.windowMs, cpu: { allInOne: () => [proc.pid] }, logs: { allInOne: proc } },
      );
      const cpuUs = ((r.cpuMs.allInOne ?? NaN) * 1000) / r.completed;
      progress(`S2e: ${r.commandsPerSec.toFixed(1)} commands/s, ${r.run.failed} failed, ${cpuUs.toFixed(0)} µs CPU per command`);
      const s2 = ctx.shared.s2CommandsPerSec;
      const s2Cpu = ctx.shared.s2CpuUsPerCommand;
      const failures = r.run.failed > 0 ? `failures: ${Object.entries(r.run.failures).map(([k, v]) => `${v}× ${k}`).join("; ")}` : undefined;
      return [
        row(
          `S2e ReadDTC throughput, embedded all-in-one, ${plan.s2.inFlight} in flight`,
          s2 === undefined ? undefined : { value: s2, unit: "cmd/s", label: "S2, separate processes" },
          { value: r.commandsPerSec, unit: "cmd/s" },
          { goal: goals.ratioAtLeast(0.3, true), failed: r.run.failed, note: s2 === undefined ? "S2 not run: no ratio" : failures },
        ),
        row(
          "S2e CPU per command, the all-in-one process",
          s2Cpu === undefined ? undefined : { value: s2Cpu, unit: "µs", label: "S2 total" },
          { value: cpuUs, unit: "µs", label: `${((r.logLines.allInOne ?? NaN) / r.completed).toFixed(1)} log lines` },
        ),
      ];
    } finally {
      await loadgen.close();
    }
  } finally {
    await proc.stop(30_000);
  }
}

/**
 * `--gateway URL`: drive services that are already running (started by hand or elsewhere)
 * instead of starting any. Only what the public API shows can be measured then: S1's
 * latencies and S2's commands/s, against the fleet's vehicles `--first-index` ..
 * `--first-index + --vehicles - 1`; per-process costs need the bench's own processes.
 */
import { fleetIdentity } from "@sovd/platform";
import { progress } from "../log.js";
import { goals, row, type Row } from "../table.js";
import { spawnWorker } from "../worker/spawn-worker.js";
import { ENGINEER } from "./command-stack.js";
import { measureCommandRun } from "./command-run.js";
import type { RunContext } from "./context.js";
import { bottleneck } from "./reference-models.js";
import { runS1 } from "./s1-latency.js";

export async function runExternal(ctx: RunContext, gatewayUrl: string): Promise<Row[]> {
  const { plan } = ctx;
  progress(`driving the running gateway at ${gatewayUrl}, vehicles ${plan.firstIndex} .. ${plan.firstIndex + plan.vehicles - 1}`);
  const loadgen = await spawnWorker("loadgen", { gateways: [gatewayUrl], ...ENGINEER }, { name: "loadgen" });
  const vehicleIds = Array.from({ length: plan.vehicles }, (_, i) => fleetIdentity(plan.firstIndex + i).vehicleId);
  const rows: Row[] = [];
  try {
    if (plan.scenarios.has("S1")) rows.push(...(await runS1(ctx, { loadgen, vehicleIds })));
    if (plan.scenarios.has("S2")) {
      progress(`S2: ReadDTC at ${plan.s2.inFlight} in flight, ${plan.s2.windowMs / 1000} s window`);
      const r = await measureCommandRun(loadgen, { vehicleIds, inFlight: plan.s2.inFlight, commandName: "ReadDTC" }, plan.s2);
      rows.push(
        row(`S2 ReadDTC throughput, ${plan.s2.inFlight} in flight (running services)`, bottleneck(ctx.refs), { value: r.commandsPerSec, unit: "cmd/s" }, {
          goal: goals.ratioAtLeast(0.5, true),
          failed: r.run.failed,
          note: "per-process costs not measured with --gateway",
        }),
      );
    }
  } finally {
    await loadgen.close();
  }
  return rows;
}

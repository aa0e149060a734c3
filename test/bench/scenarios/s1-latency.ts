/**
 * S1: ReadDTC latency, submit -> final chunk at the watcher (the same client watches what
 * it submitted, as the web app does), with 1 and then 16 commands in flight.
 */
import { progress } from "../log.js";
import { percentile } from "../stats.js";
import { goals, row, type Row } from "../table.js";
import type { CommandStack } from "./command-stack.js";
import { measureCommandRun } from "./command-run.js";
import type { RunContext } from "./context.js";
import { sumOfHops } from "./reference-models.js";

export async function runS1(ctx: RunContext, stack: Pick<CommandStack, "loadgen" | "vehicleIds">): Promise<Row[]> {
  const reference = sumOfHops(ctx.refs);
  const rows: Row[] = [];
  for (const inFlight of [1, 16]) {
    progress(`S1: ReadDTC latency, ${inFlight} in flight, ${ctx.plan.s1.windowMs / 1000} s`);
    const r = await measureCommandRun(stack.loadgen, { vehicleIds: stack.vehicleIds, inFlight, commandName: "ReadDTC" }, ctx.plan.s1);
    const p50 = percentile(r.latencies, 50);
    const p99 = percentile(r.latencies, 99);
    progress(`S1: ${inFlight} in flight: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over ${r.latencies.length} commands, ${r.run.failed} failed`);
    const note = r.run.failed > 0 ? `${r.run.failed} failed: ${Object.keys(r.run.failures).join("; ")}` : undefined;
    const fig = (v: number) => ({ value: v, unit: "ms", label: `${r.latencies.length} cmds` });
    if (inFlight === 1) {
      rows.push(row("S1 ReadDTC submit→final chunk, 1 in flight, p50", reference, fig(p50), { goal: goals.ratioAtMost(2), note }));
      rows.push(row("S1 ReadDTC submit→final chunk, 1 in flight, p99", reference, fig(p99), { goal: goals.ratioAtMost(4), note }));
    } else {
      rows.push(row("S1 ReadDTC submit→final chunk, 16 in flight, p50", reference, fig(p50), { goal: goals.ratioAtMost(4), note }));
      rows.push(row("S1 ReadDTC submit→final chunk, 16 in flight, p99", reference, fig(p99), { note }));
    }
  }
  return rows;
}

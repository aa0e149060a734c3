/**
 * Multi-instance: the same ReadDTC load (S2's in-flight count) against one gateway and one
 * connector, then against two of each on the same PostgreSQL and NATS, each connector with
 * a fleet of its own and the load generator's loops taking the two gateways in turn.
 */
import { progress } from "../log.js";
import { goals, row, type Row } from "../table.js";
import type { CommandStack } from "./command-stack.js";
import { measureCommandRun } from "./command-run.js";
import type { RunContext } from "./context.js";

export async function runMulti(ctx: RunContext, stack: CommandStack): Promise<Row[]> {
  const { s2, vehicles } = ctx.plan;
  const window = { warmupMs: s2.warmupMs, windowMs: s2.windowMs };
  progress(`multi-instance: one gateway + one connector, ${s2.inFlight} in flight`);
  const one = await measureCommandRun(stack.loadgen, { vehicleIds: [...stack.vehicleIds], inFlight: s2.inFlight, commandName: "ReadDTC" }, window);
  await stack.addInstance(vehicles);
  const loadgen = await stack.loadgenForAll();
  progress(`multi-instance: two gateways + two connectors, ${s2.inFlight} in flight`);
  const two = await measureCommandRun(loadgen, { vehicleIds: [...stack.vehicleIds], inFlight: s2.inFlight, commandName: "ReadDTC" }, window);
  progress(`multi-instance: ${one.commandsPerSec.toFixed(1)} -> ${two.commandsPerSec.toFixed(1)} commands/s (${one.run.failed} / ${two.run.failed} failed)`);
  return [
    row(
      `multi-instance: 2 gateways + 2 connectors, ReadDTC, ${s2.inFlight} in flight`,
      { value: one.commandsPerSec, unit: "cmd/s", label: `1 + 1, ${one.run.failed} failed` },
      { value: two.commandsPerSec, unit: "cmd/s" },
      { goal: goals.ratioAbove(1), failed: two.run.failed },
    ),
  ];
}

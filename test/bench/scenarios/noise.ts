/**
 * The noise floor of this run: two references measured a second time, after the command
 * scenarios. On a quiet machine the ratios are 1; how far they are from 1 says how much of
 * any other ratio of the same run may be the machine rather than the system.
 */
import type { Plan } from "../plan.js";
import { measureConnect, measureGrpc } from "../references/measure-hops.js";
import type { References } from "../references/reference-figures.js";
import { row, type Row } from "../table.js";

export async function runNoise(plan: Plan, refs: References): Promise<Row[]> {
  const connect = await measureConnect(plan);
  const grpc = await measureGrpc(plan);
  const first = (value: number | undefined, unit: string) => (value === undefined ? undefined : { value, unit, label: "first" });
  return [
    row("noise: Connect unary p50, measured again", first(refs.connect?.p50Ms, "ms"), { value: connect.p50Ms, unit: "ms", label: "again" }),
    row("noise: Connect unary calls/s, measured again", first(refs.connect?.callsPerSec, "calls/s"), { value: connect.callsPerSec, unit: "calls/s", label: "again" }),
    row("noise: grpc-js ping-pong p50, measured again", first(refs.grpc?.p50Ms, "ms"), { value: grpc.p50Ms, unit: "ms", label: "again" }),
  ];
}

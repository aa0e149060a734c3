/**
 * The soak: a steady moderate rate of commands, each with its watchers, for `soakMs`; the
 * RSS of every service sampled throughout and printed as a trend. Every command completes
 * and memory is flat: the last quarter's mean RSS is within bounds of the second quarter's
 * (the first quarter is warm-up).
 */
import { progress } from "../bench/log.js";
import { sleep } from "../bench/stats.js";
import type { FaultContext } from "./faults.js";
import { checkInvariants, emptyRow, judge, type FaultRow } from "./verdict.js";

export interface RssTrend {
  readonly service: string;
  /** MiB at each sample. */
  readonly samples: number[];
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

/** Flat: the last quarter's mean at most 15 % and 32 MiB above the second quarter's. */
function growthMiB(samples: readonly number[]): number {
  const q = Math.max(1, Math.floor(samples.length / 4));
  return mean(samples.slice(-q)) - mean(samples.slice(q, 2 * q));
}

export async function soak(ctx: FaultContext): Promise<{ row: FaultRow; trends: RssTrend[] }> {
  const { plan, topo, load } = ctx;
  const name = `soak ${(plan.soakMs / 60_000).toFixed(1)} min at ${plan.soakPerSecond} commands/s with watchers`;
  progress(`fault: ${name}`);
  const row = emptyRow(name);
  const exitsBefore = topo.unexpectedExits.length;
  const trends = new Map<string, number[]>();
  const sample = (): void => {
    for (const [k, v] of Object.entries(topo.rss())) {
      const base = k.replace(/\.\d+$/, "");
      if (!trends.has(base)) trends.set(base, []);
      trends.get(base)!.push(v / 2 ** 20);
    }
  };
  const from = load.records.length;
  load.start({ vehicleIds: topo.vehicleIds, inFlight: 0, perSecond: plan.soakPerSecond, maxMs: plan.soakMs });
  const samples = Math.max(8, Math.floor(plan.soakMs / plan.rssSampleMs));
  for (let i = 0; i < samples; i++) {
    sample();
    await sleep(plan.soakMs / samples);
  }
  sample();
  await load.stop();
  await judge(row, load.since(from), topo.db, plan.sweepIntervalMs, plan.commandTimeoutMs + 10_000);
  row.exits = topo.unexpectedExits.length - exitsBefore;
  const errors = row.commands - row.completed;
  if (errors) row.problems.push(`${errors} of ${row.commands} commands did not complete`);
  // Under 20 s the warm-up is most of the run: the trend is printed, not judged.
  const judgeMemory = plan.soakMs >= 20_000;
  if (!judgeMemory) row.notes.push("memory trend not judged: soak shorter than 20 s");
  const out: RssTrend[] = [...trends.entries()].map(([service, s]) => ({ service, samples: s }));
  for (const t of out) {
    const g = growthMiB(t.samples);
    const base = mean(t.samples.slice(Math.floor(t.samples.length / 4), Math.floor(t.samples.length / 2)) || t.samples);
    row.notes.push(`${t.service} RSS ${t.samples[0]!.toFixed(0)} -> ${t.samples.at(-1)!.toFixed(0)} MiB (${g >= 0 ? "+" : ""}${g.toFixed(1)} after warm-up)`);
    if (judgeMemory && g > Math.max(32, 0.15 * base)) row.problems.push(`${t.service} memory grew ${g.toFixed(0)} MiB after warm-up`);
  }
  row.recoveryMs = undefined;
  return { row: checkInvariants(row), trends: out };
}

/** A one-line sparkline per service, with first / min / max / last MiB. */
export function formatTrends(trends: readonly RssTrend[]): string {
  const bars = "▁▂▃▄▅▆▇█";
  return trends
    .map((t) => {
      const min = Math.min(...t.samples);
      const max = Math.max(...t.samples);
      const line = t.samples.map((s) => bars[max === min ? 0 : Math.round(((s - min) / (max - min)) * (bars.length - 1))]).join("");
      return `  ${t.service.padEnd(12)} ${line}  first ${t.samples[0]!.toFixed(0)}, min ${min.toFixed(0)}, max ${max.toFixed(0)}, last ${t.samples.at(-1)!.toFixed(0)} MiB`;
    })
    .join("\n");
}

/**
 * One measured run of commands: the load generator keeps `inFlight` commands going, the
 * first `warmupMs` are not counted, then a window of `windowMs` is cut out of the run by
 * two marks. Over that window the CPU of the given processes (sampled each second, so
 * PostgreSQL backends that come and go are counted) and the log lines of the given
 * services are taken.
 */
import type { CommandRun, RunResult } from "../load/loadgen.js";
import { CpuWindow, type PidSource } from "../proc-stats.js";
import { sleep } from "../stats.js";
import type { ServiceProcess } from "../system/service-process.js";
import type { Loadgen } from "./command-stack.js";

export interface WindowResult {
  readonly commandsPerSec: number;
  /** Commands completed inside the window. */
  readonly completed: number;
  readonly windowSec: number;
  /** Submit -> final chunk of the commands that completed inside the window, ms. */
  readonly latencies: number[];
  /** The whole run, warm-up and drain included (failures are counted over all of it). */
  readonly run: RunResult;
  readonly cpuMs: Record<string, number>;
  readonly logLines: Record<string, number>;
  /** The run's marks (monotonic ms): window start and end. */
  readonly windowStart: number;
  readonly windowEnd: number;
}

export async function measureCommandRun(
  loadgen: Loadgen,
  run: Omit<CommandRun, "maxCommands" | "maxMs">,
  opts: {
    warmupMs: number;
    windowMs: number;
    cpu?: Record<string, PidSource>;
    logs?: Record<string, ServiceProcess>;
    /** Called at the window's marks (e.g. to count stored rows). */
    atMark?: (which: "start" | "end") => Promise<void>;
  },
): Promise<WindowResult> {
  const cpu = new CpuWindow(opts.cpu ?? {});
  const lines = (): Record<string, number> => Object.fromEntries(Object.entries(opts.logs ?? {}).map(([k, p]) => [k, p.logLines()]));
  await loadgen.call("start", { ...run, maxCommands: 10_000_000, maxMs: opts.warmupMs + opts.windowMs + 60_000 });
  const stop = (): Promise<RunResult> => loadgen.call("stop", { timeoutMs: 90_000 }, 120_000);
  let measured;
  try {
    await sleep(opts.warmupMs);
    await opts.atMark?.("start");
    const a = await loadgen.call("mark");
    const linesA = lines();
    await cpu.start();
    const sampler = setInterval(() => void cpu.sample(), 1000);
    try {
      await sleep(opts.windowMs);
    } finally {
      clearInterval(sampler);
    }
    const b = await loadgen.call("mark");
    const { cpuMs } = await cpu.stop();
    const linesB = lines();
    await opts.atMark?.("end");
    measured = { a, b, cpuMs, logLines: Object.fromEntries(Object.keys(linesB).map((k) => [k, linesB[k]! - linesA[k]!])) };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const result = await stop();
  const { a, b } = measured;
  const windowSec = (b.t - a.t) / 1000;
  const completed = b.completed - a.completed;
  return {
    commandsPerSec: completed / windowSec,
    completed,
    windowSec,
    latencies: result.samples.filter(([end]) => end >= a.t && end <= b.t).map(([, ms]) => ms),
    run: result,
    cpuMs: measured.cpuMs,
    logLines: measured.logLines,
    windowStart: a.t,
    windowEnd: b.t,
  };
}

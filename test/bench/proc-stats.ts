/**
 * CPU time and memory of processes, read from /proc (Linux). The bench measures every
 * process from outside, the same way for a bare reference server, a service and a
 * PostgreSQL backend, so no service needs code of ours to be measured.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of utime/stime (getconf CLK_TCK; 100 on every common kernel). */
const CLK_TCK = ((): number => {
  const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const n = Number(out.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

interface ProcStat {
  readonly ppid: number;
  /** utime + stime in clock ticks. */
  readonly ticks: number;
  /** Start time in clock ticks after boot. */
  readonly startTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime 15, starttime 22.
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), startTicks: Number(fields[19]) };
}

/** CPU time (user + system) a process has used so far, in milliseconds; undefined once it is gone. */
export function cpuMs(pid: number): number | undefined {
  const s = readStat(pid);
  return s === undefined ? undefined : (s.ticks * 1000) / CLK_TCK;
}

/** Resident set size in bytes (VmRSS); undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds since boot in clock ticks, the unit of a process's start time. */
function uptimeTicks(): number {
  return Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * CLK_TCK;
}

/** The process and all its descendants (a service started through a wrapper is measured whole). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(Number(name));
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0 && out.length < 10_000) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** A named set of processes whose CPU is accounted together (one service, or all PostgreSQL backends of the bench database). */
export type PidSource = () => number[] | Promise<number[]>;

/**
 * CPU used by groups of processes between start() and stop(). Processes may come and go in
 * between (PostgreSQL backends of a pool do): sample() remembers each one's last reading, a
 * process born during the window counts from zero, and one that exits counts up to its last
 * sample. Sample about once a second for processes that may exit.
 */
export class CpuWindow {
  private readonly baseline = new Map<string, Map<number, number>>();
  private readonly last = new Map<string, Map<number, number>>();
  private startTicks = 0;
  private startedAt = 0;

  constructor(private readonly groups: Readonly<Record<string, PidSource>>) {}

  async start(): Promise<void> {
    this.startTicks = uptimeTicks();
    this.startedAt = performance.now();
    this.baseline.clear();
    this.last.clear();
    await this.sample();
  }

  async sample(): Promise<void> {
    for (const [group, source] of Object.entries(this.groups)) {
      const base = this.baseline.get(group) ?? new Map<number, number>();
      const last = this.last.get(group) ?? new Map<number, number>();
      this.baseline.set(group, base);
      this.last.set(group, last);
      let pids: number[];
      try {
        pids = await source();
      } catch {
        continue;
      }
      for (const pid of pids) {
        const s = readStat(pid);
        if (!s) continue;
        if (!base.has(pid)) base.set(pid, s.startTicks > this.startTicks ? 0 : s.ticks);
        last.set(pid, s.ticks);
      }
    }
  }

  /** CPU milliseconds per group, and the wall-clock length of the window. */
  async stop(): Promise<{ cpuMs: Record<string, number>; wallMs: number }> {
    await this.sample();
    const out: Record<string, number> = {};
    for (const group of Object.keys(this.groups)) {
      const base = this.baseline.get(group)!;
      let ticks = 0;
      for (const [pid, t] of this.last.get(group)!) ticks += t - (base.get(pid) ?? t);
      out[group] = (ticks * 1000) / CLK_TCK;
    }
    return { cpuMs: out, wallMs: performance.now() - this.startedAt };
  }
}

/**
 * One service as deployed: its own node process running the entry file of its npm script
 * through tsx, exactly what the container image runs (`node --import tsx <entry>`), with
 * nothing but environment variables and command-line flags to configure it. Its output
 * goes to a log file of the run; the bench counts its lines and watches for a few of them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { monoMs, sleep } from "../stats.js";
import { REPO_ROOT } from "../worker/spawn-worker.js";

/** The npm scripts the bench starts; each must read `tsx <entry file>`. */
export type ServiceScript = "gateway" | "connector" | "fleet" | "start";

/** The entry file of an npm script of the root package.json, so the bench follows the scripts as they are. */
export function scriptEntry(script: ServiceScript): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const m = /^tsx\s+(\S+)\s*$/.exec(pkg.scripts[script] ?? "");
  if (!m) throw new Error(`npm script "${script}" is not "tsx <file>" (${pkg.scripts[script]}); the bench cannot start it as its own process`);
  return m[1]!;
}

interface Line {
  readonly at: number;
  readonly text: string;
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Lines written to stdout and stderr so far. */
  logLines(): number;
  /** The first line matching `pattern` written at or after `since` (monotonic ms); rejects after timeoutMs or when the process exits. */
  waitForLine(pattern: RegExp, timeoutMs: number, since?: number): Promise<Line>;
  /** The last lines, for error messages. */
  tail(n?: number): string;
  readonly exited: boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now: a crash, as the reconnect storm wants. */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
const spawned: Array<{ readonly pid: number; readonly name: string }> = [];

/** Every service process the run started, by pid (to name CPU profiles). */
export function spawnedServices(): ReadonlyArray<{ readonly pid: number; readonly name: string }> {
  return spawned;
}

/** Kills every service still running (the orchestrator is exiting). */
export function killAllServices(): void {
  for (const child of live) child.kill("SIGKILL");
}

/** Lines remembered for waitForLine; older ones are dropped. */
const HISTORY = 5000;

/**
 * A minimal environment (PATH and HOME) plus `env`: the services see exactly the variables
 * the bench chose, never stray ones of the shell it was started from.
 */
export function spawnService(opts: {
  name: string;
  script: ServiceScript;
  args?: readonly string[];
  env: Record<string, string>;
  nodeFlags?: readonly string[];
  logDir: string;
}): ServiceProcess {
  const entry = scriptEntry(opts.script);
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), "--import", "tsx", entry, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...opts.env },
  });
  live.add(child);
  spawned.push({ pid: child.pid!, name: opts.name });
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const out: WriteStream = createWriteStream(logFile);
  let lines = 0;
  const history: Line[] = [];
  const waiters = new Set<{ pattern: RegExp; since: number; resolve: (l: Line) => void }>();
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const onChunk = (): ((chunk: Buffer) => void) => {
    let partial = "";
    return (chunk) => {
      out.write(chunk);
      const text = partial + chunk.toString("utf8");
      const parts = text.split("\n");
      partial = parts.pop()!;
      const at = monoMs();
      for (const t of parts) {
        lines++;
        const line = { at, text: t };
        history.push(line);
        if (history.length > HISTORY) history.splice(0, history.length - HISTORY);
        for (const w of waiters) {
          if (w.pattern.test(t)) {
            waiters.delete(w);
            w.resolve(line);
          }
        }
      }
    };
  };
  child.stdout!.on("data", onChunk());
  child.stderr!.on("data", onChunk());
  void exit.then(() => {
    exited = true;
    live.delete(child);
    out.end();
  });

  const proc: ServiceProcess = {
    name: opts.name,
    pid: child.pid!,
    logFile,
    logLines: () => lines,
    get exited() {
      return exited;
    },
    waitForLine(pattern, timeoutMs, since = 0) {
      const seen = history.find((l) => l.at >= since && pattern.test(l.text));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = {
          pattern,
          since,
          resolve: (l: Line) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${opts.name}: no line matching ${pattern} within ${timeoutMs} ms\n${proc.tail()}`));
        }, timeoutMs);
        waiters.add(w);
        void exit.then(() => {
          if (!waiters.delete(w)) return;
          clearTimeout(timer);
          reject(new Error(`${opts.name} exited (code ${child.exitCode}) before a line matching ${pattern}\n${proc.tail()}`));
        });
      });
    },
    tail(n = 15) {
      return history
        .slice(-n)
        .map((l) => `    ${opts.name}| ${l.text.slice(0, 300)}`)
        .join("\n");
    },
    async stop(graceMs = 30_000) {
      if (exited) return;
      child.kill("SIGTERM");
      const done = await Promise.race([exit.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) {
        child.kill("SIGKILL");
        await exit;
      }
    },
    async kill() {
      if (exited) return;
      child.kill("SIGKILL");
      await exit;
    },
  };
  return proc;
}

/** The orchestrator's side of a bench worker process (see protocol.ts). */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { progress } from "../log.js";
import type { ChildMessage, ParentMessage, RoleApi } from "./protocol.js";
import type { RoleName, RoleOf } from "./roles.js";

/** The repository root: workers and services run from there, as `npm run` does. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL("./worker-main.ts", import.meta.url));

type Api<R extends RoleName> = Awaited<ReturnType<RoleOf<R>>>;
type Arg<F> = F extends (arg: infer A) => unknown ? A : never;

/** The worker type of one role. */
export type WorkerOf<R extends RoleName> = Worker<Api<R>>;

/** A running worker with its role started. */
export interface Worker<A extends RoleApi> {
  readonly pid: number;
  readonly name: string;
  /** Calls one method of the role; rejects after `timeoutMs` (default 5 min). */
  call<K extends keyof A & string>(method: K, arg?: Arg<A[K]>, timeoutMs?: number): Promise<Awaited<ReturnType<A[K]>>>;
  /** Runs the role's `close` (if any), then ends the process (SIGKILL if it lingers). */
  close(): Promise<void>;
}

const live = new Set<{ kill(): void }>();

/** The inspector's own chatter (the idle references open theirs) is not progress. */
const INSPECTOR_CHATTER = /^(Debugger (listening|attached|ending)|For help, see: https:\/\/nodejs\.org)/;

function forwardStderr(stream: NodeJS.ReadableStream, name: string): void {
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) if (line !== "" && !INSPECTOR_CHATTER.test(line)) process.stderr.write(`${name}| ${line}\n`);
  });
}

/** Kills every worker still running (the orchestrator is exiting). */
export function killAllWorkers(): void {
  for (const w of live) w.kill();
}

export interface SpawnWorkerOptions {
  /** Shown in progress lines and errors. */
  readonly name?: string;
  /** Extra node flags, e.g. `--expose-gc`. */
  readonly nodeFlags?: readonly string[];
  /** How long the role may take to start. */
  readonly startTimeoutMs?: number;
}

/** Starts `role` in a new node process (TypeScript through tsx, like the services). */
export async function spawnWorker<R extends RoleName>(role: R, params: Parameters<RoleOf<R>>[0], opts: SpawnWorkerOptions = {}): Promise<Worker<Api<R>>> {
  const name = opts.name ?? role;
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), "--import", "tsx", WORKER_MAIN], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "inherit", "pipe", "ipc"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  forwardStderr(child.stderr!, name);
  const handle = { kill: () => child.kill("SIGKILL") };
  live.add(handle);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exit.then(() => {
    exited = true;
    live.delete(handle);
    for (const p of pending.values()) p.reject(new Error(`worker ${name} exited`));
    pending.clear();
  });

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${name} did not start in time`)), opts.startTimeoutMs ?? 60_000);
    child.on("message", (m: ChildMessage) => {
      if (m.kind === "hello") child.send({ kind: "init", role, params } satisfies ParentMessage);
      else if (m.kind === "ready") {
        clearTimeout(timer);
        resolve();
      } else if (m.kind === "progress") progress(`${name}: ${m.text}`);
      else if (m.kind === "error" && m.id === -1) {
        clearTimeout(timer);
        reject(new Error(`worker ${name} failed to start: ${m.message}`));
      } else if (m.kind === "result" || m.kind === "error") {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.kind === "result") p.resolve(m.value);
        else p.reject(new Error(`${name}: ${m.message}`));
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker ${name} exited before it was ready`));
    });
  });
  try {
    await ready;
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }

  const worker: Worker<Api<R>> = {
    pid: child.pid!,
    name,
    call(method, arg, timeoutMs = 300_000) {
      if (exited) return Promise.reject(new Error(`worker ${name} has exited`));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}.${method} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as never);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ kind: "call", id, method, arg } satisfies ParentMessage);
      });
    },
    async close() {
      if (exited) return;
      // A role without a close method answers "no method close": nothing to clean up.
      await worker.call("close" as never, undefined as never, 15_000).catch(() => undefined);
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
  return worker;
}

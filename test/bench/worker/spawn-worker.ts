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

function forwardStderr(stream: NodeJS.ReadableStream, name: () => string): void {
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) if (line !== "" && !INSPECTOR_CHATTER.test(line)) process.stderr.write(`${name()}| ${line}\n`);
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

/** A worker process that is starting (node and tsx take a while) and has no role yet. */
export interface PreparedWorker {
  /** Gives the process its role once it is up; resolves when the role has started. */
  start<R extends RoleName>(role: R, params: Parameters<RoleOf<R>>[0]): Promise<Worker<Api<R>>>;
}

/** Starts `role` in a new node process (TypeScript through tsx, like the services). */
export function spawnWorker<R extends RoleName>(role: R, params: Parameters<RoleOf<R>>[0], opts: SpawnWorkerOptions = {}): Promise<Worker<Api<R>>> {
  return prepareWorker({ name: role, ...opts }).start(role, params);
}

/**
 * Starts a node process now and gives it a role later, so the two sides of a reference
 * start up in parallel even when the client's parameters come from the started server.
 */
export function prepareWorker(opts: SpawnWorkerOptions = {}): PreparedWorker {
  let name = opts.name ?? "worker";
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), "--import", "tsx", WORKER_MAIN], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "inherit", "pipe", "ipc"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  forwardStderr(child.stderr!, () => name);
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
  let onReady: ((err?: Error) => void) | undefined;
  const hello = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${name} did not start in time`)), opts.startTimeoutMs ?? 60_000);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker ${name} exited before it was ready`));
    });
    child.on("message", (m: ChildMessage) => {
      if (m.kind === "hello") {
        clearTimeout(timer);
        resolve();
      } else if (m.kind === "ready") onReady?.();
      else if (m.kind === "progress") progress(`${name}: ${m.text}`);
      else if (m.kind === "error" && m.id === -1) onReady?.(new Error(`worker ${name} failed to start: ${m.message}`));
      else if (m.kind === "result" || m.kind === "error") {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.kind === "result") p.resolve(m.value);
        else p.reject(new Error(`${name}: ${m.message}`));
      }
    });
  });
  hello.catch(() => child.kill("SIGKILL"));

  return {
    async start<R extends RoleName>(role: R, params: Parameters<RoleOf<R>>[0]): Promise<Worker<Api<R>>> {
      name = opts.name ?? role;
      await hello;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker ${name} did not start its role in time`)), opts.startTimeoutMs ?? 60_000);
        void exit.then(() => reject(new Error(`worker ${name} exited while starting its role`)));
        onReady = (err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        child.send({ kind: "init", role, params } satisfies ParentMessage);
      }).catch((err: unknown) => {
        child.kill("SIGKILL");
        throw err;
      });
      return makeWorker<R>();
    },
  };

  function makeWorker<R extends RoleName>(): Worker<Api<R>> {
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
}
